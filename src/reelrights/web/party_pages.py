"""A page per party, by what the party is: a performer (or writer), a guild, a studio, an AI
developer, an auditor. Each view gathers the capability packages' read models in one thread-pool
call and renders them; the rules (who must co-sign, what a consent covers, who earned what)
stay in those packages."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ..core.ids import ID_PATTERNS
from ..errors import NotFound
from .pages import call, check_page, db, page, page_number, render, state, viewer

if TYPE_CHECKING:
    from ..store.db import Database

__all__ = ["directory", "party", "party_view"]

_PARTY_ID = re.compile(ID_PATTERNS["party"])
#: The latest statements a party's page lists (the older ones on /log?by=PARTY).
STATEMENTS = 30


def _ids(*groups: Any) -> list[str]:
    out: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str) and len(v) == 20 and v[3] == "_":
            out.add(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    for g in groups:
        walk(g)
    return sorted(out)


def earnings_bars(earnings: list[dict[str, Any]], names: dict[str, str]) -> list[Any]:
    """The chart's bars: each current (not superseded) earning, by production title."""
    from ..core.money import format_amount
    from ..fund.earnings_chart import EarningsBar

    return [EarningsBar(e["period"], names.get(e["production"], e["production"]), e["currency"],
                        Decimal(format_amount(e["amount_minor"], e["currency"])))
            for e in earnings if not e["superseded_by"]]


