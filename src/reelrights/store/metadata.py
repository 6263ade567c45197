"""The one :class:`~sqlalchemy.MetaData` every table module adds its tables to.

``store/tables.py`` (the registry and the log) and the capability table modules
(``*_tables.py``) import it from here, so none of them imports another to find it; importing
:mod:`reelrights.store.tables` loads them all, and ``metadata`` then describes the whole schema
(what Alembic's migrations must build).
"""

from __future__ import annotations

from sqlalchemy import MetaData

__all__ = ["metadata"]

metadata = MetaData()
