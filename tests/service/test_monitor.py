"""`reelrights monitor` against real servers on 127.0.0.1, in fresh processes with no home.

Split view: two `reelrights serve` processes share one log key (a home copied while stopped)
and then append different statements. A monitor that followed one is shown the other: both
orders (the second history smaller, then larger) are reported as a split view, exit 1, with
both signed checkpoints kept as evidence, and the monitor does not advance. A party's monitor
reports what touches it and was signed by someone else, as text, JSONL and to a webhook on
loopback. `reelrights verify --server` upgrades a proof to the server's newer checkpoint.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from service_kit import CLI, make_home, new_party, work_entry

from reelrights.core.statements import make_statement, sign_statement
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.proofs import issue_proof
from reelrights.replica.home import public_log_vkey

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELRIGHTS_")}
    env.update(HOME=str(cwd / "no-home"), PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _monitor(url: str, vkey: Path, state: Path, cwd: Path, *more: str
             ) -> subprocess.CompletedProcess[str]:
    return _cli(["monitor", "--server", url, "--log-key", str(vkey), "--state", str(state),
                 "--once", *more], cwd)


def _events(r: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def test_two_servers_sharing_a_key_but_diverging_are_a_split_view(service, tmp_path) -> None:
    home_a = make_home(tmp_path / "a")
    a = service(home=home_a)
    studio = new_party(a.registry)
    assert a.post(studio.entry).status_code == 200
    assert a.post(work_entry(a.registry, studio)).status_code == 200
    a.stop()
    shutil.copytree(home_a.path, tmp_path / "b")
    home_b = Home.open(tmp_path / "b")
    a, b = service(home=home_a), service(home=home_b)
    for _ in range(2):
        assert a.post(work_entry(a.registry, studio, "A side")).status_code == 200
    assert b.post(work_entry(b.registry, studio, "B side")).status_code == 200
    vkey = tmp_path / "log.vkey"
    vkey.write_text(public_log_vkey(home_a))
    for first, second in ((a, b), (b, a)):  # the other history smaller, then larger
        state = tmp_path / f"state-{first.url[-5:]}"
        r = _monitor(first.url, vkey, state, tmp_path, "--format", "jsonl")
        assert r.returncode == 0, r.stderr
        size = _events(r)[-1]["size"]
        assert _events(r)[-1]["event"] == "checkpoint"
        r = _monitor(second.url, vkey, state, tmp_path, "--format", "jsonl")
        assert r.returncode == 1, r.stdout + r.stderr
        [ev] = _events(r)
        assert ev["event"] == "split_view", ev
        assert {ev["a"]["size"], ev["b"]["size"]} == {size, size + (1 if first is b else -1)}
        assert ev["a"]["note"] != ev["b"]["note"]
        kept = list((state / "split-views").iterdir())
        assert len(kept) == 1 and json.loads(kept[0].read_text())["b"] == ev["b"]
        # It did not advance: the first server still verifies from where it stopped.
        assert json.loads((state / "state.json").read_text())["size"] == size
        r = _monitor(first.url, vkey, state, tmp_path, "--format", "jsonl")
        assert r.returncode == 1 and _events(r)[0]["event"] == "split_view"  # both kept


def test_a_checkpoint_from_elsewhere_and_a_wrong_key(service, tmp_path) -> None:
    srv = service()
    studio = new_party(srv.registry)
    assert srv.post(studio.entry).status_code == 200
    vkey = tmp_path / "log.vkey"
    vkey.write_text(public_log_vkey(srv.home))
    other = make_home(tmp_path / "other")
    r = _cli(["monitor", "--server", srv.url, "--log-key", public_log_vkey(other),
              "--state", str(tmp_path / "s0"), "--once"], tmp_path)
    assert r.returncode == 1 and "VERIFICATION FAILED" in r.stdout and "checkpoint" in r.stdout


@contextmanager
def _webhook() -> Iterator[tuple[str, list[dict]]]:
    got: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", got
    finally:
        httpd.shutdown()


def test_a_party_is_told_what_touches_it(service, tmp_path) -> None:
    srv = service()
    studio, performer, other = (new_party(srv.registry, k) for k in
                                ("studio", "performer", "studio"))
    for p in (studio, performer, other):
        assert srv.post(p.entry).status_code == 200
    work = work_entry(srv.registry, studio)
    assert srv.post(work).status_code == 200
    work_id = json.loads(work)["statement"]["body"]["id"]
    unrelated = work_entry(srv.registry, other, "Unrelated")
    assert srv.post(unrelated).status_code == 200
    credit = sign_statement(make_statement(
        "work.credited", studio.id, {"work": work_id, "party": performer.id,
                                     "role": "performer", "share": "1"},
        registry=srv.registry), studio.key)
    assert srv.post(credit).status_code == 200, srv.post(credit).text
    vkey = tmp_path / "log.vkey"
    vkey.write_text(public_log_vkey(srv.home))
    with _webhook() as (hook, got):
        r = _monitor(srv.url, vkey, tmp_path / "perf", tmp_path, "--party", performer.id,
                     "--format", "jsonl", "--webhook", hook)
        assert r.returncode == 0, r.stderr
        touches = [e for e in _events(r) if e["event"] == "touch"]
        assert [t["type"] for t in touches] == ["work.credited"], touches
        assert touches[0]["actor"] == studio.id and "credits it as performer" in touches[0]["why"]
        assert [e["event"] for e in got] == ["touch", "checkpoint"]
    # The performer's own statement is not reported; a second poll reports nothing new.
    r = _monitor(srv.url, vkey, tmp_path / "perf", tmp_path, "--party", performer.id)
    assert r.returncode == 0 and "touch" not in r.stdout and r.stdout.startswith("checkpoint")
    # A wrong kind of argument is bad input, in one line.
    r = _monitor(srv.url, vkey, tmp_path / "x", tmp_path, "--party", "Ada")
    assert r.returncode == 2 and "--party" in r.stderr and "Traceback" not in r.stderr


def test_verify_upgrades_a_proof_online(service, tmp_path) -> None:
    srv = service()
    studio = new_party(srv.registry)
    assert srv.post(studio.entry).status_code == 200
    ledger = Ledger.open(srv.home, establish=False)
    try:
        proof = tmp_path / "p.tlog-proof"
        proof.write_text(issue_proof(ledger, 1).format())
    finally:
        ledger.close()
    assert srv.post(work_entry(srv.registry, studio)).status_code == 200
    vkey = tmp_path / "log.vkey"
    vkey.write_text(public_log_vkey(srv.home))
    r = _cli(["verify", str(proof), "--log-key", str(vkey), "--server", srv.url], tmp_path)
    assert r.returncode == 0 and "upgraded online" in r.stdout, r.stdout + r.stderr
    # A receipt's holder fetches its proof file from the service and verifies it anywhere.
    receipt = srv.post(work_entry(srv.registry, studio)).json()
    index = receipt["receipts"][0]["index"] if "receipts" in receipt else receipt["index"]
    got = httpx.get(f"{srv.url}/v1/proofs/file", params={"ref": str(index)})
    assert got.status_code == 200 and got.text.startswith("c2sp.org/tlog-proof@v1\n")
    (tmp_path / "r.tlog-proof").write_text(got.text)
    r = _cli(["verify", "r.tlog-proof", "--log-key", str(vkey), "--json"], tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["index"] == index, r.stderr
    assert httpx.get(f"{srv.url}/v1/proofs/file", params={"ref": "nope"}).status_code == 400
    assert httpx.get(f"{srv.url}/v1/proofs/file", params={"ref": "999999"}).status_code == 404


def test_a_static_mirror_with_a_tampered_entry_bundle(tmp_path) -> None:
    """A monitor follows a plain static mirror (no service); an entry changed under an honest
    checkpoint is refused, exit 1, and the monitor does not advance."""
    from client_servers import static_server

    from reelrights.registry.parties import register_party

    home, _ = Home.init(tmp_path / "op")
    ledger = Ledger.open(home)
    try:
        for i in range(3):
            register_party(home, ledger, "studio", f"Studio {i}")
    finally:
        ledger.close()
    mirror = tmp_path / "mirror"
    shutil.copytree(home.log_dir, mirror)
    for bundle in (p for p in (mirror / "tile" / "entries").rglob("*") if p.is_file()):
        data = bytearray(bundle.read_bytes())
        data[-10] ^= 0x01  # a byte inside the last entry of every entry bundle
        bundle.write_bytes(bytes(data))
    vkey = tmp_path / "log.vkey"
    vkey.write_text(public_log_vkey(home))
    with static_server(mirror) as url:
        r = _monitor(url, vkey, tmp_path / "s", tmp_path, "--format", "jsonl")
    assert r.returncode == 1, r.stdout + r.stderr
    [ev] = _events(r)
    assert ev["event"] == "verification_failed" and "entr" in ev["detail"], ev  # entry or entries
    state = tmp_path / "s" / "state.json"
    assert not state.exists() or json.loads(state.read_text())["size"] == 0
    with static_server(home.log_dir) as url:
        r = _monitor(url, vkey, tmp_path / "s", tmp_path, "--format", "jsonl")
    assert r.returncode == 0 and _events(r)[-1]["size"] == 4, r.stdout + r.stderr
