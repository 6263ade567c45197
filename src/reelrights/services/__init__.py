"""Capability services. Importing this package registers every statement applier."""

from . import registry  # noqa: F401
from . import bundles  # noqa: F401
from . import consent  # noqa: F401
from . import licensing  # noqa: F401
from . import audit_challenge  # noqa: F401
from . import certificates  # noqa: F401
from . import runs  # noqa: F401
from . import provenance  # noqa: F401
from . import fund, revenue_import, statement_issue  # noqa: F401  (creative fund)
from . import disputes  # noqa: F401  (ownership disputes: one rights chain per asset)
from . import deployment  # noqa: F401  (registry.established)
