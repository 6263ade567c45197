"""The log server's witnessing task against real witnesses (``reelrights witness serve``) on
127.0.0.1: cosignatures from two witnesses reach the published checkpoint, a K-of-N policy
passes or fails on them, a restarted server catches up with a witness through its 409, and
receipts never wait for a witness that is down. Both database backends."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from service_kit import CLI, Server, new_party, start_server
from witness_kit import WitnessProc, start_witness

from reelrights.core.checkpoint import Checkpoint
from reelrights.core.cosignature import (
    CosignedCheckpoint,
    open_cosigned,
    verify_cosigned_checkpoint,
)
from reelrights.core.tlog_policy import parse_policy
from reelrights.errors import SignatureError
from reelrights.home import Home
from reelrights.log.cosigned import CACHE_S

FAST = {"witness_interval_s": 0.2, "witness_refresh_s": 2.0}


def _options(witnesses: list[WitnessProc]) -> tuple[str, ...]:
    return tuple(x for w in witnesses for x in ("--witness", f"{w.url}={w.vkey}"))


def _cosigned(srv: Server, witnesses: list[WitnessProc], size: int,
              timeout: float = 30) -> tuple[bytes, CosignedCheckpoint]:
    """Poll GET /checkpoint until it is of ``size`` and carries every witness's cosignature."""
    deadline = time.monotonic() + timeout
    while True:
        note = httpx.get(srv.url + "/checkpoint").content
        got = open_cosigned(note, srv.home.log_vkey(), [w.vkey for w in witnesses])
        if got.checkpoint.size == size and len(got.cosignatures) == len(witnesses):
            return note, got
        assert time.monotonic() < deadline, f"no cosigned checkpoint of size {size}: {note!r}"
        time.sleep(0.1)


def test_two_witnesses_cosign_the_published_checkpoint(
        service: Callable[..., Server], service_backend: str, tmp_path: Path) -> None:
    home_srv = service(backend=service_backend)
    vkey = home_srv.home.log_vkey()
    home_srv.stop()
    ws = [start_witness(tmp_path / f"w{i}", [vkey], name=f"witness.example/w{i}")
          for i in range(2)]
    try:
        srv = start_server(home_srv.home, options=_options(ws), config=FAST)
        try:
            for _ in range(3):
                assert srv.post(new_party(srv.registry).entry).status_code == 200
            size = Checkpoint.parse(httpx.get(srv.url + "/checkpoint").content.split(b"\n\n")[0]
                                    + b"\n").size
            note, got = _cosigned(srv, ws, size)
            stamps = got.timestamps
            assert all(abs(t - time.time()) < 60 for t in stamps)
            # the policy: both of two witnesses; 2 of 3 with a third that never cosigned fails
            from reelrights.core.note import CosignatureSigner
            third = CosignatureSigner("witness.example/w9", b"\x09" * 32).vkey
            lines = [f"log {vkey}"] + [f"witness W{i} {w.vkey} {w.url}" for i, w in enumerate(ws)]
            ok = parse_policy("\n".join([*lines, "group both all W0 W1", "quorum both"]))
            assert verify_cosigned_checkpoint(note, None, ok).checkpoint.size == size
            strict = parse_policy("\n".join([*lines, f"witness W2 {third}",
                                             "group all3 3 W0 W1 W2", "quorum all3"]))
            try:
                verify_cosigned_checkpoint(note, vkey, strict)
                raise AssertionError("a 3-of-3 policy passed with two cosignatures")
            except SignatureError as exc:
                assert "needs 3 of W0, W1, W2" in str(exc)
            # a same-size refresh: later timestamps for the same checkpoint
            time.sleep(FAST["witness_refresh_s"] + 1.5)
            _, again = _cosigned(srv, ws, size)
            assert min(again.timestamps) >= max(stamps)
            info = httpx.get(srv.url + "/v1/log").json()
            assert open_cosigned(info["cosigned_checkpoint"].encode(), vkey,
                                 [w.vkey for w in ws]).checkpoint.size == size
            # the static folder's checkpoint (what mirrors copy) carries the cosignatures too
            static = (home_srv.home.log_dir / "checkpoint").read_bytes()
            assert len(open_cosigned(static, vkey, [w.vkey for w in ws]).cosignatures) == 2
        finally:
            srv.stop()
        # A new server process starts knowing nothing of the witnesses' sizes: their 409s tell
        # it, and it proves consistency from there.
        srv = start_server(home_srv.home, options=_options(ws), config=FAST)
        try:
            assert srv.post(new_party(srv.registry).entry).status_code == 200
            _cosigned(srv, ws, size + 1)
        finally:
            srv.stop()
    finally:
        for w in ws:
            w.stop()
    from reelrights.witness.store import WitnessStore
    for w in ws:
        store = WitnessStore(w.db)
        assert store.get(Home.open(home_srv.home.path).origin).size == size + 1
        assert store.refusals(home_srv.home.origin) == []
    # `log verify --policy`: the collected cosignatures meet the quorum, and every entry's log
    # time lies within the witnesses' timestamps
    policy = tmp_path / "two.policy"
    policy.write_text("\n".join([f"log {vkey}", *(f"witness W{i} {w.vkey}" for i, w in
                                                   enumerate(ws)), "group G all W0 W1",
                                  "quorum G", ""]))
    out = _log_verify(home_srv.home, policy)
    assert out.returncode == 0, out.stderr
    assert f"the largest (size {size + 1}) meets the policy's quorum with 2 witnesses" in out.stdout
    # a cosigned checkpoint that is not the log's own at that size (a split view) fails
    import sqlite3

    from reelrights.core.checkpoint import sign_checkpoint
    from reelrights.core.note import NoteSigner
    signer = NoteSigner(home_srv.home.origin, home_srv.home.log_key().seed)
    forked = sign_checkpoint(Checkpoint(home_srv.home.origin, size, b"\x05" * 32), signer)
    with sqlite3.connect(home_srv.home.path / "cosigned.sqlite") as db:
        db.execute("UPDATE checkpoints SET note = ? WHERE size = ?", (forked, size))
    out = _log_verify(home_srv.home, policy)
    assert out.returncode == 1 and f"size {size}" in out.stderr, out.stderr


