"""Capability services. Importing this package registers every statement applier."""

from . import registry  # noqa: F401
