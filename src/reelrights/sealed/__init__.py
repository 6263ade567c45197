"""Sealed statements: private fields under a signed root (docs/sealed.md).

The pure rules live in :mod:`reelrights.core.sealed`; this package keeps bodies (the sealed body
store), erases them, discloses and reads them for entitled parties.
"""
