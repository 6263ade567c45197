"""The public log explorer: the latest checkpoint and its signatures, recent entries, an entry with
its inclusion proof (checked in the page by static/proof.js), and the public facts of a license,
run, certificate, output, work, bundle or consent."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..core.checkpoint import Checkpoint
from ..core.ids import ID_PATTERNS
from ..errors import BadInput, NotFound
from .pages import call, db, page, render, state, viewer

__all__ = ["FACTS", "entry", "facts", "find", "home", "log_list"]

_INDEX = re.compile(r"[0-9]{1,18}")
_ID = {kind: re.compile(p) for kind, p in ID_PATTERNS.items()}


def _log_server(request: Request) -> Any:
    from ..api.reads import reader

    return reader(request).server


def _signatures(note: str) -> list[dict[str, str]]:
    """The signature lines of a signed note: who signed (name) and the key hash."""
    _, _, block = note.partition("\n\n")
    out = []
    for line in block.splitlines():
        if line.startswith("\u2014 "):
            name, _, sig = line[2:].rpartition(" ")
            raw = base64.b64decode(sig + "==")
            out.append({"name": name, "key_hash": raw[:4].hex()})
    return out


def _names(request: Request, ids: Sequence[str | None]) -> Any:
    from ..registry.labels import display_names

    return call(request, display_names, db(request), ids)


def _who_is_here(database: Any, first: int = 12) -> dict[str, Any]:
    """Kind -> the first parties of that kind to join and how many there are."""
    from ..registry.listing import parties_page, party_counts

    return {kind: parties_page(database, kind, limit=first)
            for kind in party_counts(database)}


@page
async def home(request: Request) -> Response:
    server = _log_server(request)
    head = await call(request, server.head)
    recent = await call(request, server.entries, limit=15)
    by_kind = await call(request, _who_is_here, db(request))
    names = await _names(request, [e["actor"] for e in recent])
    note = head["checkpoint"]
    cp = Checkpoint.parse(note.partition("\n\n")[0] + "\n") if note else None
    signatures = _signatures(note) if note else []
    origin = cp.origin if cp else ""
    return render(request, "home.html", {
        "head": head, "checkpoint": cp, "root_b64": base64.b64encode(cp.root).decode()
        if cp else "", "log_signatures": [s for s in signatures if s["name"] == origin],
        "witnesses": [s for s in signatures if s["name"] != origin], "recent": recent,
        "names": names, "by_kind": by_kind})


@page
async def find(request: Request) -> Response:
    """The search box: a log index, a statement id or any registry id, to its page."""
    q = request.query_params.get("q", "").strip()
    if _INDEX.fullmatch(q):
        return RedirectResponse(f"/log/{int(q)}", status_code=303)
    if _ID["statement"].fullmatch(q):
        found = await call(request, _log_server(request).statement, q)
        return RedirectResponse(f"/log/{found['index']}", status_code=303)
    if _ID["party"].fullmatch(q):
        return RedirectResponse(f"/parties/{q}", status_code=303)
    for collection, (kind, _) in FACTS.items():
        if _ID[kind].fullmatch(q):
            return RedirectResponse(f"/{collection}/{q}", status_code=303)
    if _ID["challenge"].fullmatch(q):
        return RedirectResponse(f"/challenges/{q}", status_code=303)
    raise BadInput(f"{q[:60]!r} is not a log index, a statement id or a registry id; type a "
                   "number like 12 or an id like lic_k3vq7xw2m4a6c5de")


#: Entries per page of /log.
LOG_PAGE = 50


@page
async def log_list(request: Request) -> Response:
    """Every entry, the newest first, ``LOG_PAGE`` a page: ``before=N`` pages back by index
    (one indexed range read however deep), ``by=PARTY`` keeps one signer's."""
    before_raw = request.query_params.get("before", "")
    by = request.query_params.get("by", "") or None
    if before_raw and not _INDEX.fullmatch(before_raw):
        raise BadInput(f"before={before_raw[:40]!r} is not a log index (a whole number from 0)")
    if by is not None and not _ID["party"].fullmatch(by):
        raise BadInput(f"by={by[:60]!r} is not a party id like pty_k3vq7xw2m4a6c5de")
    before = int(before_raw) if before_raw else None
    rows = await call(request, _log_server(request).entries, before=before, limit=LOG_PAGE + 1,
                      actor=by)
    older = rows[LOG_PAGE - 1]["index"] if len(rows) > LOG_PAGE else None
    rows = rows[:LOG_PAGE]
    names = await _names(request, sorted({r["actor"] for r in rows} | ({by} if by else set())))
    return render(request, "log.html", {"rows": rows, "names": names, "by": by,
                                        "before": before, "older": older})


