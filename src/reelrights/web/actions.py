"""Pages that act for a signed-in party: sign in and out, approve or decline a consent request,
co-sign a license.

The server never signs for the party and never sees its key. It prepares the unsigned
statement (the same library functions the CLI uses), shows in words what it says, and the
page's script (static/sign.js) signs those exact bytes with the key the browser holds and
submits the envelope to ``POST /v1/statements``, where it is checked like any other.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..errors import BadInput
from .forms import form
from .pages import PAGE_HEADERS, call, call_writing, db, page, render, state
from .session import COOKIE, SESSION_S, challenge_text, check_csrf, current, require, sessions

__all__ = ["approve", "cosign", "decline", "sign_in", "sign_in_challenge", "sign_in_form",
           "sign_out"]


def _ledger(request: Request) -> Any:
    ledger = state(request).ledger
    assert ledger is not None
    return ledger


@page
async def sign_in_form(request: Request) -> Response:
    from ..registry.parties import list_parties

    current(request)
    parties = await call(request, list_parties, db(request))
    return render(request, "sign_in.html", {"parties": parties,
                                            "chosen": request.query_params.get("party", "")})


@page
async def sign_in_challenge(request: Request) -> Response:
    """A fresh one-time challenge for the party (JSON, for static/signin.js)."""
    from ..registry.parties import party_detail

    fields = await form(request)
    party = await call(request, party_detail, db(request), fields.get("party", ""))
    nonce = await call_writing(request, sessions(state(request)).challenge, party.id)
    return JSONResponse({"party": party.id, "nonce": nonce,
                         "text": challenge_text(_ledger(request).registry, party.id, nonce)},
                        headers=PAGE_HEADERS)


@page
async def sign_in(request: Request) -> Response:
    from ..registry.parties import party_detail

    fields = await form(request)
    party = await call(request, party_detail, db(request), fields.get("party", ""))
    ledger = _ledger(request)
    key = await call(request, _signing_key_now, ledger, party.id)
    token, _ = await call_writing(request, sessions(state(request)).open, party.id,
                          fields.get("nonce", ""), fields.get("signature", ""), key,
                          ledger.registry, party.name, party.kind)
    response = RedirectResponse(f"/parties/{party.id}", status_code=303, headers=PAGE_HEADERS)
    response.set_cookie(COOKIE, token, max_age=SESSION_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


def _signing_key_now(ledger: Any, party: str) -> bytes:
    """The party's signing key in force now (docs/keys.md): a key rotated out, revoked or
    cancelled signs no one in."""
    from ..errors import PolicyDenied
    from ..identity.keys import party_keys_now

    rules = ledger.deployment()
    keys = [k for k in party_keys_now(ledger.db, party, rules.registry,
                                      rules.key_rotation_wait_s) if k.role == "signing"]
    if not keys:
        raise PolicyDenied(f"{party} has no signing key in force (revoked?); recover it with "
                           "`reelrights key recover` first")
    return bytes(keys[-1].public_key)


@page
async def sign_out(request: Request) -> Response:
    session = require(request)
    await check_csrf(request, session)
    await call_writing(request, sessions(state(request)).close, request.cookies.get(COOKIE))
    response = RedirectResponse("/", status_code=303, headers=PAGE_HEADERS)
    response.delete_cookie(COOKIE, path="/")
    return response


def _sign_page(request: Request, statement: dict[str, Any], words: list[str], heading: str,
               names: dict[str, str], back: str) -> Response:
    return render(request, "sign.html", {
        "heading": heading, "words": words, "names": names, "back": back,
        "statement_json": json.dumps(statement, ensure_ascii=False),
        "pretty": json.dumps(statement, indent=2, ensure_ascii=False, sort_keys=True)})


def _request_words(r: Any, names: dict[str, str], approve: bool, reason: str) -> list[str]:
    who = names.get(r.requester, r.requester)
    me = names.get(r.performer, r.performer)
    use = " and ".join(r.kinds)
    scope = " and ".join(x for x in (f"the production “{r.production}”" if r.production else "",
                                     f"the model family “{r.model_family}”" if r.model_family
                                     else "") if x)
    if not approve:
        return [f"I, {me}, decline the request by {who} to use my {use} for {scope}.",
                f"My reason, which {who} will read: “{reason}”."]
    return [f"I, {me}, consent to {who} using my {use} for {scope}.",
            f"Described as: “{r.description}”.",
            f"In these media: {', '.join(r.media)}; in: {', '.join(r.territory)}; "
            f"from {r.start} to {r.end}.",
            f"Compensation: {r.compensation_ref}.",
            "Only this use, by this party; I can revoke it at any time from now on."]


async def _decision(request: Request, approve: bool) -> Response:
    from ..registry.labels import display_names
    from ..rights.consent_requests import prepare_decision, request_detail

    r = await call(request, request_detail, db(request), request.path_params["id"])
    require(request, r.performer)
    reason = request.query_params.get("reason", "").strip()
    names = await call(request, display_names, db(request), [r.requester, r.performer])
    back = f"/parties/{r.performer}"
    if not approve and not reason:
        return render(request, "decline.html", {"r": r, "names": names, "back": back})
    statement = await call(request, prepare_decision, _ledger(request), r.id, approve=approve,
                           reason=reason)
    return _sign_page(request, statement, _request_words(r, names, approve, reason),
                      "Approve the request" if approve else "Decline the request", names, back)


@page
async def approve(request: Request) -> Response:
    return await _decision(request, True)


@page
async def decline(request: Request) -> Response:
    return await _decision(request, False)


@page
async def cosign(request: Request) -> Response:
    from ..registry.labels import display_names
    from ..rights.licensing import cosign_body, license_detail

    session = require(request)
    if session.kind != "guild":
        raise BadInput("only a guild co-signs a license; sign in as the guild")
    lic = await call(request, license_detail, db(request), request.path_params["id"])
    body = await call(request, cosign_body, db(request), lic.id, session.party)
    statement = await call(request, _ledger(request).new_statement, "license.cosigned",
                           session.party, body)
    names = await call(request, display_names, db(request),
                       [lic.licensor_id, lic.licensee_id, lic.bundle_id, session.party])
    words = [f"{session.name} co-signs license {lic.id}: {names.get(lic.licensor_id)} licenses "
             f"the bundle {names.get(lic.bundle_id)} to {names.get(lic.licensee_id)}, under the "
             f"guild's agreement {body['agreement']}.",
             "With every covering guild's co-signature, the license comes into force for its "
             "terms (the ODRL policy on the license's page)."]
    return _sign_page(request, statement, words, "Co-sign the license", names,
                      f"/parties/{session.party}")