def _log_verify(home: Home, policy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, "--home", str(home.path), "log", "verify",
                           "--policy", str(policy), "--no-projections"],
                          capture_output=True, text=True)


def test_receipts_do_not_wait_for_a_witness_that_is_down(
        service: Callable[..., Server], service_backend: str, tmp_path: Path) -> None:
    """One witness refuses connections, the other accepts them and never answers (its requests
    time out after 10 s): every receipt still comes back well before that, and the checkpoint is
    published without cosignatures."""
    home_srv = service(backend=service_backend)
    home_srv.stop()
    from reelrights.core.note import CosignatureSigner
    vkeys = [CosignatureSigner(f"witness.example/down{i}", bytes([3 + i]) * 32).vkey
             for i in range(2)]
    with socket.socket() as closed, socket.socket() as silent:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: connection refused
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # accepts in the backlog, never answers
        urls = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in (closed, silent)]
        srv = start_server(home_srv.home, config=FAST,
                           options=tuple(x for u, v in zip(urls, vkeys, strict=True)
                                         for x in ("--witness", f"{u}={v}")))
        try:
            started = time.monotonic()
            for _ in range(5):
                t = time.monotonic()
                assert srv.post(new_party(srv.registry).entry).status_code == 200
                assert time.monotonic() - t < 8.0
            assert time.monotonic() - started < 20.0
            note = httpx.get(srv.url + "/checkpoint").content
            got = open_cosigned(note, home_srv.home.log_vkey(), vkeys)
            assert got.checkpoint.size >= 5 and got.cosignatures == ()
        finally:
            srv.stop()
    # no witness ever cosigned: a policy that needs one fails, `quorum none` passes
    policy = tmp_path / "p"
    policy.write_text(f"witness A {vkeys[0]}\nquorum A\n")
    out = _log_verify(home_srv.home, policy)
    assert out.returncode == 1 and "no witness has cosigned" in out.stderr
    policy.write_text(f"witness A {vkeys[0]}\nquorum none\n")
    out = _log_verify(home_srv.home, policy)
    assert out.returncode == 0 and "no cosigned checkpoint yet" in out.stdout, out.stderr


def test_one_process_of_several_runs_the_witnessing(
        service: Callable[..., Server], tmp_path: Path) -> None:
    """`serve --workers 2`: one worker holds the lock and witnesses; every worker serves the
    cosignatures it stored."""
    home_srv = service()
    vkey = home_srv.home.log_vkey()
    home_srv.stop()
    w = start_witness(tmp_path / "w", [vkey])
    try:
        srv = start_server(home_srv.home, workers=2, options=_options([w]), config=FAST)
        try:
            for _ in range(2):
                assert srv.post(new_party(srv.registry).entry).status_code == 200
            size = Checkpoint.parse(httpx.get(srv.url + "/checkpoint").content.split(b"\n\n")[0]
                                    + b"\n").size
            _cosigned(srv, [w], size)
            # a worker that answered before the cosignature arrived may reuse that answer for
            # the store's cache period (half a second): past it, every worker has the lines
            time.sleep(CACHE_S + 0.2)
            for _ in range(20):  # new connections reach either worker
                note = httpx.Client().get(srv.url + "/checkpoint").content
                assert len(open_cosigned(note, vkey, [w.vkey]).cosignatures) == 1
        finally:
            srv.stop()
    finally:
        w.stop()


def test_witness_option_and_policy_parsing(tmp_path: Path) -> None:
    import pytest

    from reelrights.cli.serve_cmd import _witnesses
    from reelrights.core.note import CosignatureSigner, NoteSigner
    from reelrights.errors import BadInput
    from reelrights.service.witnessing import parse_witness_option

    vkey = CosignatureSigner("witness.example/w1", b"\x04" * 32).vkey
    assert parse_witness_option(f"http://127.0.0.1:9/a?b=c/={vkey}") == (
        "http://127.0.0.1:9/a?b=c", vkey)
    for bad in (vkey, f"127.0.0.1:9={vkey}", "http://x=y",
                f"http://x={NoteSigner('log.example', b'1' * 32).vkey}"):
        with pytest.raises(BadInput, match="--witness"):
            parse_witness_option(bad)
    policy = tmp_path / "p"
    other = CosignatureSigner("witness.example/w2", b"\x05" * 32).vkey
    policy.write_text(f"witness A {vkey} https://a.example/\nwitness B {other}\nquorum A\n")
    assert _witnesses((), policy) == [["https://a.example", vkey]]