@page
async def entry(request: Request) -> Response:
    raw = request.path_params["index"]
    if not _INDEX.fullmatch(raw):
        raise NotFound(f"{raw[:40]!r} is not a log index (a whole number from 0)")
    found = await call(request, _log_server(request).entry, int(raw))
    leaf = json.loads(found["entry"])
    signed = leaf.get("entry", leaf)
    statement = signed.get("statement", {}) if isinstance(signed, dict) else {}
    names = await _names(request, [statement.get("actor")])
    return render(request, "entry.html", {
        "index": int(raw), "found": found, "statement": statement,
        "signature": signed.get("signature", {}) if isinstance(signed, dict) else {},
        "pretty": json.dumps(statement, indent=2, ensure_ascii=False, sort_keys=True),
        "names": names})


def _facts_license(request: Request, ref: str) -> Any:
    from ..rights.licensing import license_detail

    return license_detail(db(request), ref).to_json()


def _facts_run(request: Request, ref: str) -> Any:
    from ..evidence.audit_status import run_show

    ledger = state(request).ledger
    assert ledger is not None
    return run_show(ledger.db, ledger.log, ref)


def _facts_certificate(request: Request, ref: str) -> Any:
    from ..evidence.certificates import show_certificate

    return show_certificate(db(request), ref).to_json()


def _facts_output(request: Request, ref: str) -> Any:
    from ..outputs.records import output_detail

    return output_detail(db(request), ref).to_json()


def _facts_work(request: Request, ref: str) -> Any:
    from ..registry.works import work_detail

    return work_detail(db(request), ref).to_json()


def _facts_bundle(request: Request, ref: str) -> Any:
    from ..rights.bundles import bundle_detail

    return bundle_detail(db(request), ref).to_json()


def _facts_consent(request: Request, ref: str) -> Any:
    from ..rights.consent import consent_detail

    return consent_detail(db(request), ref).to_json()


def _facts_production(request: Request, ref: str) -> Any:
    from ..fund.productions import production_detail

    return production_detail(db(request), ref).to_json()


#: URL collection -> (id kind, title, the function answering the CLI's ``show --json``).
FACTS: dict[str, tuple[str, Any]] = {
    "licenses": ("license", _facts_license),
    "runs": ("run", _facts_run),
    "certificates": ("certificate", _facts_certificate),
    "outputs": ("output", _facts_output),
    "works": ("work", _facts_work),
    "bundles": ("bundle", _facts_bundle),
    "consents": ("consent", _facts_consent),
    "productions": ("production", _facts_production),
}
_LINKS = {kind: coll for coll, (kind, _) in FACTS.items()}


def _ids_in(value: Any, out: set[str]) -> None:
    if isinstance(value, str) and len(value) == 20 and value[3] == "_":
        out.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            _ids_in(v, out)
    elif isinstance(value, list):
        for v in value:
            _ids_in(v, out)


@page
async def facts(request: Request) -> Response:
    collection = request.url.path.split("/")[1]
    kind, fn = FACTS[collection]
    ref = request.path_params["id"]
    if not _ID[kind].fullmatch(ref):
        raise NotFound(f"{ref[:60]!r} is not a {kind} id")
    # What the page shows is what the visibility matrix lets this reader see (docs/
    # visibility.md): a license's terms only to its parties, a consent's details only to hers.
    from ..access.visibility import read_visible

    ledger = state(request).ledger
    assert ledger is not None
    seen = await call(request, read_visible, ledger.db, ledger.log, viewer(request), kind, ref)
    data = seen.fields
    ids: set[str] = set()
    _ids_in(data, ids)
    if kind == "license" and isinstance(data.get("policy"), dict):
        ids |= set(re.findall(r"pty_[a-z2-7]{16}", json.dumps(data["policy"])))
    names = await _names(request, sorted(ids))
    terms = []
    if kind == "license" and isinstance(data.get("policy"), dict):
        from ..core.policy_words import describe_policy

        terms = describe_policy(data["policy"], lambda i: names.get(i, i))
    return render(request, "facts.html", {"kind": kind, "ref": ref, "data": data,
                                          "names": names, "title": names.get(ref),
                                          "terms": terms})
