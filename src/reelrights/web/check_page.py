"""The check form: may this licensee do this with a bundle, or with every item of a manifest?
The same library calls as the CLI's ``check`` (:mod:`reelrights.rights.check_run`), the answer
in words: allowed or denied, with the chain of reasons. Only the signed-in licensee gets an
answer: the reasons (and the verdicts themselves, asked often enough) come from its licenses'
terms, which a sealed license keeps from everyone else (docs/visibility.md). The developer's page
links it for its own licenses."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import BadInput, NotFound, PolicyDenied, ReelrightsError
from ..rights.check_run import check_many, check_one, manifest_hashes
from ..rights.policy import ACTIONS
from .forms import form
from .pages import call, db, page, render

__all__ = ["check_form"]

#: A manifest of 10,000 hashes (65 bytes a line) fits; the CLI takes any size.
MAX_CHECK_FORM_BYTES = 1024 * 1024

#: How the page says each action ("Orbit AI may train on bundle …").
VERBS = {"train": "train on", "fineTune": "fine-tune on", "generate": "generate from",
         "ground": "ground answers in", "style": "imitate the style of",
         "synthesizeVoice": "synthesize a voice from", "synthesizeLikeness":
         "synthesize a likeness from"}


def _context(f: dict[str, str]) -> dict[str, Any]:
    on = f.get("on", "").strip()
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise BadInput(f"date {on!r} is not a date like 2027-03-31") from None
    return {"on": day, **{k: f.get(k, "").strip() or None
                          for k in ("model_family", "territory", "performer", "production",
                                    "purpose")}}


def _answer(db_: Any, f: dict[str, str]) -> dict[str, Any]:
    """Parse the form and call one library function: check_one or check_many."""
    bundle, manifest = f.get("bundle", "").strip(), f.get("manifest", "").strip()
    if bool(bundle) == bool(manifest):
        raise BadInput("give a bundle or a manifest (one SHA-256 per line), not both, not none")
    who: dict[str, Any] = {"licensee": f.get("licensee", "").strip(),
                           "action": f.get("action", "")}
    if manifest:
        hashes = list(manifest_hashes(manifest.splitlines()))
        return {"manifest": check_many(db_, hashes=hashes, **who, **_context(f))}
    ctx, verdict = check_one(db_, bundle=bundle, **who, **_context(f))
    return {"context": ctx, "verdict": verdict}


def _asker_is_licensee(request: Request, licensee: str) -> None:
    """Refuse an answer to anyone but the signed-in licensee (by id or by its exact name)."""
    from .session import current

    session = current(request)
    if session is None or licensee not in (session.party, session.name):
        raise PolicyDenied("a check answers from the licensee's licence terms: sign in as the "
                           "licensee to ask (the CLI's `check` does the same from its home)")


@page
async def check_form(request: Request) -> Response:
    from ..registry.labels import display_names
    from ..registry.parties import list_parties

    if request.method == "POST":
        f = await form(request, MAX_CHECK_FORM_BYTES)
    else:
        f = dict(request.query_params)
    parties = await call(request, list_parties, db(request))
    view: dict[str, Any] = {"f": f, "actions": ACTIONS, "verbs": VERBS,
                            "licensees": [p for p in parties if p.kind == "developer"]}
    status = 200
    if f.get("action"):
        try:
            _asker_is_licensee(request, f.get("licensee", "").strip())
            view.update(await call(request, _answer, db(request), f))
        except NotFound as exc:
            view["error"], status = str(exc), 404
        except PolicyDenied as exc:
            view["error"], status = str(exc), 403
        except ReelrightsError as exc:
            view["error"], status = str(exc), 400
    found = view.get("verdict") or view.get("manifest")
    ctx = view.get("context") or getattr(found, "context", None)
    view["names"] = await call(request, display_names, db(request),
                               [ctx.licensee] if ctx is not None else [])
    return render(request, "check.html", view, status=status)
