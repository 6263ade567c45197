"""The read side of the service over real HTTP: the static log as C2SP tlog-tiles, proofs,
entries, statements and lookups by id, on SQLite and PostgreSQL.

The served home (read_server.py) holds the fund story and enough works for full, partial and
level-1 tiles. Every answer is compared with the library's own (the home's published folder,
DatabaseLog, the CLI's ``show --json``), and an independent tlog-tiles client (tlog-scales)
reads the server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from read_server import Served, ThreadedServer, served, served_home  # noqa: F401
from tlog_scales.backend import HttpBackend
from tlog_scales.reader import TilesReader
from tlog_scales.signing import Vkey

from reelrights.api import ServiceConfig, create_app
from reelrights.cli import cli
from reelrights.cli.log_cmd import log_vkey
from reelrights.core.checkpoint import open_checkpoint
from reelrights.core.merkle import verify_consistency, verify_inclusion
from reelrights.core.note import NoteSigner, NoteVerifier
from reelrights.core.statements import open_leaf
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.log.serving import TileCache
from reelrights.registry.parties import register_party

IMMUTABLE = "public, max-age=31536000, immutable"


def _get(s: Served, path: str) -> httpx.Response:
    return httpx.get(s.url + path, timeout=30)


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["detail"] and body["type"].startswith("https://")
    return body


def _size(s: Served) -> int:
    with s.ledger.db.read() as conn:
        return s.ledger.log.head(conn)[0]


# -- the static log ---------------------------------------------------------------------------
def test_every_published_file_is_served_byte_for_byte(served: Served) -> None:
    """Every file of the home's log/ folder (superseded partial widths included) is what the
    server answers for its path, with the spec's content types and cache headers."""
    root = served.home.log_dir
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert len(files) > 10
    kinds = set()
    with httpx.Client(base_url=served.url, timeout=30) as client:
        for path in files:
            rel = path.relative_to(root).as_posix()
            r = client.get("/" + rel)
            assert r.status_code == 200, (rel, r.text)
            assert r.content == path.read_bytes(), rel
            if rel == "checkpoint":
                assert r.headers["content-type"] == "text/plain; charset=utf-8"
                age = int(r.headers["cache-control"].rsplit("max-age=", 1)[1])
                assert age <= 5
                kinds.add("checkpoint")
                continue
            assert r.headers["content-type"] == "application/octet-stream"
            full = ".p/" not in rel
            assert (r.headers["cache-control"] == IMMUTABLE) is full, rel
            kinds.add(("entries" if "/entries/" in rel else "tile", full))
    assert kinds == {"checkpoint", ("tile", True), ("tile", False), ("entries", True),
                     ("entries", False)}
    # Served twice (the second time from memory): the same bytes.
    assert _get(served, "/tile/0/000").content == (root / "tile/0/000").read_bytes()


def test_superseded_partial_tiles_stay_available(served: Served) -> None:
    """A client holding an old checkpoint may still ask for the partial tiles it implies, after
    the tile became full: the server answers the full tile's prefix (the folder deleted them)."""
    full = _get(served, "/tile/0/000").content
    assert len(full) == 8192
    for width in (1, 2, 9, 255):
        r = _get(served, f"/tile/0/000.p/{width}")
        assert r.status_code == 200 and r.content == full[: 32 * width]
    bundle = _get(served, "/tile/entries/000").content
    r = _get(served, "/tile/entries/000.p/3")
    assert r.status_code == 200 and bundle.startswith(r.content)


@pytest.mark.parametrize("path", [
    "/tile/0/x000/001", "/tile/0/1", "/tile/00/000", "/tile/64/000", "/tile/0/000.p/256",
    "/tile/0/000.p/0", "/tile/0/000.p/07", "/tile/entries/abc", "/tile/0/000.p/", "/tile/x/000",
    "/tile/0/../../../etc/passwd", "/tile/0/%2e%2e/%2e%2e/etc/passwd", "/tile/0/000%00",
    "/tile/entries/000.p/-1", "/tile/0/" + "x999/" * 30 + "000", "/tile/-1/000",
])
def test_malformed_tile_paths_are_404_problems(served: Served, path: str) -> None:
    body = _problem(httpx.get(served.url + path, timeout=30), 404)
    assert "Traceback" not in body["detail"]


