"""reelrights sealed disclose|verify|erase|send|receive|fetch|grant|withdraw: private fields, public
proofs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ..core.canonical import load_json
from ..errors import BadInput
from .context import AppContext, pass_app
from .output import created, created_receipt, emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(sealed_group)


@click.group("sealed")
def sealed_group() -> None:
    """Sealed statements: private fields under a signed root, disclosed field by field."""


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole (mode 0600), refusing to overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadInput(f"--out {path} exists; choose a new file") from None
    except OSError as exc:
        raise BadInput(f"--out {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


@sealed_group.command("disclose")
@click.argument("ref", metavar="STATEMENT")
@click.option("--fields", required=True, metavar="PATH,...",
              help="The sealed fields to show, comma-separated (/body/policy; /body/rows shows "
                   "every row, /body/rows/2 one row).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The disclosure file to write (new; mode 0600).")
@json_option
@pass_app
def disclose_cmd(app: AppContext, ref: str, fields: str, out: Path, as_json: bool) -> None:
    """Write a disclosure of some sealed fields of STATEMENT (a stm_, lic_, rev_ or fst_ id)
    that anyone checks with `reelrights sealed verify` and the log's key alone."""
    from ..core.canonical import canonical_bytes
    from ..sealed.copies import home_source
    from ..sealed.disclose import make_disclosure
    from ..sealed.store import database_source

    paths = [p.strip() for p in fields.split(",") if p.strip()]
    if not paths or any(not p.startswith("/body/") for p in paths):
        raise BadInput("--fields takes /body/... paths, comma-separated, like /body/policy")
    with app.ledger.db.read() as conn:
        doc = make_disclosure(conn, app.ledger.log, ref, paths,
                              [home_source(app.home), database_source(conn)])
    _write_private(out, canonical_bytes(doc) + b"\n")
    created(as_json, str(out), {"fields": [d["path"] for d in doc["leaves"]],
                                "statement_index": doc["statement"]["index"]},
            [f"  {len(doc['leaves'])} sealed field(s) disclosed"])


@sealed_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--log-key", "vkey", required=True, help="The log's note verifier key.")
@json_option
def verify_cmd(file: Path, vkey: str, as_json: bool) -> None:
    """Check a disclosure FILE: the checkpoint's signature, the statement's and its signer's
    inclusion, the statement's signature and every disclosed field against the signed root.
    Exit 1 naming the first failure."""
    from ..core.sealed_disclosure import verify_disclosure

    report = verify_disclosure(load_json(file.read_bytes(), what=str(file)), vkey)
    if as_json:
        emit_json({"ok": True, **report.to_json()})
        return
    click.echo(f"ok: {report.type} {report.statement_id} by {report.actor}, log index "
               f"{report.log_index} ({report.log_time}) in {report.origin} size "
               f"{report.checkpoint_size}")
    for path, value in report.fields.items():
        click.echo(f"  {path} = {json.dumps(value, ensure_ascii=False, sort_keys=True)}")


@sealed_group.command("erase")
@click.argument("ref", metavar="STATEMENT")
@click.option("--as", "party", required=True, metavar="PARTY",
              help="Its signer or a party it names.")
@click.option("--reason", required=True)
@json_option
@pass_app
def erase_cmd(app: AppContext, ref: str, party: str, reason: str, as_json: bool) -> None:
    """Erase a sealed statement's body and salts (crypto-shredding); logs sealed.erased."""
    from ..sealed.disclose import find_sealed
    from ..sealed.erasure import erase_body

    with app.ledger.db.read() as conn:
        _, s = find_sealed(conn, ref)
    assert s.id is not None
    created_receipt(as_json, erase_body(app.home, app.ledger, s.id, party, reason))


@sealed_group.command("send")
@click.argument("ref", metavar="STATEMENT")
@click.option("--to", "party", required=True, metavar="PARTY")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def send_cmd(app: AppContext, ref: str, party: str, out: Path, as_json: bool) -> None:
    """Encrypt this home's copy of a sealed body to PARTY's registered key (a sealed box to the
    X25519 form of its Ed25519 key): only PARTY opens it, with `sealed receive`."""
    from ..sealed.copies import copy_for

    sid, pid, box = copy_for(app.home, app.ledger.db, ref, party)
    _write_private(out, box)
    created(as_json, str(out), {"statement": sid, "to": pid})


@sealed_group.command("receive")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--as", "party", required=True, metavar="PARTY")
@json_option
@pass_app
def receive_cmd(app: AppContext, file: Path, party: str, as_json: bool) -> None:
    """Open a sealed body sent to PARTY, check it against the logged root and keep it."""
    from ..core.sealed import SealedEntry, parse_submission
    from ..registry.resolve import resolve_party
    from ..sealed.copies import decrypt_with, keep_own_copy
    from ..sealed.disclose import find_sealed
    from ..write.decode import open_sealed_statement

    with app.ledger.db.read() as conn:
        pid = resolve_party(conn, party).id
    entry = parse_submission(decrypt_with(app.home.party_key(pid).seed, file.read_bytes()))
    if not isinstance(entry, SealedEntry):
        raise BadInput(f"{file} holds no sealed body")
    leaves = entry.leaves
    from ..core.statements import decode_entry

    sid = decode_entry(bytes(entry)).id or ""
    with app.ledger.db.read() as conn:
        _, logged = find_sealed(conn, sid)
    if bytes(entry) != logged.entry:
        raise BadInput(f"{file} is for another statement than the logged {sid}")
    open_sealed_statement(logged, leaves)  # checked against the logged root
    keep_own_copy(app.home, entry)
    created(as_json, sid, {"paths": [leaf.path for leaf in leaves]})


