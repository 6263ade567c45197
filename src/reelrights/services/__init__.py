"""Capability services. Importing this package registers every statement applier."""

from . import registry  # noqa: F401
from . import bundles  # noqa: F401
from . import consent  # noqa: F401
from . import licensing  # noqa: F401