def test_tiles_beyond_the_tree_are_404(served: Served) -> None:
    size = _size(served)
    edge, width = divmod(size, 256)
    assert width, "the story must end inside a tile"
    assert _get(served, f"/tile/0/{edge:03d}.p/{width}").status_code == 200
    assert _get(served, f"/tile/entries/{edge:03d}.p/{width}").status_code == 200
    for path in (f"/tile/0/{edge:03d}", f"/tile/0/{edge:03d}.p/{width + 1}",
                 f"/tile/0/{edge + 1:03d}.p/1", f"/tile/entries/{edge:03d}",
                 f"/tile/entries/{edge:03d}.p/{width + 1}", "/tile/1/000", "/tile/2/000.p/1",
                 "/tile/1/001.p/1"):
        body = _problem(_get(served, path), 404)
        assert f"has {size} entries" in body["detail"], path


def test_an_independent_client_reads_the_server(served: Served) -> None:
    """tlog-scales (another implementation) verifies our checkpoint, recomputes the root from
    the served tiles, and computes proofs identical to the server's /v1/proofs."""
    size = _size(served)
    reader = TilesReader(HttpBackend(served.url))
    cp = reader.get_checkpoint()
    assert cp.size == size and cp.origin == served.home.origin
    cp.verify(Vkey.from_string(log_vkey(served.home)))
    root = reader.calculate_root_hash()
    assert root == cp.root_hash
    for index in (0, 1, 255, 256, size - 1):
        theirs = reader.get_inclusion_proof(index, size)
        ours = _get(served, f"/v1/proofs/inclusion?index={index}&size={size}").json()
        assert [h.hex() for h in theirs.node_hashes] == ours["proof"]
        theirs.check(bytes.fromhex(ours["leaf_hash"]), root)
        assert reader.get_entry(index).decode() == _get(served, f"/v1/entries/{index}").json()[
            "entry"]
    with served.ledger.db.read() as conn:
        olds = served.ledger.log.checkpoint_sizes(conn)[:-1]
    for old in olds[::3]:
        theirs = reader.get_consistency_proof(old, size)
        ours = _get(served, f"/v1/proofs/consistency?old={old}&new={size}").json()
        assert [h.hex() for h in theirs.node_hashes] == ours["proof"]


def _verify_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--home", "/nonexistent/home", "log", "verify", *args])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_log_verify_reads_the_server(served: Served) -> None:
    vkey = log_vkey(served.home)
    code, out = _verify_cli("--tiles", served.url, "--key", vkey)
    assert code == 0, out
    assert out.startswith(f"ok: {served.home.origin} size {_size(served)} ")
    # Another key: the checkpoint is refused.
    other = NoteSigner(served.home.origin, PartyKey.generate().seed).vkey
    code, out = _verify_cli("--tiles", served.url, "--key", other)
    assert code == 1 and "Traceback" not in out
    # Nothing listening there: one line naming the address.
    code, out = _verify_cli("--tiles", "http://127.0.0.1:9/", "--key", vkey)
    assert code == 2 and "cannot fetch http://127.0.0.1:9/checkpoint" in out


def test_log_verify_over_http_catches_a_tampered_tile(tmp_path: Path) -> None:
    """A server whose database holds a changed leaf hash is caught by the remote verifier,
    which names the first bad entry (and the server's memory cannot hide the change: the
    tampered tile was never served before)."""
    home, _ = Home.init(tmp_path / "home")
    ledger = Ledger.open(home)
    party = register_party(home, ledger, "studio", "Tamper Pictures").details["id"]
    for i in range(3):
        register_party(home, ledger, "studio", f"Studio {i}")
    ledger.close()
    ledger.db.dispose()
    db = sqlite3.connect(home.path / "reelrights.db")
    (hashes,) = db.execute("SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0").fetchone()
    forged = bytes(hashes[:64]) + hashlib.sha256(b"forged").digest() + bytes(hashes[96:])
    db.execute("UPDATE log_tiles SET hashes = ? WHERE level = 0 AND idx = 0", (forged,))
    db.commit()
    db.close()
    with ThreadedServer(create_app(ServiceConfig(home=home.path))) as url:
        code, out = _verify_cli("--tiles", url, "--key", log_vkey(home))
    assert code == 1 and "entry 2" in out, out
    assert party


# -- the log as JSON --------------------------------------------------------------------------
def test_log_info(served: Served) -> None:
    info = _get(served, "/v1/log").json()
    vkey = log_vkey(served.home)
    assert info["origin"] == served.home.origin and info["log_key"] == vkey
    assert info["registry"] == served.home.registry and info["size"] == _size(served)
    cp = open_checkpoint(info["checkpoint"].encode(), NoteVerifier(vkey),
                         origin=served.home.origin)
    assert cp.size == info["size"]
    assert _get(served, "/checkpoint").text == info["checkpoint"]


