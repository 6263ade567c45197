"""The client and a party's home against a malicious or broken server (test_attacks.py is the
service's side).

The server is a small Starlette app on 127.0.0.1 port 0 in front of an honest stand-in service
(real ledger, real signatures), lying in one way per test: a false receipt, a withheld or forged
checkpoint, a redirect, an endless or compressed answer, a tile of the wrong length, HTML. The
party's home must refuse in one line with the right exit code and keep what it had verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from test_attacks import no_leak

#: A lie: (method, path, the honest answer) -> the answer to give instead (None: the honest one).
Lie = Callable[[str, str, httpx.Response], "Response | None"]


class Evil:
    """A server in front of an honest stand-in service, lying as ``self.lie`` says."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lie: Lie | None = None
        #: Answers given without asking the honest service (nothing reaches its log).
        self.intercept: Callable[[str, str], Response | None] | None = None
        self.url = ""


@contextlib.contextmanager
def evil_server(tmp: Path) -> Iterator[tuple[Evil, Any]]:
    from client_servers import serve_app, stand_in_service
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.routing import Route

    with stand_in_service(tmp / "operator") as honest:
        evil = Evil(honest.url)
        client = httpx.Client(base_url=honest.url, timeout=60)

        async def forward(request: Request) -> Response:
            if evil.intercept is not None:
                told = evil.intercept(request.method, request.url.path)
                if told is not None:
                    return told
            body = await request.body()
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() not in ("host", "content-length", "connection")}
            resp = await run_in_threadpool(client.request, request.method, request.url.path,
                                           params=request.query_params, content=body,
                                           headers=headers)
            if evil.lie is not None:
                told = evil.lie(request.method, request.url.path, resp)
                if told is not None:
                    return told
            out = {k: v for k, v in resp.headers.items()
                   if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                        "content-encoding")}
            return Response(resp.content, status_code=resp.status_code, headers=out)

        app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
        try:
            with serve_app(app) as url:
                evil.url = url
                yield evil, honest
        finally:
            client.close()


def cli_run(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from reelrights.cli import cli

    r = CliRunner().invoke(cli, list(args))
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def home_state(path: Path) -> tuple[tuple[int, str], list[tuple[str, bytes]]]:
    """A party's home as written: its replica's tables and its log folder."""
    digest = hashlib.sha256()
    with sqlite3.connect(f"file:{path / 'reelrights.db'}?mode=ro", uri=True) as conn:
        size = conn.execute("SELECT count(*) FROM log_entries").fetchone()[0]
        for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                 "ORDER BY name"):
            for r in sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{t}"')):  # noqa: S608
                digest.update(r.encode())
    files = sorted((str(f.relative_to(path)), f.read_bytes())
                   for f in (path / "log").rglob("*") if f.is_file())
    return (size, digest.hexdigest()), files


def one_line_error(code: int, out: str, err: str, exit_code: int) -> str:
    assert code == exit_code, (code, out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    no_leak(err)
    return err


@pytest.fixture
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        monkeypatch.delenv(var, raising=False)


def joined(tmp: Path, evil: Evil) -> Path:
    party = tmp / "party"
    code, out, err = cli_run("--home", str(party), "join", "--server", evil.url)
    assert code == 0, err
    return party


def add_party(party: Path, evil: Evil, name: str) -> tuple[int, str, str]:
    return cli_run("--home", str(party), "--server", evil.url, "party", "add", "--kind",
                   "studio", "--name", name)


def json_lie(method: str, path: str, change: Callable[[dict[str, Any]], None]) -> Lie:
    def lie(m: str, p: str, resp: httpx.Response) -> Response | None:
        if m != method or p != path or resp.status_code != 200:
            return None
        data = resp.json()
        change(data)
        return Response(json.dumps(data), media_type="application/json")
    return lie


@pytest.mark.usefixtures("_no_env")
@pytest.mark.parametrize("field", ["index", "leaf_hash"])
def test_a_false_receipt_is_noticed_on_sync(tmp_path: Path, field: str) -> None:
    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)
        assert add_party(party, evil, "Honest One")[0] == 0

        def change(data: dict[str, Any]) -> None:
            r = data["receipts"][0]
            if field == "index":
                r["index"] = 0  # another entry's place (the log's first)
            else:
                r["leaf_hash"] = "ab" * 32
        evil.lie = json_lie("POST", "/v1/statements", change)
        err = one_line_error(*add_party(party, evil, "Lied To"), 1)
        assert "receipt" in err and "index" in err, err
        evil.lie = None


