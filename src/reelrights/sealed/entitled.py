"""Who may read a sealed statement's private fields: the pure parts of the rule (docs/sealed.md,
"Who reads a sealed body"; the roles and the matrix: :mod:`reelrights.sealed.reads`).

* every party the statement names (:func:`named_parties`) sees every field: its signer, and
  each party id its public body names (a license's licensor, licensee and co-signing guilds; a
  statement's payee);
* a revenue report's rows are also shown row by row (:func:`row_paths`): a payee sees the rows
  of the productions she earns from (the fund's lines name her on them), and nothing else of it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ..core.ids import ID_PATTERNS

__all__ = ["ROW_RULES", "named_parties", "row_paths"]

_PARTY = re.compile(ID_PATTERNS["party"])

#: Types whose rows a payee may see alone: the row field and the row key naming the production.
ROW_RULES: dict[str, tuple[str, str]] = {"revenue.reported": ("rows", "production")}


def named_parties(actor: str, public_body: Mapping[str, Any]) -> set[str]:
    """The signer and every party id the public body names (top level, or in a list)."""
    out = {actor}
    for value in public_body.values():
        items: Iterable[Any] = value if isinstance(value, list) else (value,)
        out.update(v for v in items if type(v) is str and _PARTY.fullmatch(v))
    return out


def row_paths(type_: str, leaves: Sequence[tuple[str, Any]],
              payee_productions: Collection[str]) -> list[str]:
    """The row leaves (``(path, value)`` pairs) of a ``type_`` statement a payee earning from
    ``payee_productions`` may read alone."""
    rule = ROW_RULES.get(type_)
    if rule is None or not payee_productions:
        return []
    field, key = rule
    prefix = f"/body/{field}/"
    return [p for p, v in leaves if p.startswith(prefix) and isinstance(v, Mapping)
            and v.get(key) in payee_productions]
