"""POST /v1/statements against a real server: receipts, replays, refusals as problem details."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable

import httpx
from service_kit import Server, new_party, verified_log, work_entry

from reelrights.core.checkpoint import Checkpoint

PROBLEM = "application/problem+json"


def _note_size(note: str) -> int:
    return int(note.split("\n")[1])


def _problem(r: httpx.Response, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == f"https://reelrights.dev/problems/{slug}" and body["status"] == status
    return body


def test_single_and_batch_get_receipts_in_a_published_checkpoint(
        service: Callable[..., Server], service_backend: str) -> None:
    srv = service(backend=service_backend)
    studio = new_party(srv.registry)
    r = srv.post(studio.entry)
    assert r.status_code == 200, r.text
    assert "reelrights-duplicate" not in r.headers
    out = r.json()
    (receipt,) = out["receipts"]
    assert receipt["index"] == 1 and receipt["type"] == "party.registered"
    assert receipt["id"] == studio.id and receipt["statement"].startswith("stm_")
    assert len(receipt["leaf_hash"]) == 64 and receipt["log_time"].endswith("Z")
    assert _note_size(out["checkpoint"]) > receipt["index"]
    # the checkpoint is the one published in the static folder, signed by the log
    published = (srv.home.log_dir / "checkpoint").read_text()
    assert _note_size(published) >= _note_size(out["checkpoint"])
    works = [work_entry(srv.registry, studio, f"Film {i}") for i in range(5)]
    r = srv.post(b"\n".join(works) + b"\n", "application/jsonl")
    assert r.status_code == 200, r.text
    indices = [x["index"] for x in r.json()["receipts"]]
    assert indices == [2, 3, 4, 5, 6]
    assert _note_size(r.json()["checkpoint"]) >= 7
    r = srv.post(b"\n".join([work_entry(srv.registry, studio)]), "application/x-ndjson")
    assert r.status_code == 200 and r.json()["receipts"][0]["index"] == 7
    assert srv.stop() == 0  # Ctrl-C stops it cleanly
    assert len(verified_log(srv.home)) == 8


def test_a_replay_gets_the_original_receipt_and_another_body_a_conflict(
        service: Callable[..., Server]) -> None:
    srv = service()
    studio = new_party(srv.registry)
    first = srv.post(studio.entry).json()
    again = srv.post(studio.entry)
    assert again.status_code == 200 and again.headers["reelrights-duplicate"] == "true"
    (orig,), (dup,) = first["receipts"], again.json()["receipts"]
    for k in ("index", "leaf_hash", "log_time", "statement", "type", "actor"):
        assert dup[k] == orig[k]
    assert _note_size(again.json()["checkpoint"]) > dup["index"]
    # a whole batch sent again (a client retrying after a lost answer): the original receipts
    batch = b"\n".join(work_entry(srv.registry, studio) for _ in range(3))
    one = srv.post(batch, "application/jsonl").json()["receipts"]
    two = srv.post(batch, "application/jsonl")
    assert two.headers.get("reelrights-duplicate") == "true"
    assert [x["index"] for x in two.json()["receipts"]] == [x["index"] for x in one]
    # the same statement id with other bytes (re-signed with another time): 409
    doc = json.loads(studio.entry)
    from reelrights.core.statements import sign_statement

    stmt = doc["statement"]
    stmt["time"] = stmt["time"][:-2] + ("1Z" if stmt["time"][-2] != "1" else "2Z")
    other = sign_statement(stmt, studio.key)
    body = _problem(srv.post(other), 409, "conflict")
    assert stmt["id"] in body["detail"] and f"index {orig['index']}" in body["detail"]
    assert body["exit_code"] == 2
    # a batch mixing a logged statement and a new one: refused whole, naming the position
    mixed = b"\n".join([work_entry(srv.registry, studio), studio.entry])
    body = _problem(srv.post(mixed, "application/jsonl"), 409, "conflict")
    assert body["position"] == 1
    rows = verified_log(srv.home)
    assert len(rows) == 5 and len({sid for _, sid in rows}) == 5


def test_forged_and_malformed_statements_are_refused_and_nothing_is_written(
        service: Callable[..., Server], service_backend: str) -> None:
    srv = service(backend=service_backend)
    studio = new_party(srv.registry)
    assert srv.post(studio.entry).status_code == 200
    good = work_entry(srv.registry, studio)
    doc = json.loads(good)
    sig = bytearray(base64.b64decode(doc["signature"]["sig"]))
    sig[5] ^= 1
    doc["signature"]["sig"] = base64.b64encode(bytes(sig)).decode()
    from reelrights.core.canonical import canonical_bytes

    forged = canonical_bytes(doc)
    body = _problem(srv.post(forged), 422, "verification-failed")
    assert "does not verify" in body["detail"] and body["exit_code"] == 1
    # impersonation: a statement by the studio signed with another party's key
    mallory = new_party(srv.registry)
    assert srv.post(mallory.entry).status_code == 200
    from reelrights.core.statements import sign_statement

    imp = sign_statement(doc["statement"], mallory.key)
    body = _problem(srv.post(imp), 422, "verification-failed")
    assert "not that party's registered key" in body["detail"]
    # in a batch: the position of the forged one, and nothing of the batch written
    body = _problem(srv.post(b"\n".join([work_entry(srv.registry, studio), forged]),
                             "application/jsonl"), 422, "verification-failed")
    assert body["position"] == 1 and body["detail"].startswith("statement 2 of 2: ")
    body = _problem(srv.post(b'{"signature":1}'), 422, "invalid-statement")
    assert body["exit_code"] == 2
    _problem(srv.post(b"\n\n", "application/jsonl"), 422, "invalid-statement")
    rows = verified_log(srv.home)
    assert len(rows) == 3  # established, the studio, mallory: nothing else
    assert srv.post(good).status_code == 200  # the genuine statement still goes in


def test_content_type_and_size_limits(service: Callable[..., Server]) -> None:
    srv = service(config={"max_single_bytes": 2048, "max_batch_bytes": 8192,
                          "max_batch_entries": 3})
    studio = new_party(srv.registry)
    body = _problem(srv.post(studio.entry, "text/plain"), 415, "unsupported-media-type")
    assert "application/json" in body["detail"]
    _problem(srv.post(studio.entry, "application/x-www-form-urlencoded"), 415,
             "unsupported-media-type")
    big = b"x" * 4096
    body = _problem(srv.post(big), 413, "too-large")
    assert "2,048 bytes" in body["detail"]
    # without a Content-Length (chunked): counted as it streams, refused past the cap

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"y" * 1024
    r = httpx.post(srv.url + "/v1/statements", content=chunks(),
                   headers={"content-type": "application/json"})
    _problem(r, 413, "too-large")
    _problem(srv.post(b"\n".join([big] * 3), "application/jsonl"), 413, "too-large")
    lines = b"\n".join(work_entry(srv.registry, studio) for _ in range(4))
    if len(lines) <= 8192:
        body = _problem(srv.post(lines, "application/jsonl"), 413, "too-many-entries")
        assert "at most 3" in body["detail"]
    assert srv.post(studio.entry).status_code == 200
    assert len(verified_log(srv.home)) == 2


def test_allowlist(service: Callable[..., Server], tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from service_kit import CLI

    srv = service(open_appends=False, config={"admission": False})  # --allowlist-only
    studio = new_party(srv.registry)
    body = _problem(srv.post(studio.entry), 403, "key-not-allowed")
    assert studio.public in body["detail"]
    assert f"reelrights service allow {studio.public}" in body["detail"]
    assert body["exit_code"] == 3

    def cli(*args: str) -> str:
        return subprocess.run([sys.executable, "-c", CLI, "--home", str(srv.home.path), *args],
                              check=True, capture_output=True, text=True).stdout
    assert cli("service", "allow", studio.public, "--note", "checked by phone").strip() == \
        studio.public
    r = srv.post(studio.entry)
    assert r.status_code == 200, r.text
    assert r.json()["receipts"][0]["id"] == studio.id
    listed = json.loads(cli("service", "allowed", "--json"))
    assert [(x["key"], x["party"], x["note"]) for x in listed] == [
        (studio.public, studio.id, "checked by phone")]
    # a statement of a registered party whose key is not (any more) allowed
    cli("service", "disallow", studio.public)
    import time

    time.sleep(2.2)  # the servers re-read the list every 2 s (REFRESH_S)
    body = _problem(srv.post(work_entry(srv.registry, studio)), 403, "key-not-allowed")
    assert studio.public in body["detail"]
    # in a batch, the position of the first key not allowed
    cli("service", "allow", studio.public)
    other = new_party(srv.registry)
    body = _problem(srv.post(b"\n".join([work_entry(srv.registry, studio), other.entry]),
                             "application/jsonl"), 403, "key-not-allowed")
    assert body["position"] == 1 and other.public in body["detail"]
    assert len(verified_log(srv.home)) == 2


def test_rate_limits_answer_429_with_retry_after(service: Callable[..., Server]) -> None:
    srv = service(config={"key_rate": 0.5, "key_burst": 2, "address_rate": 1000,
                          "address_burst": 1000})
    studio = new_party(srv.registry)
    assert srv.post(studio.entry).status_code == 200
    codes = [srv.post(work_entry(srv.registry, studio)) for _ in range(3)]
    assert [r.status_code for r in codes[:1]] == [200]
    limited = codes[-1]
    body = _problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1 and "key id" in body["detail"]
    # another key is not held back by this one's bucket
    assert srv.post(new_party(srv.registry).entry).status_code == 200
    srv2 = service(config={"address_rate": 0.5, "address_burst": 2})
    studio2 = new_party(srv2.registry)
    answers = [srv2.post(new_party(srv2.registry).entry) for _ in range(3)]
    limited = answers[-1]
    body = _problem(limited, 429, "rate-limited")
    assert "127.0.0.1" in body["detail"] and int(limited.headers["retry-after"]) >= 1
    del studio2


def test_concurrent_singles_are_coalesced_and_a_bad_one_is_refused_alone(
        service: Callable[..., Server], service_backend: str) -> None:
    srv = service(backend=service_backend, config={"coalesce_wait_s": 0.05})
    studio = new_party(srv.registry)
    assert srv.post(studio.entry).status_code == 200
    good = [work_entry(srv.registry, studio, f"Film {i}") for i in range(40)]
    doc = json.loads(work_entry(srv.registry, studio, "Forged"))
    doc["statement"]["body"]["title"] = "Tampered"
    from reelrights.core.canonical import canonical_bytes

    bad = canonical_bytes(doc)
    unknown = new_party(srv.registry)  # never registered: refused by the registry, not decode
    stranger = work_entry(srv.registry, unknown)
    entries = good[:20] + [bad] + good[20:] + [stranger]
    answers: dict[int, httpx.Response] = {}
    go = threading.Barrier(len(entries))

    def send(i: int) -> None:
        go.wait()
        answers[i] = srv.post(entries[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(entries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad_answer, stranger_answer = answers.pop(20), answers.pop(len(entries) - 1)
    body = _problem(bad_answer, 422, "verification-failed")
    assert "does not verify" in body["detail"] and "position" not in body
    assert not body["detail"].startswith("statement ")  # worded as for a single statement
    body = _problem(stranger_answer, 422, "verification-failed")
    assert "not a registered party" in body["detail"]
    assert all(r.status_code == 200 for r in answers.values()), [
        r.text for r in answers.values() if r.status_code != 200]
    indices = sorted(r.json()["receipts"][0]["index"] for r in answers.values())
    assert indices == list(range(2, 42))
    # they shared batches: fewer checkpoints than statements
    checkpoints = {r.json()["checkpoint"] for r in answers.values()}
    assert len(checkpoints) < 40
    for r in answers.values():
        (rc,) = r.json()["receipts"]
        assert Checkpoint.parse(r.json()["checkpoint"].rpartition("\n\n")[0] + "\n").size > rc[
            "index"]
    rows = verified_log(srv.home)
    assert len(rows) == 42


def test_serve_gates_by_admission_by_default(service: Callable[..., Server]) -> None:
    """`reelrights serve` with no mode flag: anyone may join (pending), nobody acts unadmitted."""
    srv = service(open_appends=False)
    newcomer = new_party(srv.registry)
    assert srv.post(newcomer.entry).status_code == 200  # joining is open
    body = _problem(srv.post(work_entry(srv.registry, newcomer)), 403, "not-admitted")
    assert newcomer.id in body["detail"] and "request-admission" in body["detail"]
    assert body["exit_code"] == 3
    assert len(verified_log(srv.home)) == 2  # the operator's party and the newcomer, no work