@pytest.mark.usefixtures("_no_env")
def test_a_withheld_checkpoint_after_a_receipt_is_not_success(tmp_path: Path) -> None:
    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)
        stale = httpx.get(evil.url + "/checkpoint").text

        def withhold(m: str, p: str, resp: httpx.Response) -> Response | None:
            if p == "/checkpoint":
                return Response(stale, media_type="text/plain")
            if m == "POST" and resp.status_code == 200:
                data = resp.json()
                data["checkpoint"] = stale
                return Response(json.dumps(data), media_type="application/json")
            return None
        evil.lie = withhold
        before = home_state(party)
        err = one_line_error(*add_party(party, evil, "Withheld"), 1)
        assert "does not include it" in err, err
        assert home_state(party) == before


@pytest.mark.usefixtures("_no_env")
def test_a_checkpoint_signed_by_another_key_is_refused_after_a_submission(
        tmp_path: Path) -> None:
    from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
    from reelrights.core.note import NoteSigner

    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)
        origin = honest.home.origin

        def forge(note: str) -> str:
            cp = Checkpoint.parse(note.rpartition("\n\n")[0].encode() + b"\n")
            return sign_checkpoint(Checkpoint(origin, cp.size, cp.root),
                                   NoteSigner(origin, b"\x07" * 32)).decode()

        def lie(m: str, p: str, resp: httpx.Response) -> Response | None:
            if p == "/checkpoint":
                return Response(forge(resp.text), media_type="text/plain")
            if m == "POST" and resp.status_code == 200:
                data = resp.json()
                data["checkpoint"] = forge(data["checkpoint"])
                return Response(json.dumps(data), media_type="application/json")
            return None
        evil.lie = lie
        before = home_state(party)
        err = one_line_error(*add_party(party, evil, "Forged Checkpoint"), 1)
        assert "signature" in err.lower() or "sign" in err, err
        assert home_state(party) == before
        err = one_line_error(*cli_run("--home", str(party), "sync"), 1)
        assert home_state(party) == before


@pytest.mark.usefixtures("_no_env")
@pytest.mark.parametrize("location", ["file:///etc/passwd", "http://203.0.113.9/v1/log",
                                      "ftp://127.0.0.1/log"])
def test_a_redirect_is_not_followed(tmp_path: Path, location: str) -> None:
    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)
        before = home_state(party)
        evil.lie = lambda m, p, resp: Response(b"", status_code=302,
                                              headers={"Location": location})
        err = one_line_error(*cli_run("--home", str(party), "party", "list"), 2)
        assert "HTTP 302" in err and "passwd" not in err.replace(location, ""), err
        err = one_line_error(*add_party(party, evil, "Redirected"), 2)
        assert home_state(party) == before
        fresh = tmp_path / "fresh"
        one_line_error(*cli_run("--home", str(fresh), "join", "--server", evil.url), 2)
        assert not fresh.exists()


@pytest.mark.usefixtures("_no_env")
@pytest.mark.parametrize("path", ["/v1/log", "/v1/statements", "/checkpoint"])
def test_an_enormous_answer_is_cut_off(tmp_path: Path, path: str) -> None:
    from starlette.responses import StreamingResponse

    sent = [0]

    def endless() -> Iterator[bytes]:
        chunk = b"[" + b" " * (1 << 20)
        for _ in range(64):  # 64 MiB at most, if the client never stops reading
            sent[0] += len(chunk)
            yield chunk

    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)
        before = home_state(party)
        media = "text/plain" if path == "/checkpoint" else "application/json"
        evil.intercept = lambda m, p: StreamingResponse(endless(), media_type=media) \
            if p == path else None
        if path == "/v1/log":
            fresh = tmp_path / "fresh"
            err = one_line_error(*cli_run("--home", str(fresh), "join", "--server", evil.url), 1)
            assert not fresh.exists()
        else:
            command = ("party", "list") if path != "/v1/statements" else (
                "party", "add", "--kind", "studio", "--name", "Flooded")
            err = one_line_error(*cli_run("--home", str(party), "--server", evil.url, *command),
                                 1)
        assert "bytes" in err and ("answered more than" in err), err
        assert sent[0] < 40 * (1 << 20)
        assert home_state(party) == before