def test_proofs_match_the_library_and_verify(served: Served) -> None:
    log = served.ledger.log
    size = _size(served)
    with served.ledger.db.read() as conn:
        sizes = log.checkpoint_sizes(conn)
        notes = {s: log.checkpoint(conn, s) for s in sizes}
        vkey = NoteVerifier(log_vkey(served.home))
        roots = {s: open_checkpoint(n, vkey).root for s, n in notes.items()}
        for at in (sizes[3], sizes[-2], size):
            for index in (0, at // 2, at - 1):
                got = _get(served, f"/v1/proofs/inclusion?index={index}&size={at}").json()
                assert got == log.inclusion(conn, index, at)
                verify_inclusion(bytes.fromhex(got["leaf_hash"]), index, at,
                                 [bytes.fromhex(h) for h in got["proof"]], roots[at])
        assert _get(served, "/v1/proofs/inclusion?index=3").json()["size"] == size
        for old in sizes[:-1:4]:
            got = _get(served, f"/v1/proofs/consistency?old={old}&new={size}").json()
            assert got == log.consistency(conn, old, size)
            verify_consistency(old, size, [bytes.fromhex(h) for h in got["proof"]], roots[old],
                               roots[size])
        assert _get(served, f"/v1/proofs/consistency?old={sizes[0]}").json()["new"] == size


def test_checkpoints_after_a_size(served: Served) -> None:
    """GET /v1/checkpoints?after=&limit=: the checkpoints issued above a size, smallest first,
    each the signed note the log issued (what a replica asks for to seed an audit sample)."""
    log = served.ledger.log
    with served.ledger.db.read() as conn:
        sizes = log.checkpoint_sizes(conn)
        notes = {s: log.checkpoint(conn, s).decode() for s in sizes}
    every = _get(served, "/v1/checkpoints").json()["checkpoints"]
    assert every == [{"size": s, "note": notes[s]} for s in sizes]
    after = sizes[4] - 1
    got = _get(served, f"/v1/checkpoints?after={after}&limit=2").json()["checkpoints"]
    assert [c["size"] for c in got] == sizes[4:6]
    vkey = NoteVerifier(log_vkey(served.home))
    assert all(open_checkpoint(c["note"].encode(), vkey).size == c["size"] for c in got)
    assert _get(served, f"/v1/checkpoints?after={sizes[-1]}").json() == {"checkpoints": []}
    for query in ("after=-1", "after=x", "limit=0", "limit=-3"):
        _problem(_get(served, f"/v1/checkpoints?{query}"), 400)


@pytest.mark.parametrize("query,status", [
    ("inclusion", 400), ("inclusion?index=", 400), ("inclusion?index=-1", 400),
    ("inclusion?index=abc", 400), ("inclusion?index=1e3", 400), ("inclusion?index=0&size=0", 400),
    ("inclusion?index=0&size=99999999", 400), ("inclusion?index=99999999", 404),
    ("inclusion?index=" + "9" * 30, 400), ("inclusion?index=%00", 400),
    ("consistency", 400), ("consistency?old=0", 400), ("consistency?old=99999999", 400),
    ("consistency?old=5&new=3", 400), ("consistency?old=1&new=99999999", 400),
])
def test_bad_proof_requests_are_problems(served: Served, query: str, status: int) -> None:
    _problem(_get(served, "/v1/proofs/" + query), status)


def test_entries_and_statements(served: Served) -> None:
    size = _size(served)
    with served.ledger.db.read() as conn:
        for index in (0, 1, size // 2, size - 1):
            got = _get(served, f"/v1/entries/{index}").json()
            raw = served.ledger.log.entry(conn, index)
            assert got["entry"].encode() == raw and got["index"] == index
            assert got["leaf_hash"] == hashlib.sha256(b"\x00" + raw).hexdigest()
            assert got["log_time"] == open_leaf(raw)[1]
            sid = json.loads(raw)["entry"]["statement"]["id"]
            receipt = _get(served, f"/v1/statements/{sid}").json()
            assert receipt == {"index": index, "type": json.loads(raw)["entry"]["statement"][
                "type"], "actor": receipt["actor"], "leaf_hash": got["leaf_hash"],
                "statement": sid, "log_time": got["log_time"]}
    for path in (f"/v1/entries/{size}", "/v1/entries/-1", "/v1/entries/x",
                 "/v1/entries/" + "9" * 25, "/v1/statements/stm_aaaaaaaaaaaaaaaa",
                 "/v1/statements/nope", "/v1/statements/stm_AAAAAAAAAAAAAAAA"):
        _problem(_get(served, path), 404)


# -- lookups by id ----------------------------------------------------------------------------
def _cli_json(home: Home, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["--home", str(home.path), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("collection,command,key", [
    ("parties", "party", "studio"), ("parties", "party", "performer"), ("works", "work", "film"),
    ("bundles", "bundle", "bundle"), ("licenses", "license", "lic"), ("runs", "run", "run"),
])
def test_lookups_answer_what_show_json_prints(served: Served, collection: str, command: str,
                                              key: str) -> None:
    """Whole to a party the record concerns (the license: its licensee, signing the request);
    a license's terms are withheld from anyone else (docs/visibility.md)."""
    from reelrights.client.http import SignedReads

    ref = served.ids[key]
    # the CLI adds each named party's label (``*_shown``, docs/identity.md); over HTTP a reader
    # gets labels from /v1/parties/{id}, whose record carries the party's identity
    shown = {k: v for k, v in _cli_json(served.home, command, "show", ref).items()
             if not k.endswith("_shown")}
    auth = SignedReads(served.home.party_key(served.ids["dev"]))
    r = httpx.get(f"{served.url}/v1/{collection}/{ref}", auth=auth, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == shown
    anyone = _get(served, f"/v1/{collection}/{ref}").json()
    if collection == "licenses":
        assert anyone == {k: v for k, v in shown.items() if k not in ("policy", "policy_uid")}
    else:
        assert anyone == shown


@pytest.mark.parametrize("collection,kind,prefix", [
    ("parties", "party", "pty"), ("works", "work", "wrk"), ("bundles", "bundle", "bnd"),
    ("licenses", "license", "lic"), ("runs", "run", "run"), ("certificates", "certificate", "crt"),
    ("outputs", "output", "out"),
])
def test_lookups_of_unknown_ids_and_non_ids(served: Served, collection: str, kind: str,
                                            prefix: str) -> None:
    _problem(_get(served, f"/v1/{collection}/{prefix}_aaaaaaaaaaaaaaaa"), 404)
    for ref in ("Northlight Pictures", "Catalog@1", "%2e%2e%2e", prefix, f"{prefix}_AAA",
                f"{prefix}_aaaaaaaaaaaaaaaa ", f"x{prefix}_aaaaaaaaaaaaaaaa"):
        body = _problem(_get(served, f"/v1/{collection}/{ref}"), 404)
        assert f"is not a {kind} id" in body["detail"]
    _problem(_get(served, f"/v1/{collection}/.."), 404)  # the client makes it /v1


def test_a_certificate_lookup_never_opens_a_file(served: Served, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``audit show`` also takes a file; the service takes ids only, whatever is on its disk."""
    (tmp_path / "evil.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    for ref in ("evil.json", "%2Fetc%2Fpasswd", "..%2F..%2Fetc%2Fpasswd"):
        body = _problem(_get(served, f"/v1/certificates/{ref}"), 404)
        assert "passwd" not in body.get("statement", "")


def test_no_private_key_in_any_answer(served: Served) -> None:
    """No answer of the read side carries a private key seed (raw, hex or base64)."""
    seeds = [served.home.log_key().seed] + [
        served.home.party_key(served.ids[k]).seed for k in ("studio", "guild", "dev")]
    secrets_ = [s for seed in seeds for s in (seed.hex(), base64.b64encode(seed).decode())]
    size = _size(served)
    paths = ["/v1/log", "/checkpoint", f"/v1/entries/{size - 1}", "/v1/entries/0",
             *(f"/v1/{c}/{served.ids[k]}" for c, k in (("parties", "studio"), ("parties", "dev"),
                                                      ("works", "film"), ("runs", "run"),
                                                      ("bundles", "bundle"),
                                                      ("licenses", "lic")))]
    for path in paths:
        text = _get(served, path).text
        assert not any(s in text for s in secrets_), path


# -- the cache --------------------------------------------------------------------------------
def test_tile_cache_is_bounded_and_least_recently_used() -> None:
    cache = TileCache(max_bytes=3 * 8192)
    for name in "abc":
        cache.put(name, bytes(8192))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", bytes(8192))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 3
    assert cache.bytes == 3 * 8192
    cache.put("huge", bytes(4 * 8192))  # larger than the cache: not kept, nothing evicted
    assert cache.get("huge") is None and len(cache) == 3
