"""reelrights statement sign|submit|dispute|resolve-dispute|disputes: signing apart from accepting,
and statements a party disowns (docs/keys.md).

A party signs where its key lives (``statement sign``). The registry accepts a file of entries
signed anywhere (``statement submit``), one canonical entry per line. RFC 8785 output contains
no raw newline, so every entry fits on one line.
"""

from __future__ import annotations

import re
import sys
from typing import BinaryIO

import click

from ..core.canonical import load_json, parse_canonical
from ..core.ids import ID_PATTERNS
from ..core.statements import sign_statement
from ..errors import BadInput
from ..identity.key_types import DISPUTE_OUTCOMES
from ..registry.resolve import resolve_party
from ..registry.submit import signing_key
from .context import AppContext, pass_app
from .output import Col, created_receipt, emit_json, json_option, listing, receipt_id


def register(cli: click.Group) -> None:
    cli.add_command(statement)


@click.group()
def statement() -> None:
    """Sign statements where the key lives; submit statements signed anywhere."""


@statement.command("sign")
@click.option("--as", "party_ref", required=True, metavar="PARTY", help="Signing party (its key must be in this home).")
@click.option("--type", "type_", required=True, help="Statement type, e.g. work.credited.")
@click.option("--supersedes", "supersedes_ref", metavar="STATEMENT",
              help="The current fact this statement replaces: its statement id (stm_...) or "
                   "'index:N' for a v1 entry. Default: read from this home's copy of the log.")
@click.argument("body_file", type=click.File("rb"))
@pass_app
def statement_sign(app: AppContext, party_ref: str, type_: str, supersedes_ref: str | None,
                   body_file: BinaryIO) -> None:
    """Sign the JSON body in BODY_FILE ('-' for stdin); print the entry line."""
    body = load_json(body_file.read(), what=getattr(body_file, "name", "<stdin>"))
    supersedes = _supersedes(supersedes_ref) if supersedes_ref is not None else None
    with app.ledger.db.read() as conn:
        party_id = resolve_party(conn, party_ref).id
    key = signing_key(app.home, app.ledger, party_id)
    entry = sign_statement(app.ledger.new_statement(type_, party_id, body, supersedes=supersedes,
                                                    signer=key.public_key_bytes), key)
    sys.stdout.write(entry.decode("utf-8") + "\n")


def _supersedes(ref: str) -> dict[str, object]:
    """``stm_…`` or ``index:N`` as a supersedes reference, or BadInput naming the fix."""
    if re.fullmatch(ID_PATTERNS["statement"], ref):
        return {"id": ref}
    m = re.fullmatch(r"index:(0|[1-9][0-9]{0,14})", ref)
    if m:
        return {"index": int(m.group(1))}
    raise BadInput(f"--supersedes {ref!r} must be a statement id like stm_k3vq7xw2m4a6c5de "
                   "or index:N for an entry logged before the registry was established")


@statement.command("submit")
@click.argument("entries_file", type=click.File("rb"))
@pass_app
def statement_submit(app: AppContext, entries_file: BinaryIO) -> None:
    """Submit signed entries (one per line) as one batch: all accepted or none.

    Prints a JSON list with one receipt per entry, each with the `id` of what it created or
    changed (as the command for that statement type prints it)."""
    lines = [ln.rstrip(b"\r\n") for ln in entries_file if ln.strip()]
    for i, ln in enumerate(lines):
        parse_canonical(ln, what=f"{entries_file.name} line {i + 1}")
    receipts = app.ledger.submit(lines)
    emit_json([{"id": receipt_id(r), **r.to_json()} for r in receipts])


@statement.command("dispute")
@click.option("--as", "party_ref", required=True, metavar="PARTY",
              help="The party disowning statements logged in its name (its key in this home).")
@click.option("--reason", required=True, help="Why (logged, public): a stolen key, say.")
@click.argument("indexes", nargs=-1, required=True, type=click.IntRange(min=0), metavar="INDEX...")
@json_option
@pass_app
def statement_dispute(app: AppContext, party_ref: str, reason: str, indexes: tuple[int, ...],
                      as_json: bool) -> None:
    """Dispute the statements at log INDEX... signed in PARTY's name (a stolen key): they stay
    in the log, and `check` shows the dispute wherever it relies on them. Prints the dispute's
    id (the statement's)."""
    from ..identity.statement_disputes import dispute_statements

    r = dispute_statements(app.home, app.ledger, party_ref, list(indexes), reason)
    created_receipt(as_json, r, notes=[f"disputed {len(indexes)} statement(s) (log index "
                                       f"{r.index})"])


@statement.command("resolve-dispute")
@click.argument("dispute_id", metavar="DISPUTE")
@click.option("--as", "party_ref", metavar="PARTY",
              help="Resolve as PARTY: the disputing party (withdrawn) or a counterparty named "
                   "in the disputed statements (upheld or rejected).")
@click.option("--operator", is_flag=True, help="Decide as the registry's operator.")
@click.option("--outcome", required=True, type=click.Choice(DISPUTE_OUTCOMES),
              help="withdrawn (the disputing party), upheld (the statements are not the "
                   "party's) or rejected (they are).")
@click.option("--reason", required=True, help="Why (logged, public).")
@json_option
@pass_app
def statement_resolve_dispute(app: AppContext, dispute_id: str, party_ref: str | None,
                              operator: bool, outcome: str, reason: str, as_json: bool) -> None:
    """Close a statement dispute, as a party (--as) or as the operator (--operator)."""
    from ..identity.statement_disputes import resolve_dispute

    if operator == (party_ref is not None):
        raise BadInput("give exactly one of --as PARTY or --operator")
    r = resolve_dispute(app.home, app.ledger, dispute_id, outcome, reason, party_ref)
    created_receipt(as_json, r, notes=[f"dispute {dispute_id}: {outcome} (log index {r.index})"])


@statement.command("disputes")
@click.option("--party", metavar="PARTY", help="Only PARTY's disputes.")
@json_option
@pass_app
def statement_disputes(app: AppContext, party: str | None, as_json: bool) -> None:
    """List disputed statements (one row per disputed entry) and their status."""
    from ..identity.statement_disputes import list_statement_disputes

    rows = list_statement_disputes(app.ledger.db, party)
    listing(as_json, rows, "statement disputes",
            [Col("dispute", "id"), Col("party", "id"), Col("entry", "num"), "type", "status"],
            lambda r: [r["dispute"], r["party"], r["entry_index"], r["entry_type"],
                       r["status"]])