@pytest.mark.usefixtures("_no_env")
@pytest.mark.parametrize("what", ["short-tile", "long-tile", "short-bundle", "long-bundle"])
def test_a_tile_of_the_wrong_length_is_refused(tmp_path: Path, what: str) -> None:
    from reelrights.registry.parties import register_party

    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)
        for i in range(3):
            register_party(honest.home, honest.ledger, "studio", f"Studio {i}")
        before = home_state(party)
        prefix = "/tile/entries/" if "bundle" in what else "/tile/0/"

        def lie(m: str, p: str, resp: httpx.Response) -> Response | None:
            if not p.startswith(prefix) or resp.status_code != 200:
                return None
            data = resp.content[:-1] if what.startswith("short") else resp.content + b"\0" * 32
            return Response(data, media_type="application/octet-stream")
        evil.lie = lie
        err = one_line_error(*cli_run("--home", str(party), "sync"), 1)
        assert home_state(party) == before, err
        evil.lie = None
        code, out, err = cli_run("--home", str(party), "sync")
        assert code == 0 and out.startswith("synced 3 entries"), (out, err)


@pytest.mark.usefixtures("_no_env")
def test_html_instead_of_json_is_one_line(tmp_path: Path) -> None:
    html = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)
        before = home_state(party)
        evil.intercept = lambda m, p: Response(html, media_type="text/html") \
            if p.startswith("/v1/") else None
        err = one_line_error(*add_party(party, evil, "Html"), 1)
        assert "not JSON" in err and "<html>" not in err, err
        assert home_state(party) == before
        fresh = tmp_path / "fresh"
        err = one_line_error(*cli_run("--home", str(fresh), "join", "--server", evil.url), 1)
        assert "not JSON" in err and not fresh.exists(), err
        evil.intercept = lambda m, p: Response(html, status_code=500, media_type="text/html")
        err = one_line_error(*add_party(party, evil, "Html 500"), 1)
        assert "<h1>" not in err
        assert home_state(party) == before


@pytest.mark.usefixtures("_no_env")
@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1:1/checkpoint"])
def test_log_verify_over_http_follows_no_redirect_off_http(tmp_path: Path,
                                                           location: str) -> None:
    from reelrights.core.note import NoteSigner

    with evil_server(tmp_path) as (evil, honest):
        vkey = NoteSigner(honest.home.origin, honest.home.log_key().seed).vkey
        code, out, err = cli_run("--home", str(honest.home.path), "log", "verify", "--tiles",
                                 evil.url, "--key", vkey)
        assert code == 0 and out.startswith("ok: "), err
        evil.intercept = lambda m, p: Response(b"", status_code=302,
                                               headers={"Location": location})
        err = one_line_error(*cli_run("--home", str(honest.home.path), "log", "verify",
                                      "--tiles", evil.url, "--key", vkey), 2)
        assert "HTTP 302" in err and "root:" not in err, err



@pytest.mark.usefixtures("_no_env")
def test_gzip_from_a_proxy_is_read_and_a_gzip_bomb_is_cut_off(tmp_path: Path) -> None:
    import gzip

    with evil_server(tmp_path) as (evil, honest):
        party = joined(tmp_path, evil)

        def gzipped(m: str, p: str, resp: httpx.Response) -> Response | None:
            return Response(gzip.compress(resp.content), status_code=resp.status_code,
                            headers={"content-encoding": "gzip",
                                     "content-type": resp.headers["content-type"]})
        evil.lie = gzipped  # an honest reverse proxy that compresses
        assert add_party(party, evil, "Compressed")[0] == 0
        code, out, err = cli_run("--home", str(party), "party", "list")
        assert code == 0 and "Compressed" in out, err
        before = home_state(party)
        bomb = gzip.compress(b" " * (64 * 2 ** 20), 9)  # 64 MiB of JSON whitespace in ~64 KiB
        evil.lie = None
        evil.intercept = lambda m, p: Response(bomb, media_type="application/json", headers={
            "content-encoding": "gzip"}) if p.startswith("/v1/") else None
        err = one_line_error(*add_party(party, evil, "Bombed"), 1)
        assert "answered more than" in err, err
        assert home_state(party) == before
        evil.intercept = lambda m, p: Response(b"not gzip at all", headers={
            "content-encoding": "gzip", "content-type": "application/json"})
        err = one_line_error(*cli_run("--home", str(party), "sync"), 1)
        assert "does not decode" in err, err
        assert home_state(party) == before