def _server_client(app: AppContext, what: str) -> Any:
    client = getattr(app.ledger, "client", None)
    if client is None:
        raise BadInput(f"sealed {what} talks to a server: run it in a party's home with "
                       "--server URL (a local home reads its own registry: `sealed disclose`)")
    return client


def _field_paths(fields: str | None) -> list[str]:
    paths = [p.strip() for p in (fields or "").split(",") if p.strip()]
    if any(not p.startswith("/body/") for p in paths):
        raise BadInput("--fields takes /body/... paths, comma-separated, like /body/policy")
    return paths


@sealed_group.command("fetch")
@click.argument("ref", metavar="STATEMENT")
@click.option("--as", "party", required=True, metavar="PARTY",
              help="The party reading (its key in this home signs the request, RFC 9421).")
@click.option("--fields", default=None, metavar="PATH,...",
              help="Only these sealed fields (default: every field this party may read).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the disclosure the server answers (new; mode 0600).")
@json_option
@pass_app
def fetch_cmd(app: AppContext, ref: str, party: str, fields: str | None, out: Path,
              as_json: bool) -> None:
    """Fetch from the server (--server) the sealed fields of STATEMENT this party may read,
    checked against the log's pinned key, as a disclosure file."""
    from ..core.canonical import canonical_bytes
    from ..core.sealed_disclosure import verify_disclosure
    from ..registry.resolve import resolve_party

    client = _server_client(app, "fetch")
    paths = _field_paths(fields)
    with app.ledger.db.read() as conn:
        pid = resolve_party(conn, party).id
    doc = client.sealed(ref, app.home.party_key(pid), app.ledger.registry, fields=paths)
    report = verify_disclosure(doc, app.home.log_vkey())
    _write_private(out, canonical_bytes(doc) + b"\n")
    created(as_json, str(out), {"statement": report.statement_id,
                                "fields": list(report.fields)})


@sealed_group.command("grant")
@click.argument("ref", metavar="STATEMENT")
@click.option("--as", "party", required=True, metavar="PARTY",
              help="The party disclosing (it must read the whole body; its key signs).")
@click.option("--to", "to", required=True, metavar="PARTY",
              help="The party the fields are disclosed to (a regulator, a court).")
@click.option("--fields", required=True, metavar="PATH,...",
              help="The sealed fields to disclose, comma-separated (/body/policy).")
@json_option
@pass_app
def grant_cmd(app: AppContext, ref: str, party: str, to: str, fields: str,
              as_json: bool) -> None:
    """Disclose some sealed fields of STATEMENT to another party through the server
    (--server): the server records the grant, and that party can then fetch exactly those
    fields (`sealed fetch`), nobody else."""
    from ..registry.resolve import resolve_party

    client = _server_client(app, "grant")
    paths = _field_paths(fields)
    if not paths:
        raise BadInput("--fields names no field; pass /body/... paths, comma-separated")
    with app.ledger.db.read() as conn:
        pid = resolve_party(conn, party).id
        recipient = resolve_party(conn, to).id
    out = client.sealed_grant(ref, recipient, paths, app.home.party_key(pid),
                              app.ledger.registry)
    created(as_json, str(out.get("statement", ref)), out,
            [f"  disclosed {', '.join(out.get('fields', []))} to {recipient} (grant "
             f"{out.get('grant')}; `sealed withdraw {ref} {out.get('grant')} --as {pid}` ends "
             "it)"])


@sealed_group.command("withdraw")
@click.argument("ref", metavar="STATEMENT")
@click.argument("grant", type=click.IntRange(1))
@click.option("--as", "party", required=True, metavar="PARTY",
              help="The party that granted it, or the statement's signer (its key signs).")
@json_option
@pass_app
def withdraw_cmd(app: AppContext, ref: str, grant: int, party: str, as_json: bool) -> None:
    """Withdraw disclosure GRANT of STATEMENT through the server (--server): its recipient
    fetches nothing more of it (what it fetched before, it keeps)."""
    from ..registry.resolve import resolve_party

    client = _server_client(app, "withdraw")
    with app.ledger.db.read() as conn:
        pid = resolve_party(conn, party).id
    out = client.sealed_withdraw(ref, grant, app.home.party_key(pid), app.ledger.registry)
    created(as_json, str(out.get("statement", ref)), out,
            [f"  withdrew grant {grant}: {out.get('to')} reads nothing more of it"])
