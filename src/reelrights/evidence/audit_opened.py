"""Audit responses on the log, sealed (docs/sealed.md, "Which kinds are sealed").

An audit response is private: the opened items and their salts are the developer's dataset. By
default it travels as a file from the developer to the auditor and nothing of it is logged
(:mod:`.audit_challenge`). A developer may instead log it as ``audit.opened``, **sealed** only:
the public sees which challenge of which run was answered, by which developer, to which auditor;
each opened item is a private leaf that the run's developer, the challenge's auditor and the
operator read (``GET /v1/sealed/<id>``, docs/visibility.md). The registry checks the full body
at acceptance: the challenge is the auditor's and still open, the developer is the run's, the
response is the first for the challenge, it opens as many items as the challenge samples, and
each item verifies against the run's committed root (a full audit rebuilds the root).

The auditor turns a disclosure of it (``reelrights sealed fetch``) back into the response
document ``audit verify`` certifies (:func:`response_from_disclosure`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from ..core.canonical import canonical_bytes
from ..core.commitment import SALT_SIZE, canonical_item, leaf_hash, verify_item
from ..core.merkle import root_of
from ..core.sealed_disclosure import FORMAT as DISCLOSURE_FORMAT
from ..core.sealed_disclosure import verify_disclosure
from ..core.statements import decode_entry
from ..errors import BadInput, Conflict, NotFound, PolicyDenied, ProofError, ReelrightsError
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.evidence_tables import (
    audit_certificates,
    audit_challenges,
    audit_withdrawals,
    training_runs,
)
from ..store.sealed_tables import sealed_statements
from ..store.tables import log_entries
from .audit_challenge import RESPONSE_FORMAT

__all__ = ["log_response", "logged_response", "response_from_disclosure"]


def _answered(conn: Connection, challenge: str) -> int | None:
    """The log index of an earlier audit.opened answering ``challenge``, or None."""
    found = _logged(conn, challenge)
    return None if found is None else found[0]


def _logged(conn: Connection, challenge: str) -> tuple[int, str] | None:
    """(log index, statement id) of the audit.opened answering ``challenge``, or None."""
    rows = conn.execute(select(log_entries.c.idx, log_entries.c.entry,
                               sealed_statements.c.statement_id).join(
        sealed_statements, sealed_statements.c.log_index == log_entries.c.idx).where(
        sealed_statements.c.type == "audit.opened"))
    for idx, entry, statement_id in rows:
        if decode_entry(bytes(entry)).body.get("challenge") == challenge:
            return int(idx), str(statement_id)
    return None


def logged_response(db: Database, challenge: str) -> dict[str, Any] | None:
    """Where the response to ``challenge`` was logged, sealed (``{"index", "statement"}``), or
    None when the developer sent it to the auditor only (the public facts: the items stay
    sealed)."""
    with db.read() as conn:
        found = _logged(conn, challenge)
    return None if found is None else {"index": found[0], "statement": found[1]}


def _check_items(items: list[dict[str, Any]], root: bytes, count: int, samples: int) -> None:
    want = min(samples, count)
    if len(items) != want:
        raise BadInput(f"the response opens {len(items)} item(s); the challenge samples {want}")
    opened = []
    for n, it in enumerate(items):
        try:
            item = json.loads(it["item"])
            if canonical_bytes(item) != it["item"].encode("utf-8"):
                raise ValueError
            canonical_item(item)
        except (ValueError, RecursionError, ReelrightsError):
            raise BadInput(f"item {n}: not a manifest item's canonical JSON text") from None
        if not 0 <= it["index"] < count:
            raise BadInput(f"item {n}: index {it['index']} is not in the run (0 to {count - 1})")
        opened.append((it["index"], bytes.fromhex(it["salt"]), item,
                       [bytes.fromhex(h) for h in it["proof"]]))
    if samples >= count:  # a full audit: every item, and the root they rebuild
        hashes = [leaf_hash(salt, canonical_item(item))
                  for _, salt, item, _ in sorted(opened, key=lambda o: o[0])]
        if root_of(hashes) != root:
            raise ProofError("the items and salts do not rebuild the run's committed root")
        return
    for index, salt, item, proof in opened:
        assert len(salt) == SALT_SIZE
        verify_item(root, count, index, salt, item, proof)


@applier("audit.opened")
@each_statement
def _apply_opened(conn: Connection, a: Accepted) -> dict[str, Any]:
    s, b = a.statement, a.statement.body
    if s.sealed is None:
        raise PolicyDenied("an audit response holds the developer's items and salts: it is "
                           "logged sealed only (`audit respond --log` seals it)")
    ch = conn.execute(select(audit_challenges).where(audit_challenges.c.id == b["challenge"])
                      ).first()
    if ch is None or ch.run_id != b["run"]:
        raise NotFound(f"challenge {b['challenge']} of run {b['run']} is not logged")
    if ch.auditor_id != b["auditor"]:
        raise PolicyDenied(f"challenge {ch.id} was issued by {ch.auditor_id}, not {b['auditor']}")
    run = conn.execute(select(training_runs.c.developer_id, training_runs.c.root,
                              training_runs.c.count.label("items"))
                       .where(training_runs.c.id == ch.run_id)).first()
    if run is None or run.developer_id != s.actor or b["developer"] != s.actor:
        raise PolicyDenied(f"only the developer of run {ch.run_id} answers its audit")
    for table, what in ((audit_certificates, "certified"), (audit_withdrawals, "withdrawn")):
        if conn.scalar(select(table.c.log_index).where(table.c.challenge_id == ch.id)) \
                is not None:
            raise Conflict(f"challenge {ch.id} is closed ({what}); it takes no response")
    earlier = _answered(conn, ch.id)
    if earlier is not None:
        raise Conflict(f"challenge {ch.id} was answered at log index {earlier}")
    if "items" in b:  # absent: sealed, replayed without its body (checked when accepted)
        _check_items(b["items"], bytes.fromhex(run.root), int(run.items), int(ch.samples))
    return {"challenge": ch.id, "run": ch.run_id, "auditor": ch.auditor_id}


def log_response(home: Home, ledger: Ledger, doc: dict[str, Any]) -> Receipt:
    """Log the response ``doc`` (:func:`.audit_challenge.respond`'s) as a sealed audit.opened
    signed by the run's developer (whose key is in this home)."""
    with ledger.db.read() as conn:
        ch = conn.execute(select(audit_challenges.c.auditor_id, training_runs.c.developer_id)
                          .join(training_runs, training_runs.c.id == audit_challenges.c.run_id)
                          .where(audit_challenges.c.id == doc["challenge"])).first()
    if ch is None:
        raise NotFound(f"challenge {doc['challenge']} is not logged")
    items = []
    for it in doc["items"]:
        row = {"index": it["index"], "salt": it["salt"],
               "item": canonical_item(it["item"]).decode("utf-8"), "proof": it["proof"]}
        if "media" in it:
            row["media"] = it["media"]
        items.append(row)
    body = {"challenge": doc["challenge"], "run": doc["run"], "developer": ch.developer_id,
            "auditor": ch.auditor_id, "items": items}
    return submit_as(home, ledger, "audit.opened", ch.developer_id, body, sealed=True)


def response_from_disclosure(doc: Any, log_key: str, conn: Connection) -> dict[str, Any]:
    """The response document ``audit verify`` reads, from a disclosure of every item of an
    audit.opened statement (checked against the log's key ``log_key`` first)."""
    if type(doc) is not dict or doc.get("disclosure") != DISCLOSURE_FORMAT:
        raise BadInput("not a sealed disclosure")
    report = verify_disclosure(doc, log_key)
    if report.type != "audit.opened":
        raise BadInput(f"the disclosure is of a {report.type} statement, not an audit response")
    s = decode_entry(doc["statement"]["leaf"].encode("utf-8"))
    ch = conn.execute(select(audit_challenges.c.samples, training_runs.c.root,
                             training_runs.c.count.label("items"))
                      .join(training_runs, training_runs.c.id == audit_challenges.c.run_id)
                      .where(audit_challenges.c.id == s.body["challenge"])).first()
    if ch is None:
        raise NotFound(f"challenge {s.body['challenge']} is not logged here")
    rows = [v for p, v in sorted(report.fields.items(),
                                 key=lambda kv: int(kv[0].rsplit("/", 1)[1]))
            if p.startswith("/body/items/")]
    if len(rows) != min(int(ch.samples), int(ch.items)):
        raise BadInput(f"the disclosure shows {len(rows)} item(s) of the response; the auditor "
                       "needs every one (fetch it as the auditor)")
    items = []
    for r in rows:
        it = {"index": r["index"], "salt": r["salt"], "item": json.loads(r["item"]),
              "proof": r["proof"]}
        if "media" in r:
            it["media"] = r["media"]
        items.append(it)
    full = int(ch.samples) >= int(ch.items)
    return {"format": RESPONSE_FORMAT, "challenge": s.body["challenge"], "run": s.body["run"],
            "root": ch.root, "count": int(ch.items), "method": "full" if full else "sampled",
            "items": items}