def _earning_totals(earnings: list[dict[str, Any]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for e in earnings:
        if not e["superseded_by"]:
            totals[e["currency"]] = totals.get(e["currency"], 0) + e["amount_minor"]
    return sorted(totals.items())


def party_view(database: Database, log_server: Any, ref: str,
               reader: Any = None, page: int = 1) -> dict[str, Any]:
    """Everything the party's page shows (read models only), by the party's kind, as
    ``reader`` (an :class:`reelrights.access.viewer.Viewer`; default anyone) may see it: money,
    consent requests and the co-signature queue only to the party itself (or the operator),
    and each license or consent as the visibility matrix projects it (docs/visibility.md).
    A studio's catalogue and a performer's credits come a page at a time (``page``, from 1)."""
    from ..access.viewer import ANONYMOUS
    from ..access.visibility import read_visible

    reader = reader or ANONYMOUS
    from ..fund.earnings_chart import earnings_svg
    from ..registry.labels import display_names
    from ..registry.listing import credits_page, party_record, works_page
    from ..registry.usage import usage_report

    detail = party_record(database, ref).to_json()
    kind = detail["kind"]
    usage = usage_report(database, detail["id"], works_too=False).to_json()
    from ..fund.royalty_statement_issue import list_statements

    view: dict[str, Any] = {"party": detail, "kind": kind, "usage": usage,
                            "royalty_statements": list_statements(database, detail["id"]),
                            "statements": log_server.entries(actor=detail["id"],
                                                             limit=STATEMENTS + 1)}
    if len(view["statements"]) > STATEMENTS:  # the rest on /log?by=PARTY&before=N
        view["statements"] = view["statements"][:STATEMENTS]
        view["older_statements"] = view["statements"][-1]["index"]
    if kind in ("performer", "writer"):
        from ..rights.consent import list_consents
        from ..rights.consent_requests import list_requests

        view["consents"] = [c.to_json() for c in list_consents(database, detail["id"])]
        view["requests"] = [r.to_json() for r in list_requests(database, performer=detail["id"])]
        view["listing"] = credits_page(database, detail["id"], page=page)
    elif kind == "guild":
        from ..rights.consent import list_consents
        from ..rights.consent_requests import list_requests
        from ..rights.guild_views import cosignature_queue, list_agreements

        view["agreements"] = list_agreements(database, detail["id"])
        view["queue"] = cosignature_queue(database, detail["id"])
        view["member_consents"] = [c.to_json()
                                   for c in list_consents(database, guild=detail["id"])]
        view["requests"] = [r.to_json() for r in list_requests(database, guild=detail["id"])]
    elif kind == "studio":
        from ..fund.productions import list_productions
        from ..rights.bundles import list_bundles
        from ..rights.licensing import license_ids

        view["listing"] = works_page(database, detail["id"], page=page)
        view["bundles"] = [b.to_json() for b in list_bundles(database, detail["id"])]
        view["licenses"] = [{"id": i} for i in license_ids(database, licensor=detail["id"])]
        view["productions"] = [p.to_json() for p in list_productions(database, detail["id"])]
    elif kind == "developer":
        from ..evidence.audit_list import list_audits
        from ..evidence.runs import list_runs
        from ..rights.consent_requests import list_requests
        from ..rights.licensing import license_ids

        view["licenses"] = [{"id": i} for i in license_ids(database, licensee=detail["id"])]
        view["runs"] = [r.to_json() for r in list_runs(database, detail["id"])]
        view["audits"] = list_audits(database, developer=detail["id"])
        view["requests"] = [r.to_json() for r in list_requests(database,
                                                                 requester=detail["id"])]
    elif kind == "auditor":
        from ..evidence.audit_list import list_audits

        view["audits"] = list_audits(database, auditor=detail["id"])
    # Each license and consent as this reader may see it (docs/visibility.md).
    for key, kind_ in (("consents", "consent"), ("member_consents", "consent"),
                       ("licenses", "license")):
        if key in view:
            view[key] = [read_visible(database, log_server.log, reader, kind_, x["id"]).fields
                         for x in view[key]]
    # Names for the ids shown: not the works inside each bundle (only their number is shown).
    shown_usage = {k: v for k, v in usage.items() if k != "bundles"}
    names = display_names(database, _ids(shown_usage, [b["bundle"] for b in usage["bundles"]],
                                         view.get("consents"),
                                         view.get("licenses"), view.get("runs"),
                                         view.get("statements"), view.get("requests"),
                                         view.get("member_consents"),
                                         [a.developer for a in view.get("audits", [])],
                                         [a.run for a in view.get("audits", [])]))
    names[detail["id"]] = detail["name"]
    if kind == "guild":
        from ..core.policy_words import describe_policy

        names.update(display_names(database, [x for q in view["queue"] for x in (
            q.license.licensor_id, q.license.licensee_id, q.license.bundle_id,
            *re.findall(r"pty_[a-z2-7]{16}", json.dumps(q.policy)))]))
        view["terms"] = {q.license.id: describe_policy(q.policy, lambda i: names.get(i, i))
                         for q in view["queue"]}
    own = reader.operator or reader.party == detail["id"]
    if not own:  # what only the party itself sees
        usage["earnings"], usage["suspense"] = [], []
        view["requests"], view["queue"], view["terms"] = [], [], {}
    view["own"] = own
    view["names"] = names
    view["earning_totals"] = _earning_totals(usage["earnings"])
    view["chart"] = earnings_svg(earnings_bars(usage["earnings"], names),
                                 label=f"Earnings of {detail['name']}")
    return view


@page
async def party(request: Request) -> Response:
    ref = request.path_params["id"]
    if not _PARTY_ID.fullmatch(ref):
        raise NotFound(f"{ref[:60]!r} is not a party id like pty_k3vq7xw2m4a6c5de")
    from .explorer import _log_server

    number = page_number(request)
    view = await call(request, party_view, db(request), _log_server(request), ref,
                      viewer(request), number)
    if "listing" in view:
        check_page(view["listing"], number)
    template = {"performer": "performer.html", "writer": "performer.html", "guild": "guild.html",
                "studio": "studio.html", "developer": "developer.html",
                "auditor": "auditor.html"}.get(view["kind"], "party.html")
    return render(request, template, view)


@page
async def directory(request: Request) -> Response:
    from ..registry.listing import parties_page

    kind = request.query_params.get("kind") or None
    number = page_number(request)
    listing = await call(request, parties_page, db(request), kind, page=number)
    check_page(listing, number)
    return render(request, "parties.html", {"listing": listing, "kind": kind})


@page
async def royalty_statement(request: Request) -> Response:
    """An issued royalty statement, the same HTML as `fund statement --format html` (its one
    inline style block is allowed by its hash, nothing else inline)."""
    import base64
    import hashlib

    from ..fund.royalty_statement_issue import statement_page
    from ..fund.royalty_statement_render import STYLE
    from .pages import PAGE_HEADERS

    ref = request.path_params["id"]
    if not re.fullmatch(r"fst_[a-z2-7]{16}", ref):
        raise NotFound(f"{ref[:60]!r} is not a royalty statement id like fst_k3vq7xw2m4a6c5de")
    from ..access.visibility import read_visible

    st = state(request)
    assert st.ledger is not None
    html, record = await call(request, statement_page, db(request), ref)
    seen = await call(request, read_visible, st.ledger.db, st.ledger.log, viewer(request),
                      "royalty_statement", ref, record=record)
    if "document" not in seen.fields and "lines" not in seen.fields:
        from ..errors import NotVisible

        raise NotVisible(f"royalty statement {ref} is its payee's and the fund's: sign in as "
                         "the party it is for to read it")
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    csp = PAGE_HEADERS["content-security-policy"].replace(
        "style-src 'self'", f"style-src 'sha256-{digest}'")
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={**PAGE_HEADERS, "content-security-policy": csp})
