"""Who may read a sealed statement's private fields: one pure rule (docs/sealed.md, "Who reads
a sealed body"), for the service's read route now and the visibility matrix later.

* every party the statement names sees every field: its signer, and each party id its public
  body names (a license's licensor, licensee and co-signing guilds; a statement's payee);
* a party the body was explicitly disclosed to sees the fields it was given;
* a revenue report's rows are also shown row by row: a payee sees the rows of the productions
  she earns from (the fund's lines name her on them), and nothing else of the report.

Nobody else sees anything: the answer is the set of leaf paths the requester may read, empty
when none.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ..core.ids import ID_PATTERNS

__all__ = ["ROW_RULES", "entitled_paths", "named_parties"]

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


def entitled_paths(requester: str, *, type_: str, actor: str, public_body: Mapping[str, Any],
                   leaves: Sequence[tuple[str, Any]],
                   disclosed: Mapping[str, Collection[str]] | None = None,
                   payee_productions: Collection[str] = ()) -> list[str]:
    """The paths of ``leaves`` (``(path, value)`` pairs, in order) ``requester`` may read."""
    paths = [path for path, _ in leaves]
    if requester in named_parties(actor, public_body):
        return paths
    given = set((disclosed or {}).get(requester, ()))
    out = [p for p in paths if p in given or "/".join(p.split("/")[:3]) in given]
    rule = ROW_RULES.get(type_)
    if rule is not None and payee_productions:
        field, key = rule
        prefix = f"/body/{field}/"
        out += [p for p, v in leaves if p.startswith(prefix) and p not in out
                and isinstance(v, Mapping) and v.get(key) in payee_productions]
    return [p for p in paths if p in out]
