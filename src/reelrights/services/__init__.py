"""Capability services: commands, appliers and read models.

Importing this package registers nothing: :mod:`reelrights.catalogue` names the modules that
define statement types and appliers.
"""
