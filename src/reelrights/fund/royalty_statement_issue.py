"""Issuing and verifying fund statements.

The fund operator (a party of kind ``fund``) signs ``fund.statement``: the statement's id, the
SHA-256 of the canonical document, the hash of its inputs and its totals. The applier recomputes
the document from the log before accepting it, so the log never holds a statement its facts do
not give. Issuing again with nothing changed returns the statement already logged (same id,
same bytes). ``verify`` recomputes the document and compares it with a JSON, CSV or HTML file,
naming the first difference.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..core.canonical import canonical_bytes
from ..core.money import parse_amount
from ..core.statements import decode_entry
from ..errors import BadInput, Conflict, NotFound, PolicyDenied, VerificationError
from ..home import Home
from ..ledger import Accepted, Ledger, applier, each_statement
from ..log.database_log import insert_rows
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..sealed.store import opened
from ..store.db import Database
from ..store.fund_tables import fund_postings, fund_statements
from ..store.resolve import find_many, find_one
from ..store.tables import log_entries, parties
from .records import ROYALTY_STATEMENT
from .royalty_statement_render import render
from .royalty_statements import build_document, document_sha256, totals
from .types import derived_id

__all__ = ["issue_statement", "statement_file", "verify_statement"]


def _with_as_of(doc: dict[str, Any], as_of: int) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    d["header"]["as_of"] = as_of
    d["inputs"]["as_of"] = as_of
    d["inputs_sha256"] = hashlib.sha256(canonical_bytes(d["inputs"])).hexdigest()
    return d


def _fund_party(conn: Connection, home: Home, ref: str | None) -> str:
    if ref:
        row = resolve_party(conn, ref)
        if row.kind != "fund":
            raise BadInput(f"{row.id} is a {row.kind}; statements are signed by a party of kind "
                           "fund (the fund operator)")
        return row.id
    ids = [r.id for r in conn.execute(select(parties.c.id).where(parties.c.kind == "fund")
                                      .order_by(parties.c.log_index))
           if home.party_key_path(r.id).exists()]
    if len(ids) != 1:
        raise BadInput("name the fund operator with --as FUND (a party of kind fund whose key is "
                       f"in this home; found {len(ids)})")
    return ids[0]


def issue_statement(home: Home, ledger: Ledger, party: str, period: str, *,
                    threshold: str = "10", fund: str | None = None, sealed: bool = False
                    ) -> tuple[dict[str, Any], str, int, bool]:
    """(document, statement id, log index, new?) for ``party``'s statement of ``period``.
    ``sealed``: seal its figures and hashes; its id is then drawn at random (one derived from
    the document's hash would let anyone test a guessed document; docs/sealed.md)."""
    with ledger.db.read() as conn:
        pid = resolve_party(conn, party).id
        fid = _fund_party(conn, home, fund)
        as_of, _ = ledger.log.head(conn)
        doc = build_document(conn, pid, period, as_of, threshold, fid)
        issued = find_many(conn, ROYALTY_STATEMENT, fund_statements.c.party_id == pid,
                           fund_statements.c.period == period,
                           fund_statements.c.threshold == threshold,
                           fund_statements.c.fund_id == fid)
    last = issued[-1] if issued else None
    if last is not None:
        earlier = _with_as_of(doc, last.as_of)
        if document_sha256(earlier) == last.sha256:
            return earlier, last.id, last.log_index, False
    sha = document_sha256(doc)
    sid = derived_id("fst", sha, *([secrets.token_hex(16)] if sealed else []))
    body = {"id": sid, "fund": fid, "party": pid, "period": period, "as_of": as_of,
            "sha256": sha, "inputs_sha256": doc["inputs_sha256"], "threshold": threshold,
            "totals": totals(doc)}
    receipt = submit_as(home, ledger, "fund.statement", fid, body, sealed=sealed)
    return doc, sid, receipt.index, True


def statement_file(home: Home, ledger: Ledger, party: str, period: str, fmt: str, *,
                   threshold: str = "10", fund: str | None = None, sealed: bool = False,
                   with_proof: bool = False) -> tuple[bytes, dict[str, Any], str, int, bool]:
    """(file bytes, document, statement id, log index, new?): :func:`issue_statement` rendered
    as ``fmt``. ``with_proof`` (JSON only) embeds the statement's offline proof as
    ``tlog_proof``, in a witness-cosigned checkpoint when the log has one within
    :data:`reelrights.proofs.COSIGNED_WAIT_S`, so ``reelrights verify FILE --log-key VKEY``
    checks it on a machine that never talked to the registry (docs/verify.md)."""
    if with_proof and fmt != "json":
        raise BadInput(f"--with-proof embeds the proof in the JSON statement only; for {fmt} "
                       "write it beside the file with `reelrights log proof ID -o FILE`")
    doc, sid, index, new = issue_statement(home, ledger, party, period, threshold=threshold,
                                           fund=fund, sealed=sealed)
    proof = None
    if with_proof:
        from ..proofs import issue_cosigned_proof

        proof = issue_cosigned_proof(ledger, index, home.path).format()
    return render(doc, sid, index, fmt, proof), doc, sid, index, new


@applier("fund.statement")
@each_statement
def _apply_one(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    if conn.scalar(select(parties.c.kind).where(parties.c.id == b["fund"])) != "fund":
        raise PolicyDenied(f"{b['fund']} is not a fund operator (party kind fund)")
    if b["as_of"] > a.index:
        raise BadInput(f"as_of {b['as_of']} is beyond the log ({a.index})")
    if conn.execute(select(fund_statements.c.id).where(fund_statements.c.id == b["id"])).first():
        raise Conflict(f"statement {b['id']} is already issued")
    if "totals" not in b:  # sealed, replayed without its body: issued to whom, for when
        conn.execute(fund_statements.insert().values(
            id=b["id"], fund_id=b["fund"], party_id=b["party"], period=b["period"],
            as_of=b["as_of"], sha256="", inputs_sha256="", threshold="", log_index=a.index,
            issued_at=a.time))
        return {"id": b["id"]}
    doc = build_document(conn, b["party"], b["period"], b["as_of"], b["threshold"], b["fund"])
    sha = document_sha256(doc)
    if sha != b["sha256"] or doc["inputs_sha256"] != b["inputs_sha256"] \
            or totals(doc) != b["totals"] \
            or (a.statement.sealed is None and b["id"] != derived_id("fst", sha)):
        raise Conflict(f"statement {b['id']} does not match the document recomputed from the "
                       "log; issue it with `reelrights fund statement`")
    conn.execute(fund_statements.insert().values(
        id=b["id"], fund_id=b["fund"], party_id=b["party"], period=b["period"],
        as_of=b["as_of"], sha256=sha, inputs_sha256=b["inputs_sha256"],
        threshold=b["threshold"], log_index=a.index, issued_at=a.time))
    postings = []
    for t in b["totals"]:
        c, party = t["currency"], b["party"]
        journal = f"statement:{b['id']}:{c}"
        legs = [(f"carry:{party}", -parse_amount(t["carried_in"], c)),
                (f"payee:{party}", parse_amount(t["carried_in"], c)),
                (f"payee:{party}", -parse_amount(t["paid"], c)),
                (f"payout:{party}", parse_amount(t["paid"], c)),
                (f"payee:{party}", -parse_amount(t["carried_forward"], c)),
                (f"carry:{party}", parse_amount(t["carried_forward"], c))]
        postings += [(journal, i, acct, c, amt, a.index)
                     for i, (acct, amt) in enumerate(legs) if amt]
    insert_rows(conn, fund_postings, ("journal", "seq", "account", "currency", "amount",
                                      "log_index"), postings)
    return {"id": b["id"], "sha256": sha}


# -- verify -------------------------------------------------------------------------------------
def _first_difference(found: Any, expected: Any, path: str = "") -> str | None:
    if type(found) is not type(expected):
        return f"{path or '/'}: expected {json.dumps(expected)[:120]}, found {json.dumps(found)[:120]}"
    if isinstance(expected, dict):
        for k in sorted(set(found) | set(expected)):
            if k not in found:
                return f"{path}/{k}: missing"
            if k not in expected:
                return f"{path}/{k}: not in the recomputed statement"
            d = _first_difference(found[k], expected[k], f"{path}/{k}")
            if d:
                return d
        return None
    if isinstance(expected, list):
        for i, (f, e) in enumerate(zip(found, expected)):
            d = _first_difference(f, e, f"{path}/{i}")
            if d:
                return d
        if len(found) != len(expected):
            return f"{path}: {len(found)} items, expected {len(expected)}"
        return None
    if found != expected:
        return f"{path}: expected {json.dumps(expected)}, found {json.dumps(found)}"
    return None


def verify_statement(db: Database, path: Path, log_vkey: str | None = None) -> dict[str, Any]:
    """Recompute the statement in ``path`` from the log; raise VerificationError on a difference.
    A JSON statement's embedded ``tlog_proof`` is verified too, with ``log_vkey`` (the log's
    public key; without one the file is refused), and must prove the statement's own entry."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"statement file {path} does not exist") from None
    text = data.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        fmt = "json"
        try:
            found = json.loads(text)
            sid = found["statement_id"]
        except (ValueError, KeyError, TypeError):
            raise BadInput(f"{path}: not a reelrights statement JSON file") from None
    elif text.startswith("HEAD,"):
        fmt, sid = "csv", text.split(",", 3)[2]
    elif m := re.search(r'<meta name="reelrights-statement" content="(fst_[a-z2-7]{16})">', text):
        fmt, sid = "html", m.group(1)
    else:
        raise BadInput(f"{path}: not a statement rendered by `reelrights fund statement`")
    with db.read() as conn:
        row = find_one(conn, ROYALTY_STATEMENT, sid)
        if row is None:
            raise VerificationError(f"{path}: statement {sid} is not in the log")
        entry = conn.scalar(select(log_entries.c.entry).where(log_entries.c.idx == row.log_index))
        if entry is None:
            raise VerificationError(f"log entry {row.log_index} of statement {sid} is missing; "
                                    "run `reelrights log verify`")
        logged = opened(conn, decode_entry(bytes(entry)))
        if logged.type != "fund.statement" or logged.body["id"] != sid:
            raise VerificationError(f"log entry {row.log_index} is not statement {sid}")
        doc = build_document(conn, row.party_id, row.period, row.as_of, row.threshold,
                             row.fund_id)
    sha = document_sha256(doc)
    if sha != logged.body["sha256"]:
        raise VerificationError(f"statement {sid}: the log's facts give document {sha}, not the "
                                f"signed {logged.body['sha256']}")
    proof_checks: list[str] = []
    if fmt == "json" and isinstance(found, dict) and "tlog_proof" in found:
        proof_checks = _embedded_proof(found.pop("tlog_proof"), path, sid, row.log_index,
                                       log_vkey)
    expected = render(doc, sid, row.log_index, fmt)
    if fmt == "json":
        diff = _first_difference(found, json.loads(expected))
    elif data == expected:
        diff = None
    else:
        got, want = data.decode("utf-8", "replace").split("\n"), expected.decode().split("\n")
        i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
        if i < min(len(got), len(want)):
            g, w = got[i], want[i]
            j = next((j for j, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
            lo = max(0, j - 40)
            diff = (f"line {i + 1}, column {j + 1}: expected {w[lo:j + 40]!r}, "
                    f"found {g[lo:j + 40]!r}")
        else:
            diff = f"{len(got)} lines, expected {len(want)}"
    if diff:
        raise VerificationError(f"{path}: statement {sid} differs from the log at {diff}")
    return {"statement_id": sid, "log_index": row.log_index, "format": fmt, "sha256": sha,
            "party": row.party_id, "period": row.period, "ok": True,
            **({"proof": proof_checks} if proof_checks else {})}


def _embedded_proof(text: Any, path: Path, sid: str, index: int, log_vkey: str | None
                    ) -> list[str]:
    """The checks of a statement file's embedded proof: that of ``sid``'s entry ``index``."""
    from ..verify import LogTrust, TlogProof, Verifier

    if type(text) is not str:
        raise VerificationError(f"{path}: its tlog_proof is not a proof file's text")
    if log_vkey is None:
        raise BadInput(f"{path}: it embeds a proof; give the log's public key to check it")
    vp = Verifier(LogTrust(log_vkey)).verify(TlogProof.parse(text))
    s = vp.subject.statement
    if vp.subject.index != index or s.type != "fund.statement" or s.body.get("id") != sid:
        raise VerificationError(f"{path}: its tlog_proof proves log entry {vp.subject.index} "
                                f"({s.type}), not statement {sid} at entry {index}")
    cp = vp.checkpoint.checkpoint
    return [f"its embedded proof verifies: entry {index} in {cp.origin}'s checkpoint of size "
            f"{cp.size}, signed by the fund"]


def list_statements(db: Database, party: str) -> list[Any]:
    """The royalty statements issued to ``party``, newest period first."""
    with db.read() as conn:
        pid = resolve_party(conn, party).id
        rows = find_many(conn, ROYALTY_STATEMENT, fund_statements.c.party_id == pid)
    return sorted(rows, key=lambda r: (r.period, r.log_index), reverse=True)


def statement_page(db: Database, statement_id: str) -> tuple[bytes, dict[str, Any]]:
    """An issued statement's HTML (the bytes of :func:`statement_html`) and its record as the
    visibility matrix reads it (``access.records``: the record, its totals, its document), from
    one build of the document (the web page's read)."""
    with db.read() as conn:
        row = find_one(conn, ROYALTY_STATEMENT, statement_id)
        if row is None:
            raise NotFound(f"royalty statement {statement_id} is not in the log")
        doc = build_document(conn, row.party_id, row.period, row.as_of, row.threshold,
                             row.fund_id)
    record = {**row.to_json(), "totals": totals(doc), "document": copy.deepcopy(doc)}
    return render(doc, row.id, row.log_index, "html"), record


def statement_html(db: Database, statement_id: str) -> tuple[bytes, str]:
    """An issued statement as its HTML, rebuilt from the log's facts (the bytes `fund statement
    --format html` writes), and the party it is for."""
    with db.read() as conn:
        row = find_one(conn, ROYALTY_STATEMENT, statement_id)
        if row is None:
            raise NotFound(f"royalty statement {statement_id} is not in the log")
        doc = build_document(conn, row.party_id, row.period, row.as_of, row.threshold,
                             row.fund_id)
    return render(doc, row.id, row.log_index, "html"), row.party_id
