"""A party's home follows a log's static tiles: join, incremental sync, and the refusals.

The log is served by a plain static file server (``http.server``) over the operator's ``log/``
folder on 127.0.0.1 port 0, as any web server or CDN would serve it: the client and sync need
nothing else to read. Attacks: a split view (a second history signed with the same key, served
at the same size, larger, or smaller), a checkpoint signed by another key, a tampered entry
bundle under an honest checkpoint. Each is refused in one line, exit 1, with nothing written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from client_servers import static_server

from reelrights.cli import cli
from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
from reelrights.core.note import NoteSigner
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.registry.parties import list_parties, register_party
from reelrights.replica import SplitView, sync
from reelrights.replica.remote import open_remote_ledger


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        monkeypatch.delenv(var, raising=False)


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def ok(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 0, (args, out, err)
    return out


def operator(path: Path, parties: int = 3) -> tuple[Home, Ledger, str]:
    home, _ = Home.init(path)
    ledger = Ledger.open(home)
    for i in range(parties):
        register_party(home, ledger, "studio", f"Studio {i}")
    return home, ledger, NoteSigner(home.origin, home.log_key().seed).vkey


def test_join_a_static_mirror_then_sync_incrementally(tmp_path: Path) -> None:
    home, ledger, vkey = operator(tmp_path / "op")
    party = str(tmp_path / "party")
    with static_server(home.log_dir) as url:
        out = ok("--home", party, "join", "--server", url, "--log-key", vkey, "--json")
        joined = json.loads(out)
        assert joined["created"] is True and joined["size"] == 4 and joined["log_key"] == vkey
        mode = (Path(party) / "keys").stat().st_mode & 0o777
        assert mode == 0o700 and not (Path(party) / "keys" / "log.pem").exists()
        names = json.loads(ok("--home", party, "party", "list", "--json"))
        assert sorted(p["name"] for p in names) == ["Studio 0", "Studio 1", "Studio 2"]
        # the operator appends; the party's next command (any command) sees it
        register_party(home, ledger, "guild", "A Guild")
        assert "A Guild" in ok("--home", party, "party", "list")
        report = json.loads(ok("--home", party, "sync", "--json"))
        assert report == {**report, "old_size": 5, "size": 5, "entries": 0}
        for i in range(300):  # across a full tile: partial tiles replaced by full ones
            register_party(home, ledger, "writer", f"Writer {i}")
        report = json.loads(ok("--home", party, "sync", "--json"))
        assert (report["old_size"], report["size"]) == (5, 305)
        # the replica verifies as the log's own home does, and its log/ folder is the log's
        assert ok("--home", party, "log", "verify").startswith("ok: ")
        assert ok("--home", party, "log", "checkpoint") == ok("--home", str(home.path), "log",
                                                              "checkpoint")
        assert (Path(party) / "log" / "checkpoint").read_bytes() == \
            (home.log_dir / "checkpoint").read_bytes()
        assert ok("--home", party, "log", "verify", "--tiles", str(Path(party) / "log"),
                  "--key", vkey).startswith("ok: ")
        # join again: idempotent
        again = json.loads(ok("--home", party, "join", "--server", url, "--json"))
        assert again["created"] is False and again["size"] == 305
    ledger.close()


def test_a_replica_refuses_to_append_without_a_service_and_names_why(tmp_path: Path) -> None:
    home, ledger, vkey = operator(tmp_path / "op", parties=1)
    party = str(tmp_path / "party")
    with static_server(home.log_dir) as url:
        ok("--home", party, "join", "--server", url, "--log-key", vkey)
        code, out, err = run("--home", party, "party", "add", "--kind", "studio", "--name", "S")
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert "HTTP 501" in err or "HTTP 405" in err or "not" in err
    assert list((Path(party) / "keys").iterdir()) == []  # the new key was not kept
    ledger.close()


def _fork(tmp_path: Path) -> tuple[Home, Ledger, Home, Ledger, str]:
    """Two histories signed by one log key: the honest log, and a copy that diverges."""
    home, ledger, vkey = operator(tmp_path / "op", parties=2)
    ledger.close()
    ledger.db.dispose()
    shutil.copytree(home.path, tmp_path / "evil")
    evil = Home.open(tmp_path / "evil")
    evil.database_url_setting = None
    return home, Ledger.open(home), evil, Ledger.open(evil), vkey


def _head(party: Path) -> tuple[int, str]:
    cp = (party / "log" / "checkpoint").read_text().split("\n")
    return int(cp[1]), cp[2]


@pytest.mark.parametrize("evil_extra", [0, 1, 3], ids=["same-size", "one-more", "larger"])
def test_a_split_view_is_refused_and_nothing_is_written(tmp_path: Path, evil_extra: int) -> None:
    home, ledger, evil, evil_ledger, vkey = _fork(tmp_path)
    register_party(home, ledger, "studio", "Honest")
    register_party(evil, evil_ledger, "studio", "Forked")  # same size, another root
    for i in range(evil_extra):
        register_party(evil, evil_ledger, "studio", f"Forked {i}")
    party = tmp_path / "party"
    with static_server(home.log_dir) as url:
        ok("--home", str(party), "join", "--server", url, "--log-key", vkey)
    before = _head(party)
    with static_server(evil.log_dir) as evil_url:
        config = json.loads((party / "home.json").read_text())
        (party / "home.json").write_text(json.dumps({**config, "server": evil_url}))
        code, out, err = run("--home", str(party), "sync")
        assert code == 1 and out == "" and len(err.splitlines()) == 1, err
        assert err.startswith("error: split view: the log's checkpoint"), err
        assert "Nothing was synced" in err
        assert _head(party) == before  # the replica keeps the history it verified
        names = [p.name for p in list_parties(open_remote_ledger(
            Home.open(party), fresh=False).db)]
        assert "Honest" in names and not any(n.startswith("Forked") for n in names)
    ledger.close()
    evil_ledger.close()


def test_a_smaller_checkpoint_of_another_history_is_a_split_view(tmp_path: Path) -> None:
    home, ledger, evil, evil_ledger, vkey = _fork(tmp_path)
    for i in range(3):
        register_party(home, ledger, "studio", f"Honest {i}")
    party = tmp_path / "party"
    with static_server(home.log_dir) as url:
        ok("--home", str(party), "join", "--server", url, "--log-key", vkey)
    register_party(evil, evil_ledger, "studio", "Forked")  # size 4 < 6, another entry 3
    p = Home.open(party)
    with static_server(evil.log_dir) as evil_url:
        from reelrights.client import Client

        with Client(evil_url) as source, pytest.raises(SplitView, match="split view"):
            sync(p, source)
    # an honest older checkpoint (a stale cache) is a prefix: nothing to do, no error
    with ledger.db.read() as conn:
        old = ledger.log.checkpoint(conn, 4)
    with static_server(home.log_dir) as url:
        from reelrights.client import Client

        with Client(url) as source:
            assert sync(p, source, checkpoint=old).entries == 0
    ledger.close()
    evil_ledger.close()


def test_a_checkpoint_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    home, ledger, vkey = operator(tmp_path / "op", parties=1)
    party = tmp_path / "party"
    with static_server(home.log_dir) as url:
        ok("--home", str(party), "join", "--server", url, "--log-key", vkey)
        register_party(home, ledger, "studio", "Next")
        with ledger.db.read() as conn:
            size, root = ledger.log.head(conn)
        forged = sign_checkpoint(Checkpoint(home.origin, size, root),
                                 NoteSigner(home.origin, b"\x07" * 32))
        real = (home.log_dir / "checkpoint").read_bytes()
        (home.log_dir / "checkpoint").write_bytes(forged)
        code, out, err = run("--home", str(party), "party", "list")
        assert code == 1 and len(err.splitlines()) == 1 and "signature" in err.lower(), err
        (home.log_dir / "checkpoint").write_bytes(real)
        assert "Next" in ok("--home", str(party), "party", "list")
    ledger.close()


def test_a_tampered_entry_under_an_honest_checkpoint_is_refused(tmp_path: Path) -> None:
    home, ledger, vkey = operator(tmp_path / "op", parties=1)
    party = tmp_path / "party"
    with static_server(home.log_dir) as url:
        ok("--home", str(party), "join", "--server", url, "--log-key", vkey)
        register_party(home, ledger, "studio", "Real Name")
        bundle = next((home.log_dir / "tile" / "entries").glob("000*"))
        for f in (home.log_dir / "tile" / "entries").rglob("*"):
            if f.is_file() and b"Real Name" in f.read_bytes():
                bundle = f
        data = bundle.read_bytes()
        bundle.write_bytes(data.replace(b"Real Name", b"Fake Name"))
        code, out, err = run("--home", str(party), "sync")
        assert code == 1 and len(err.splitlines()) == 1, err
        assert "split view" in err or "entry" in err
        bundle.write_bytes(data)
        assert "Real Name" in ok("--home", str(party), "party", "list")
    ledger.close()


def test_join_refuses_a_log_key_the_server_does_not_sign_with(tmp_path: Path) -> None:
    home, ledger, _ = operator(tmp_path / "op", parties=1)
    other = NoteSigner(home.origin, b"\x09" * 32).vkey
    party = tmp_path / "party"
    with static_server(home.log_dir) as url:
        code, out, err = run("--home", str(party), "join", "--server", url, "--log-key", other)
        assert code == 1 and len(err.splitlines()) == 1 and "nothing was written" in err, err
        assert not party.exists()
        code, out, err = run("--home", str(party), "join", "--server", url)
        assert code == 2 and "--log-key" in err and not party.exists(), err
    ledger.close()


@pytest.mark.parametrize("url", ["notaurl", "ftp://example.org", "http://", "http://h:99999"])
def test_a_bad_server_url_is_one_line_exit_2(tmp_path: Path, url: str) -> None:
    code, out, err = run("--home", str(tmp_path / "p"), "--server", url, "party", "list")
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("error: server URL") and not (tmp_path / "p").exists()


def test_an_unreachable_server_is_one_line_exit_2(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("REELRIGHTS_SERVER", f"http://127.0.0.1:{port}")
    code, out, err = run("--home", str(tmp_path / "p"), "party", "list")
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert f"cannot reach http://127.0.0.1:{port}/v1/log" in err
    assert not (tmp_path / "p").exists()


def test_server_and_home_must_agree(tmp_path: Path) -> None:
    home, ledger, vkey = operator(tmp_path / "op", parties=1)
    with static_server(home.log_dir) as url:
        code, _, err = run("--home", str(home.path), "--server", url, "party", "list")
        assert code == 2 and "home of a log of its own" in err, err
        party = str(tmp_path / "party")
        ok("--home", party, "join", "--server", url, "--log-key", vkey)
        code, _, err = run("--home", party, "--server", "http://127.0.0.1:9", "party", "list")
        assert code == 2 and f"follows {url}" in err, err
        assert ok("--home", party, "--server", url + "/", "party", "list")
    ledger.close()


def test_init_with_a_server_is_refused(tmp_path: Path) -> None:
    code, out, err = run("--home", str(tmp_path / "p"), "--server", "http://127.0.0.1:9",
                         "init")
    assert code == 2 and "reelrights join --server URL" in err and not (tmp_path / "p").exists()
