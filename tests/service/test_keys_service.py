"""Keys over time against the real service (`reelrights serve`, both backends): a party in its
own home rotates through `--server`, the recovery key cancels a thief's rotation, and statements
signed with a key outside its validity are refused over HTTP (docs/keys.md). The registry is
established with a 2-second rotation wait, so the test sees one take effect."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from service_kit import make_home

from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.core.key_history import possession_message
from reelrights.core.statements import make_statement, sign_statement
from reelrights.keys import PartyKey, load_key_file
from reelrights.ledger import Ledger
from reelrights.media.synth import make_script

WAIT_S = 2


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        monkeypatch.delenv(var, raising=False)


def _run(home: Path, server: str, *args: str, want: int = 0) -> str:
    r = CliRunner().invoke(cli, ["--home", str(home), "--server", server, *args])
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    assert r.exit_code == want, (args, r.stdout, r.stderr)
    return r.stdout


def _post(server, registry: str, key: PartyKey, type_: str, actor: str, body: dict,
          seq: int) -> httpx.Response:
    stmt = make_statement(type_, actor, body, registry=registry, key_seq=seq)
    return server.post(sign_statement(stmt, key))


def _work_body(owner: str, n: int) -> dict:
    return {"id": new_id("work"), "kind": "film", "title": f"Film {n}", "owner": owner,
            "assets": [{"sha256": f"{n + 7:064x}", "size": 10, "media_type": "video/mp4",
                        "category": "video", "name": f"film{n}.mp4"}]}


def test_rotation_cancellation_and_refusals_over_http(service, service_backend: str,
                                                      tmp_path: Path) -> None:
    home = make_home(tmp_path / "operator", service_backend)
    ledger = Ledger.open(home, establish=False)
    operator = home.operator_key()
    ledger.establish(home.registry, home.log_key(), key_rotation_wait_s=WAIT_S,
                     operator_key=None if operator is None else operator.public_key_bytes)
    ledger.close()
    ledger.db.dispose()
    server = service(home=home)
    url, registry = server.url, server.registry
    mine = tmp_path / "studio"
    pid = json.loads(_run(mine, url, "party", "add", "--kind", "studio", "--name",
                          "Northlight Pictures", "--json"))["id"]
    _run(mine, url, "key", "new", str(tmp_path / "rec.pem"))
    _run(mine, url, "key", "recovery-set", "--as", pid, "--recovery-key", str(tmp_path / "rec.pem"))
    stolen = load_key_file(mine / "keys" / f"{pid}.pem")

    # A thief with the current key rotates to its own key; the recovery key cancels it.
    thief = PartyKey.generate()
    pub = base64.b64encode(thief.public_key_bytes).decode()
    proof = base64.b64encode(thief.sign(possession_message(registry, pid, 2, "signing", pub)))
    r = _post(server, registry, stolen, "key.rotation.requested", pid,
              {"party": pid, "seq": 2, "public_key": pub, "proof": proof.decode()}, 0)
    assert r.status_code == 200, r.text
    # A forged cancellation (the signing key, not the recovery key) is refused.
    r = _post(server, registry, stolen, "key.rotation.cancelled", pid, {"party": pid, "seq": 2},
              0)
    assert r.status_code == 422 and "recovery key" in r.text
    _run(mine, url, "key", "cancel-rotation", "--as", pid, "--recovery-key",
         str(tmp_path / "rec.pem"))
    time.sleep(WAIT_S + 0.5)
    r = _post(server, registry, thief, "work.registered", pid, _work_body(pid, 1), 2)
    assert r.status_code == 422 and "cancelled rotation" in r.text

    # The party's own rotation: its new key is refused until the wait is over ...
    _run(mine, url, "key", "new", str(tmp_path / "new.pem"))
    _run(mine, url, "key", "rotate", "--as", pid, "--new-key", str(tmp_path / "new.pem"))
    new = load_key_file(tmp_path / "new.pem")
    r = _post(server, registry, new, "work.registered", pid, _work_body(pid, 2), 3)
    assert r.status_code == 422 and "takes effect at log time" in r.text
    time.sleep(WAIT_S + 0.5)
    # ... then the old key is refused, and the party's home signs with the new one.
    r = _post(server, registry, stolen, "work.registered", pid, _work_body(pid, 3), 0)
    assert r.status_code == 422 and "retired since log time" in r.text
    script = make_script(tmp_path / "s.fountain", title="Harbour Lights", author="M", scenes=2,
                         seed=3)
    _run(mine, url, "work", "add", "--owner", pid, "--kind", "script", "--title", "Harbour",
         str(script))
    history = json.loads(_run(mine, url, "key", "history", pid, "--json"))
    assert [(k["seq"], k["role"], k["status"]) for k in history["keys"]] == [
        (0, "signing", "retired"), (1, "recovery", "active"), (2, "signing", "cancelled"),
        (3, "signing", "active")]
    assert history["rotation_wait_s"] == WAIT_S
    # Revoked by the recovery key: nothing signed with the revoked key is accepted after it.
    _run(mine, url, "key", "revoke", "--as", pid, "--reason", "laptop lost", "--recovery-key",
         str(tmp_path / "rec.pem"))
    r = _post(server, registry, new, "work.registered", pid, _work_body(pid, 4), 3)
    assert r.status_code == 422 and "revoked at log index" in r.text
    # And the operator's own home verifies the whole log, keys replayed from it.
    _run(tmp_path / "studio", url, "sync")
    r = CliRunner().invoke(cli, ["--home", str(home.path), "log", "verify"])
    assert r.exit_code == 0 and r.stdout.startswith("ok: "), r.output
