"""How commands print: one contract for what they create, one table style for what they list.

**Created or changed.** A command that creates something (a party, a license, a run, a
certificate, a home...) or changes something already there (a co-signature, a revocation, a
decision) prints the thing's id and nothing else on standard output, so ``ID=$(reelrights ...)``
captures it; what a person reads beside it (log index, warnings) goes to standard error. With
``--json`` it prints one object whose ``id`` is that same id, with the command's other keys
beside it. For a change, the id is the thing changed (the license revoked, the dispute decided)
and ``statement`` is the id of the statement that changed it. :func:`created` prints both forms;
:func:`receipt_id` names the thing of a registry receipt, for commands and for
``statement submit`` alike.

**Listed.** ``--json`` prints a list of objects, each with its ``id``. The text form is a Rich
table that fits 80 columns without splitting an id: id columns never wrap, and a column naming
another entity shows its name above its id (:func:`ref`), wrapped to the id's width.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..ledger import Receipt

__all__ = ["Col", "created", "created_receipt", "emit_json", "json_option", "listing",
           "receipt_id", "ref", "table"]

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")

#: Statement types that change something already registered -> the detail naming that thing.
_SUBJECT = {"license.cosigned": "license", "license.revoked": "license",
            "consent.request.declined": "request",
            "consent.revoked": "consent", "performer.deceased": "performer",
            "audit.withdrawn": "challenge", "dispute.released": "dispute",
            "dispute.decided": "dispute", "production.uses": "production",
            "fund.terms": "license", "admission.requested": "party",
            "party.admitted": "party", "domain.reverified": "party",
            "domain.lapsed": "party"}


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def receipt_id(receipt: Receipt) -> str:
    """The id of what an accepted statement created or changed.

    The new thing's own id (party, work, license...); for a credit ``WORK/ROLE/PARTY`` and for a
    membership ``GUILD/MEMBER``; for a change, the thing changed; else the statement's id.
    """
    d = receipt.details
    if isinstance(d.get("id"), str):
        return d["id"]
    if receipt.type == "work.credited":
        return f"{d['work']}/{d['role']}/{d['party']}"
    if receipt.type == "guild.member":
        return f"{d['guild']}/{d['member']}"
    key = _SUBJECT.get(receipt.type)
    if key is not None and isinstance(d.get(key), str):
        return d[key]
    return receipt.statement_id or f"index:{receipt.index}"


def created(as_json: bool, ident: str, fields: Mapping[str, Any] | None = None,
            notes: Iterable[str] = ()) -> None:
    """Print what a command created or changed: ``ident`` alone on stdout and each of ``notes``
    on stderr, or (``--json``) one object ``{"id": ident, **fields}``."""
    fields = dict(fields or {})
    if fields.get("id", ident) != ident:
        raise ValueError(f"output of {ident}: its fields name another id {fields['id']!r}")
    fields.pop("id", None)
    if as_json:
        emit_json({"id": ident, **fields})
        return
    click.echo(ident)
    for line in notes:
        click.echo(line, err=True)


def created_receipt(as_json: bool, receipt: Receipt, extra: Mapping[str, Any] | None = None,
                    notes: Iterable[str] = ()) -> None:
    """:func:`created` for one registry receipt: its id, and its JSON (log index, statement id,
    log time, leaf hash, the service's details) with ``extra`` beside it."""
    created(as_json, receipt_id(receipt), {**receipt.to_json(), **(extra or {})}, notes)


# -- tables ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Col:
    """A table column. ``kind``: ``text`` wraps at spaces; ``id`` never wraps (identifiers,
    hashes); ``ref`` holds :func:`ref` cells, as wide as their ids; ``num`` is right-aligned."""

    header: str
    kind: str = "text"


def ref(name: str | None, ident: str | None) -> str:
    """A cell naming another entity: its name (or title) above its id."""
    if not ident:
        return name or ""
    return f"{name}\n{ident}" if name and name != ident else ident


def table(title: str, columns: Sequence[str | Col], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table on stdout, at most as wide as the terminal (80 columns when not one)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cols = [c if isinstance(c, Col) else Col(c, "id" if c == "id" else "text") for c in columns]
    cells = [["" if v is None else str(v) for v in r] for r in rows]
    t = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
              padding=(0, 1, 0, 0), title_justify="left")  # two spaces between columns
    for i, c in enumerate(cols):
        if c.kind == "id":
            widest = max([len(c.header), *(len(ln) for r in cells for ln in r[i].splitlines())])
            t.add_column(c.header, no_wrap=True, min_width=widest)
        elif c.kind == "ref":  # as wide as the ids on their last lines; names wrap above them
            widest = max([len(c.header), *(len(r[i].splitlines()[-1]) for r in cells if r[i])])
            t.add_column(c.header, width=widest, overflow="fold")
        elif c.kind == "num":
            t.add_column(c.header, justify="right", no_wrap=True)
        else:
            t.add_column(c.header, overflow="fold")
    for r in cells:
        t.add_row(*(Text(v) for v in r))  # names are text: "[draft]" is not Rich markup
    Console(soft_wrap=True, highlight=False).print(t)


def listing(as_json: bool, rows: list[dict[str, Any]], title: str,
            columns: Sequence[str | Col], cells: Any) -> None:
    """A list command's output: the rows as JSON (each with its ``id``), or a table of
    ``cells(row)`` for each row."""
    if as_json:
        emit_json(rows)
        return
    table(title, columns, [cells(r) for r in rows])
