"""Compare stored projection rows with the rows a replay of the log produced.

Rows are matched by primary key and compared column by column, with binary values normalised
across drivers (``memoryview``/``bytearray`` as ``bytes``; both SQLite and psycopg give
integers as ``int`` and text as ``str``), so a home on either backend compares with a scratch
SQLite replay. Each difference names the
table, the row's key and the column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, LargeBinary, Table, select

from ..store.tables import log_entries
from .tables import LOG_ENTRY_COLUMNS, projection_tables

__all__ = ["Difference", "compare_projections", "compare_tables"]

_SHOW = 60  # characters of a value shown in a message


@dataclass(frozen=True)
class Difference:
    """One disagreement between a stored row and the log.

    ``column`` is None for a whole row: ``stored`` None means the log has a row the table lacks
    (missing), ``expected`` None a row the log never wrote (extra).
    """

    table: str
    key: tuple[Any, ...]
    column: str | None
    stored: Any
    expected: Any

    @property
    def kind(self) -> str:
        if self.column is not None:
            return "differs"
        return "missing" if self.stored is None else "extra"

    def describe(self) -> str:
        key = ", ".join(_show(k) for k in self.key)
        if self.kind == "missing":
            return f"{self.table} ({key}): row missing; the log has it"
        if self.kind == "extra":
            return f"{self.table} ({key}): extra row; no log entry wrote it"
        return (f"{self.table} ({key}) column {self.column}: stored {_show(self.stored)}, "
                f"the log says {_show(self.expected)}")

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "key": [_jsonable(k) for k in self.key],
                "column": self.column, "kind": self.kind,
                "stored": _jsonable(self.stored), "expected": _jsonable(self.expected)}


def compare_projections(stored: Connection, scratch: Connection) -> list[Difference]:
    """Every difference between the stored projection tables (and the entry columns of
    ``log_entries``) and those replayed into ``scratch``, table by table in key order."""
    out: list[Difference] = []
    for table in projection_tables():
        out.extend(compare_tables(stored, scratch, table))
    out.extend(compare_tables(stored, scratch, log_entries, LOG_ENTRY_COLUMNS))
    return out


def compare_tables(stored: Connection, scratch: Connection, table: Table,
                   columns: tuple[str, ...] | None = None) -> Iterator[Difference]:
    """The differences of one table, matched by primary key."""
    cols = [table.c[name] for name in columns] if columns else list(table.c)
    names = [c.name for c in cols]
    key_at = [names.index(c.name) for c in table.primary_key.columns]
    binary = [i for i, c in enumerate(cols) if isinstance(c.type, LargeBinary)]
    have = _rows(stored, cols, key_at, binary)
    want = _rows(scratch, cols, key_at, binary)
    if have == want:
        return
    for key in sorted(have.keys() | want.keys(), key=_sort_key):
        got, exp = have.get(key), want.get(key)
        if got == exp:
            continue
        if got is None:
            yield Difference(table.name, key, None, None, exp)
        elif exp is None:
            yield Difference(table.name, key, None, got, None)
        else:
            for name, g, e in zip(names, got, exp, strict=True):
                if g != e:
                    yield Difference(table.name, key, name, g, e)


def _rows(conn: Connection, cols: list[Column[Any]], key_at: list[int],
          binary: list[int]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Every row of the columns, keyed by primary key; binary cells as ``bytes`` (drivers differ:
    ``memoryview``, ``bytearray``). Other cells stay as the driver gives them, so a cell of the
    wrong type (SQLite keeps whatever it is given) differs from the replayed one and is shown."""
    rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    single = key_at[0] if len(key_at) == 1 else None
    for row in conn.execute(select(*cols)).all():
        if binary:
            cells = list(row)
            for i in binary:
                v = cells[i]
                if isinstance(v, (memoryview, bytearray)):
                    cells[i] = bytes(v)
            r = tuple(cells)
        else:
            r = tuple(row)
        rows[(r[single],) if single is not None else tuple(r[i] for i in key_at)] = r
    return rows


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, k) if isinstance(k, int) else (1, str(k)) for k in key)


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        text = value.hex()
        return text if len(text) <= _SHOW else text[:_SHOW] + "…"
    text = repr(value)
    return text if len(text) <= _SHOW else text[:_SHOW] + "…"


def _jsonable(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value
