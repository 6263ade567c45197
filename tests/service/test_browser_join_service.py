"""A party joining with a key made in a browser on a service that admits (``reelrights serve``'s
default): its registration and its recovery key's statement, one batch, are open to a party not
yet admitted; anything else it signs waits for its admission (docs/web.md, docs/identity.md)."""

from __future__ import annotations

import base64
from collections.abc import Callable

from service_kit import Server, verified_log, work_entry

from reelrights.core.ids import new_id
from reelrights.core.key_history import possession_message
from reelrights.core.statements import make_statement, sign_statement
from reelrights.keys import PartyKey


def test_a_browser_key_joins_a_service_that_admits(service: Callable[..., Server]) -> None:
    srv = service(open_appends=False)
    key, recovery = PartyKey.generate(), PartyKey.generate()
    pid = new_id("party")
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    registered = make_statement("party.registered", pid, {
        "id": pid, "kind": "performer", "name": "Mira Sol",
        "public_key": b64(key.public_key_bytes), "key_origin": "browser"},
        registry=srv.registry)
    rpub = b64(recovery.public_key_bytes)
    recovery_set = make_statement("key.recovery.set", pid, {
        "party": pid, "seq": 1, "public_key": rpub,
        "proof": b64(recovery.sign(possession_message(srv.registry, pid, 1, "recovery", rpub)))},
        registry=srv.registry)
    alone = srv.post(sign_statement(registered, key))
    assert alone.status_code == 422 and "recovery key must be set" in alone.json()["detail"]
    batch = sign_statement(registered, key) + b"\n" + sign_statement(recovery_set, key) + b"\n"
    r = srv.post(batch, "application/jsonl")
    assert r.status_code == 200, r.text
    assert [x["index"] for x in r.json()["receipts"]] == [1, 2]
    # pending: it acts once admitted, like any party
    owner = type("P", (), {"id": pid, "key": key})
    r = srv.post(work_entry(srv.registry, owner))  # type: ignore[arg-type]
    assert r.status_code == 403 and r.json()["type"].endswith("not-admitted")
    assert len(verified_log(srv.home)) == 3
