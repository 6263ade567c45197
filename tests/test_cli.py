"""The command line, end to end through Click's CliRunner, on SQLite and PostgreSQL.

The ``home`` fixture writes the backend's URL into ``home.json``, so ``--home`` alone selects the
database. Every refused command must print exactly one line on stderr that names the bad input,
exit 2 (bad input), 1 (verification failed) or 3 (policy denial), and leave no trace: the log
size, the row counts, the published checkpoint and the keys folder are all unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from reelrights.cli import cli
from reelrights.core.checkpoint import open_checkpoint
from reelrights.core.merkle import verify_consistency, verify_inclusion
from reelrights.core.note import NoteVerifier
from reelrights.core.statements import decode_entry, make_statement, open_leaf, sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.media.synth import make_audio, make_script, make_video
from reelrights.store.tables import (
    assets,
    credits,
    log_checkpoints,
    log_entries,
    parties,
    work_assets,
    works,
)

ID_RE = {"party": r"pty_[a-z2-7]{16}", "work": r"wrk_[a-z2-7]{16}"}
EIDR = "eidr:10.5240/7791-8534-2C23-9030-8610-5"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REELRIGHTS_HOME", raising=False)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli-media")
    return {
        "video": make_video(d / "clip.mp4", seconds=1.0, fps=12, size=(96, 64), seed=1, scenes=1),
        "audio": make_audio(d / "theme.wav", seconds=1.0, sample_rate=22050, seed=1),
        "script": make_script(d / "draft.fountain", title="Draft", author="M. E.", scenes=2,
                              seed=1),
        "script2": make_script(d / "second.fountain", title="Second", author="M. E.", scenes=2,
                               seed=2),
    }


def run(home: Path | str, *args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args], input=input)


def ok(home: Path | str, *args: str, input: str | bytes | None = None) -> Result:
    result = run(home, *args, input=input)
    assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
    return result


def ok_json(home: Path | str, *args: str) -> Any:
    return json.loads(ok(home, *args, "--json").stdout)


def state(home_path: Path) -> dict[str, Any]:
    """Row counts, log head, published checkpoint, keys and config of a home."""
    h = Home.open(home_path)
    lg = Ledger.open(h, publish=False)
    try:
        with lg.db.read() as conn:
            out: dict[str, Any] = {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (parties, works, assets, work_assets, credits, log_entries,
                          log_checkpoints)}
            out["head"] = lg.log.head(conn)
    finally:
        lg.db.dispose()
    out["keys"] = sorted(p.name for p in h.keys_dir.iterdir())
    cp = h.log_dir / "checkpoint"
    out["published"] = cp.read_bytes() if cp.exists() else None
    out["home.json"] = (h.path / "home.json").read_bytes()
    return out


def refused(home_path: Path, args: list[str], code: int, *names: str,
            input: str | None = None, cli_home: Path | None = None) -> str:
    """Run a command that must be refused; return its one stderr line."""
    before = state(home_path)
    result = run(cli_home or home_path, *args, input=input)
    assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (args, result.stderr)
    assert lines[0].startswith("error: ")
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert result.stdout == ""
    assert state(home_path) == before, args
    return lines[0]


@pytest.fixture
def world(home, media) -> dict[str, Any]:
    """A home (SQLite or PostgreSQL) with a studio, a rival, two performers and two works."""
    p = home.path
    w: dict[str, Any] = {"home": p}
    for label, kind, name in [("studio", "studio", "Northlight"), ("rival", "studio", "Rival"),
                              ("ada", "performer", "Ada Okafor"),
                              ("bruno", "performer", "Bruno Lindqvist")]:
        w[label] = ok(p, "party", "add", "--kind", kind, "--name", name).stdout.strip()
    w["film"] = ok(p, "work", "add", "--owner", "Northlight", "--kind", "film", "--title",
                   "Harbour Lights", "--year", "2026", "--id", EIDR,
                   str(media["video"]), str(media["audio"])).stdout.strip()
    w["script"] = ok(p, "work", "add", "--owner", "Northlight", "--kind", "script", "--title",
                     "The Screenplay", str(media["script"])).stdout.strip()
    w["vkey"] = ok(p, "log", "key").stdout.strip()
    return w


# ---------------------------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------------------------

def test_init_is_idempotent_and_prints_the_vkey(tmp_path: Path) -> None:
    h = tmp_path / "fresh"
    first = ok(h, "init", "--origin", "films.example/log")
    assert first.stdout == f"{h}\n"  # the home's path is its id; the rest is on stderr
    assert first.stderr.splitlines()[0] == f"created: {h}"
    vkey = re.search(r"^log key:\s+(\S+)$", first.stderr, re.M).group(1)
    assert vkey.startswith("films.example/log+")
    NoteVerifier(vkey)  # a well-formed note verifier key
    second = ok(h, "init")
    assert second.stdout == f"{h}\n"
    assert second.stderr.splitlines()[0] == f"already initialised: {h}"
    assert re.search(r"^log key:\s+(\S+)$", second.stderr, re.M).group(1) == vkey
    assert ok(h, "log", "key").stdout.strip() == vkey
    again = ok_json(h, "init")
    assert again == {"id": str(h), "home": str(h), "created": False,
                     "origin": "films.example/log", "log_key": vkey}
    line = refused(h, ["init", "--origin", "other.example/log"], 2, "films.example/log")
    assert "new --home" in line


def test_init_on_each_backend(home) -> None:
    vkey = ok(home.path, "log", "key").stdout.strip()
    out = ok(home.path, "init").stderr
    assert "already initialised" in out and vkey in out
    assert ok_json(home.path, "init")["log_key"] == vkey


# ---------------------------------------------------------------------------------------------
# party, work
# ---------------------------------------------------------------------------------------------

def test_party_add_list_show(home) -> None:
    p = home.path
    out = ok(p, "party", "add", "--kind", "studio", "--name", "X")
    pid = out.stdout.strip()
    assert re.fullmatch(ID_RE["party"], pid) and out.stdout == pid + "\n"
    receipt = ok_json(p, "party", "add", "--kind", "writer", "--name", "Mara Ellison")
    assert re.fullmatch(ID_RE["party"], receipt["id"])
    assert receipt["index"] == 2 and receipt["type"] == "party.registered"
    assert receipt["actor"] == receipt["id"] and re.fullmatch(r"[0-9a-f]{64}", receipt["leaf_hash"])
    listed = ok_json(p, "party", "list")
    assert [(x["id"], x["kind"], x["name"]) for x in listed] == [
        (pid, "studio", "X"), (receipt["id"], "writer", "Mara Ellison")]
    assert [x["id"] for x in ok_json(p, "party", "list", "--kind", "writer")] == [receipt["id"]]
    table = ok(p, "party", "list").stdout
    assert pid in table and "Mara Ellison" in table
    shown = ok_json(p, "party", "show", "Mara Ellison")
    assert shown["id"] == receipt["id"] and shown["log_index"] == 2
    key = Home.open(p).party_key(pid)
    assert ok_json(p, "party", "show", pid)["public_key"] == base64.b64encode(
        key.public_key_bytes).decode()
    text = ok(p, "party", "show", pid).stdout
    assert text.startswith(f"{pid}  X [NOT ADMITTED]  (studio)") and shown["key_id"] not in text


def test_work_add_credit_list_show(world, media) -> None:
    p = world["home"]
    film = world["film"]
    assert re.fullmatch(ID_RE["work"], film)
    # the same bytes in another work: the CLI says it is the same asset
    again = ok(p, "work", "add", "--owner", world["studio"], "--kind", "film", "--title",
               "Festival Cut", str(media["video"]))
    sha = hashlib.sha256(media["video"].read_bytes()).hexdigest()
    assert f"asset {sha}  clip.mp4  (already registered, first in {film}" in again.stderr
    receipt = ok_json(p, "work", "add", "--owner", "Rival", "--kind", "script", "--title",
                      "Rival Script", str(media["script2"]))
    assert re.fullmatch(ID_RE["work"], receipt["id"]) and receipt["type"] == "work.registered"
    assert receipt["assets"][0]["new"] is True

    credit = ok_json(p, "work", "credit", "Harbour Lights", "--party", "Ada Okafor", "--role",
                     "performer", "--share", "1/3")
    assert credit["id"] == f"{film}/performer/{world['ada']}"
    assert (credit["work"], credit["party"], credit["share"], credit["role_total"]) == (
        film, world["ada"], "1/3", "1/3")
    text = ok(p, "work", "credit", film, "--party", world["bruno"], "--role", "performer",
              "--share", "0.5")
    assert text.stdout == f"{film}/performer/{world['bruno']}\n"
    assert text.stderr.startswith(f"credited {world['bruno']} as performer 0.5 on {film} "
                           "(performer total 5/6, log index ")

    works_listed = ok_json(p, "work", "list")
    assert [w["title"] for w in works_listed] == ["Harbour Lights", "The Screenplay",
                                                  "Festival Cut", "Rival Script"]
    assert [w["title"] for w in ok_json(p, "work", "list", "--owner", "Rival")] == ["Rival Script"]
    assert "Harbour Lights" in ok(p, "work", "list").stdout
    shown = ok_json(p, "work", "show", film)
    assert (shown["title"], shown["year"], shown["owner"], shown["external_ids"]) == (
        "Harbour Lights", 2026, world["studio"], [EIDR])
    by_name = {a["name"]: a for a in shown["assets"]}
    for key in ("video", "audio"):
        data = media[key].read_bytes()
        assert by_name[media[key].name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert by_name[media[key].name]["size"] == len(data)
    assert by_name["clip.mp4"]["category"] == "video" and by_name["theme.wav"]["category"] == "audio"
    assert sorted((c["name"], c["share"]) for c in shown["credits"]) == [
        ("Ada Okafor", "1/3"), ("Bruno Lindqvist", "0.5")]
    text = ok(p, "work", "show", "Harbour Lights").stdout
    assert text.startswith(f"{film}  Harbour Lights (2026)  [film]")
    assert f"id      {EIDR}" in text and "Ada Okafor" in text and "duration_ms" in text


def test_passphrase_protected_party(home, media, monkeypatch: pytest.MonkeyPatch) -> None:
    p = home.path
    monkeypatch.setenv("REELRIGHTS_TEST_PASS", "open sesame")
    pid = ok(p, "party", "add", "--kind", "studio", "--name", "Locked Studio",
             "--passphrase-env", "REELRIGHTS_TEST_PASS").stdout.strip()
    key_file = p / "keys" / f"{pid}.pem"
    assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    monkeypatch.delenv("REELRIGHTS_TEST_PASS")
    args = ["work", "add", "--owner", pid, "--kind", "film", "--title", "Locked",
            str(media["video"])]
    refused(p, args, 2, str(key_file), "REELRIGHTS_TEST_PASS")
    monkeypatch.setenv("REELRIGHTS_TEST_PASS", "wrong")
    refused(p, args, 2, str(key_file), "REELRIGHTS_TEST_PASS", "wrong passphrase")
    monkeypatch.setenv("REELRIGHTS_TEST_PASS", "open sesame")
    assert re.fullmatch(ID_RE["work"], ok(p, *args).stdout.strip())


# ---------------------------------------------------------------------------------------------
# log
# ---------------------------------------------------------------------------------------------

def test_log_checkpoint_inclusion_consistency_get(world) -> None:
    p, vkey = world["home"], world["vkey"]
    verifier = NoteVerifier(vkey)
    note = ok(p, "log", "checkpoint").stdout.encode()
    cp = open_checkpoint(note, verifier, origin=Home.open(p).origin)
    assert cp.size == 7  # the establishment, four parties, two works
    old = open_checkpoint(ok(p, "log", "checkpoint", "--size", "3").stdout.encode(), verifier)
    assert old.size == 3

    for index in range(cp.size):
        entry = ok(p, "log", "get", str(index)).stdout
        assert entry.endswith("\n") and entry.count("\n") == 1
        raw = entry[:-1].encode("utf-8")
        decode_entry(raw)
        proof = ok_json_plain(p, "log", "inclusion", str(index))
        assert set(proof) == {"index", "size", "leaf_hash", "proof"}
        assert (proof["index"], proof["size"]) == (index, cp.size)
        assert proof["leaf_hash"] == hashlib.sha256(b"\x00" + raw).hexdigest()
        verify_inclusion(bytes.fromhex(proof["leaf_hash"]), index, cp.size,
                         [bytes.fromhex(h) for h in proof["proof"]], cp.root)
    at3 = ok_json_plain(p, "log", "inclusion", "1", "--size", "3")
    verify_inclusion(bytes.fromhex(at3["leaf_hash"]), 1, 3,
                     [bytes.fromhex(h) for h in at3["proof"]], old.root)

    cons = ok_json_plain(p, "log", "consistency", "3")
    assert set(cons) == {"old", "new", "proof"} and (cons["old"], cons["new"]) == (3, 7)
    verify_consistency(3, 7, [bytes.fromhex(h) for h in cons["proof"]], old.root, cp.root)
    cons45 = ok_json_plain(p, "log", "consistency", "4", "5")
    cp4 = open_checkpoint(ok(p, "log", "checkpoint", "--size", "4").stdout.encode(), verifier)
    cp5 = open_checkpoint(ok(p, "log", "checkpoint", "--size", "5").stdout.encode(), verifier)
    verify_consistency(4, 5, [bytes.fromhex(h) for h in cons45["proof"]], cp4.root, cp5.root)

    pretty = json.loads(ok(p, "log", "get", "5", "--pretty").stdout)
    assert pretty["entry"]["statement"]["type"] == "work.registered"
    assert pretty["entry"]["statement"]["body"]["id"] == world["film"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", pretty["log"]["time"])
    assert ok(p, "log", "verify").stdout.startswith("ok: ")


def ok_json_plain(home: Path, *args: str) -> Any:
    return json.loads(ok(home, *args).stdout)


def test_log_export_and_verify_without_a_home(world, tmp_path: Path) -> None:
    p, vkey = world["home"], world["vkey"]
    out_dir = tmp_path / "export"
    assert ok(p, "log", "export", str(out_dir)).stdout.strip() == f"exported 7 entries to {out_dir}"
    assert (out_dir / "checkpoint").read_bytes() == (p / "log" / "checkpoint").read_bytes()
    nowhere = tmp_path / "no-such-home"
    result = ok(nowhere, "log", "verify", "--tiles", str(out_dir), "--key", vkey)
    assert result.stdout.startswith("ok: ") and "size 7" in result.stdout
    result = ok(nowhere, "log", "verify", "--tiles", str(out_dir), "--key", vkey,
                "--checkpoint", str(out_dir / "checkpoint"))
    assert "7 entries match" in result.stdout
    assert not nowhere.exists()  # verifying needs no home and creates none
    # the home's own mirror verifies the same way
    ok(nowhere, "log", "verify", "--tiles", str(p / "log"), "--key", vkey)


# ---------------------------------------------------------------------------------------------
# statement sign / submit
# ---------------------------------------------------------------------------------------------

def test_statement_sign_and_submit(world, tmp_path: Path) -> None:
    p = world["home"]
    body = tmp_path / "credit.json"
    body.write_text(json.dumps({"work": world["film"], "party": world["ada"], "role": "director",
                                "share": "1"}))
    signed = ok(p, "statement", "sign", "--as", "Northlight", "--type", "work.credited", str(body))
    line = signed.stdout
    assert line.endswith("\n") and line.count("\n") == 1
    s = decode_entry(line[:-1].encode())
    assert (s.type, s.actor) == ("work.credited", world["studio"])
    before = state(p)
    assert before["credits"] == 0  # signing alone records nothing
    # a second statement signed from stdin; both submitted as one batch
    stdin_body = json.dumps({"work": world["script"], "party": world["bruno"], "role": "writer",
                             "share": "0.5"})
    line2 = ok(p, "statement", "sign", "--as", world["studio"], "--type", "work.credited", "-",
               input=stdin_body).stdout
    entries = tmp_path / "entries.txt"
    entries.write_text(line + "\n" + line2)  # blank lines are skipped
    receipts = ok_json_plain(p, "statement", "submit", str(entries))
    assert [r["index"] for r in receipts] == [7, 8]
    assert [r["type"] for r in receipts] == ["work.credited"] * 2
    # The log's leaf wraps the submitted envelope with the log's time (v2).
    leaf = ok(p, "log", "get", "7").stdout
    assert open_leaf(leaf[:-1].encode())[0] == line[:-1].encode()
    assert receipts[0]["leaf_hash"] == hashlib.sha256(b"\x00" + leaf[:-1].encode()).hexdigest()
    assert state(p)["credits"] == 2


def test_statement_sign_supersedes_and_key_seq(world, tmp_path: Path) -> None:
    """`statement sign --supersedes` names the replaced fact (for a signer whose copy of the log
    is behind); a bad reference is one line, exit 2; a key seq the party never declared is
    refused by the registry (exit 1, docs/keys.md)."""
    p = world["home"]
    body = tmp_path / "credit.json"
    body.write_text(json.dumps({"work": world["film"], "party": world["ada"], "role": "director",
                                "share": "1"}))
    line = ok(p, "statement", "sign", "--as", "Northlight", "--type", "work.credited",
              "--supersedes", "index:3", str(body)).stdout
    assert decode_entry(line[:-1].encode()).supersedes == {"index": 3}
    sid = "stm_" + "k" * 16
    line = ok(p, "statement", "sign", "--as", "Northlight", "--type", "work.credited",
              "--supersedes", sid, str(body)).stdout
    assert decode_entry(line[:-1].encode()).supersedes == {"id": sid}
    # work.credited replaces nothing: the registry refuses the reference, and nothing is written
    entries = tmp_path / "entries.txt"
    entries.write_text(line)
    refused(p, ["statement", "submit", str(entries)], 2, "replaces nothing")
    for bad in ("stm_x", "index:-1", "3", "index:03"):
        refused(p, ["statement", "sign", "--as", "Northlight", "--type", "work.credited",
                    "--supersedes", bad, str(body)], 2, f"--supersedes {bad!r}")
    home = Home.open(p)
    stmt = make_statement("work.credited", world["studio"],
                          json.loads(body.read_text()), registry=home.registry, key_seq=1)
    entries.write_bytes(sign_statement(stmt, home.party_key(world["studio"])) + b"\n")
    refused(p, ["statement", "submit", str(entries)], 1, "names key seq 1")


def test_statement_signed_elsewhere_is_submitted(world, tmp_path: Path) -> None:
    remote = PartyKey.generate()
    pid = "pty_" + "r" * 16
    entry = sign_statement(make_statement("party.registered", pid, {
        "id": pid, "kind": "auditor", "name": "Remote Auditor",
        "public_key": base64.b64encode(remote.public_key_bytes).decode()},
        registry=Home.open(world["home"]).registry), remote)
    f = tmp_path / "remote.txt"
    f.write_bytes(entry + b"\n")
    (receipt,) = ok_json_plain(world["home"], "statement", "submit", str(f))
    assert receipt["id"] == pid
    assert ok_json(world["home"], "party", "show", pid)["kind"] == "auditor"
    assert not (world["home"] / "keys" / f"{pid}.pem").exists()


# ---------------------------------------------------------------------------------------------
# Refusals: one line naming the input, the right exit code, nothing written
# ---------------------------------------------------------------------------------------------

CASES: list[tuple[str, Any, int, Any]] = [
    ("unknown kind", lambda w: ["party", "add", "--kind", "actor", "--name", "X"], 2,
     lambda w: ["--kind", "actor"]),
    ("bad party name", lambda w: ["party", "add", "--kind", "writer", "--name", "a\tb"], 2,
     lambda w: ["/statement/body/name"]),
    ("passphrase variable unset", lambda w: ["party", "add", "--kind", "writer", "--name", "X",
                                             "--passphrase-env", "REELRIGHTS_TEST_UNSET"], 2,
     lambda w: ["REELRIGHTS_TEST_UNSET"]),
    ("missing file", lambda w: ["work", "add", "--owner", "Northlight", "--kind", "film",
                                "--title", "T", str(w["tmp"] / "missing.mp4")], 2,
     lambda w: ["missing.mp4"]),
    ("empty file", lambda w: ["work", "add", "--owner", "Northlight", "--kind", "film",
                              "--title", "T", str(w["empty"])], 2, lambda w: ["empty.txt"]),
    ("same file twice", lambda w: ["work", "add", "--owner", "Northlight", "--kind", "film",
                                   "--title", "T", str(w["media"]["script2"]),
                                   str(w["copy"])], 2, lambda w: ["second.fountain", "copy.txt"]),
    ("unknown owner", lambda w: ["work", "add", "--owner", "Nobody Films", "--kind", "film",
                                 "--title", "T", str(w["media"]["script2"])], 2,
     lambda w: ["Nobody Films"]),
    ("bad EIDR check character", lambda w: ["work", "add", "--owner", "Northlight", "--kind",
                                            "film", "--title", "T", "--id", EIDR[:-1] + "6",
                                            str(w["media"]["script2"])], 2,
     lambda w: ["--id", EIDR[:-1] + "6", "check character"]),
    ("bad year", lambda w: ["work", "add", "--owner", "Northlight", "--kind", "film", "--title",
                            "T", "--year", "1700", str(w["media"]["script2"])], 2,
     lambda w: ["--year", "1700"]),
    ("share 1.5", lambda w: ["work", "credit", w["film"], "--party", w["ada"], "--role",
                             "performer", "--share", "1.5"], 2, lambda w: ["--share", "1.5"]),
    ("share abc", lambda w: ["work", "credit", w["film"], "--party", w["ada"], "--role",
                             "performer", "--share", "abc"], 2, lambda w: ["--share", "abc"]),
    ("share 0", lambda w: ["work", "credit", w["film"], "--party", w["ada"], "--role",
                           "performer", "--share", "0"], 2, lambda w: ["--share"]),
    ("unknown role", lambda w: ["work", "credit", w["film"], "--party", w["ada"], "--role",
                                "gaffer", "--share", "1"], 2, lambda w: ["--role", "gaffer"]),
    ("unknown party", lambda w: ["work", "credit", w["film"], "--party", "Nobody", "--role",
                                 "performer", "--share", "0.5"], 2, lambda w: ["Nobody"]),
    ("unknown work", lambda w: ["work", "credit", "No Such Work", "--party", w["ada"], "--role",
                                "performer", "--share", "0.5"], 2, lambda w: ["No Such Work"]),
    ("show unknown party", lambda w: ["party", "show", "pty_aaaaaaaaaaaaaaaa"], 2,
     lambda w: ["pty_aaaaaaaaaaaaaaaa"]),
    ("show unknown work", lambda w: ["work", "show", "wrk_aaaaaaaaaaaaaaaa"], 2,
     lambda w: ["wrk_aaaaaaaaaaaaaaaa"]),
    ("list works of unknown owner", lambda w: ["work", "list", "--owner", "Ghost"], 2,
     lambda w: ["Ghost"]),
    ("shares over 1", lambda w: ["work", "credit", w["film"], "--party", w["bruno"], "--role",
                                 "composer", "--share", "0.5"], 2,
     lambda w: ["composer", "1.25", "0.25"]),
    ("duplicate credit", lambda w: ["work", "credit", w["film"], "--party", w["ada"], "--role",
                                    "composer", "--share", "0.1"], 2,
     lambda w: [w["ada"], "already credited"]),
    ("log get out of range", lambda w: ["log", "get", "99"], 2, lambda w: ["99"]),
    ("log get not a number", lambda w: ["log", "get", "x"], 2, lambda w: ["'x'"]),
    ("log inclusion out of range", lambda w: ["log", "inclusion", "99"], 2, lambda w: ["99"]),
    ("log inclusion size out of range", lambda w: ["log", "inclusion", "0", "--size", "99"], 2,
     lambda w: ["--size 99"]),
    ("log inclusion index beyond size", lambda w: ["log", "inclusion", "5", "--size", "3"], 2,
     lambda w: ["5", "3"]),
    ("consistency old > new", lambda w: ["log", "consistency", "5", "2"], 2,
     lambda w: ["5", "2"]),
    ("consistency new beyond log", lambda w: ["log", "consistency", "2", "99"], 2,
     lambda w: ["99"]),
    ("consistency old 0", lambda w: ["log", "consistency", "0"], 2, lambda w: ["OLD", "0"]),
    ("checkpoint size never issued", lambda w: ["log", "checkpoint", "--size", "99"], 2,
     lambda w: ["99"]),
    ("tiles without key", lambda w: ["log", "verify", "--tiles", str(w["home"] / "log")], 2,
     lambda w: ["--key"]),
    ("tiles without checkpoint", lambda w: ["log", "verify", "--tiles", str(w["tmp"]),
                                            "--key", w["vkey"]], 2,
     lambda w: [str(w["tmp"] / "checkpoint")]),
    ("malformed vkey", lambda w: ["log", "verify", "--tiles", str(w["home"] / "log"), "--key",
                                  "nonsense"], 2, lambda w: ["nonsense"]),
    ("submit missing file", lambda w: ["statement", "submit", str(w["tmp"] / "nope.txt")], 2,
     lambda w: ["nope.txt"]),
    ("submit non-canonical line", lambda w: ["statement", "submit", str(w["garbage"])], 2,
     lambda w: ["garbage.txt line 1"]),
    ("submit nothing", lambda w: ["statement", "submit", str(w["empty"])], 2,
     lambda w: ["nothing to submit"]),
    ("sign invalid JSON body", lambda w: ["statement", "sign", "--as", "Northlight", "--type",
                                          "work.credited", str(w["badjson"])], 2,
     lambda w: ["badjson.txt", "not valid JSON"]),
    ("sign as unknown party", lambda w: ["statement", "sign", "--as", "Ghost", "--type",
                                         "work.credited", str(w["body"])], 2,
     lambda w: ["Ghost"]),
    ("sign bad type", lambda w: ["statement", "sign", "--as", "Northlight", "--type",
                                 "Work Credited", str(w["body"])], 2,
     lambda w: ["/statement/type"]),
    ("init another origin", lambda w: ["init", "--origin", "elsewhere.example/log"], 2,
     lambda w: ["elsewhere.example/log"]),
    ("demo into a non-demo folder", lambda w: ["demo", str(w["tmp"])], 2,
     lambda w: [str(w["tmp"])]),
    ("no such option", lambda w: ["party", "list", "--colour"], 2, lambda w: ["--colour"]),
]


@pytest.fixture
def refusal_world(world, media, tmp_path: Path) -> dict[str, Any]:
    w = dict(world)
    p = w["home"]
    ok(p, "work", "credit", w["film"], "--party", w["ada"], "--role", "composer", "--share",
       "0.75")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "empty.txt").write_bytes(b"")
    (scratch / "copy.txt").write_bytes(media["script2"].read_bytes())
    (scratch / "garbage.txt").write_text('{"not": "canonical"}\n')
    (scratch / "badjson.txt").write_text('{"work": ')
    (scratch / "body.json").write_text(json.dumps({"work": w["film"], "party": w["ada"],
                                                   "role": "vfx", "share": "1"}))
    w.update(tmp=scratch, media=media, empty=scratch / "empty.txt", copy=scratch / "copy.txt",
             garbage=scratch / "garbage.txt", badjson=scratch / "badjson.txt", body=scratch / "body.json")
    return w


@pytest.mark.parametrize(("what", "args", "code", "names"), CASES, ids=[c[0] for c in CASES])
def test_refusals(refusal_world, monkeypatch: pytest.MonkeyPatch, what, args, code,
                  names) -> None:
    monkeypatch.delenv("REELRIGHTS_TEST_UNSET", raising=False)
    w = refusal_world
    refused(w["home"], args(w), code, *names(w))


def test_missing_home_is_one_line(tmp_path: Path, home) -> None:
    missing = tmp_path / "not-a-home"
    canonical = tmp_path / "entries.txt"
    canonical.write_text("{}\n")  # passes the line check, so the home is what fails
    for args in (["party", "list"], ["work", "add", "--owner", "X", "--kind", "film", "--title",
                                     "T", str(home.path / "home.json")], ["log", "checkpoint"],
                 ["log", "verify"], ["statement", "submit", str(canonical)]):
        line = refused(home.path, args, 2, str(missing), "reelrights init", cli_home=missing)
        assert line.startswith(f"error: {missing} is not a reelrights home")
    assert not missing.exists()


def test_policy_denial_exits_3(refusal_world) -> None:
    w = refusal_world
    p = w["home"]
    line = ok(p, "statement", "sign", "--as", "Rival", "--type", "work.credited",
              str(w["body"])).stdout
    entries = w["tmp"] / "rival.txt"
    entries.write_text(line)
    refused(p, ["statement", "submit", str(entries)], 3, w["film"], w["rival"], w["studio"])


def test_verification_failures_exit_1(refusal_world, tmp_path: Path) -> None:
    w = refusal_world
    p = w["home"]
    # a statement whose actor is the studio, signed by the rival's key
    stmt = make_statement("work.credited", w["studio"], {"work": w["film"], "party": w["bruno"],
                                                         "role": "vfx", "share": "1"},
                          registry=Home.open(p).registry)
    forged = sign_statement(stmt, Home.open(p).party_key(w["rival"]))
    f = tmp_path / "forged.txt"
    f.write_bytes(forged + b"\n")
    refused(p, ["statement", "submit", str(f)], 1, w["studio"])

    # another log's key does not verify this log's checkpoint
    other, _ = Home.init(tmp_path / "other-home")
    other_vkey = ok(other.path, "log", "key").stdout.strip()
    assert other_vkey != w["vkey"]
    refused(p, ["log", "verify", "--tiles", str(p / "log"), "--key", other_vkey], 1,
            "no signature by a trusted key")

    # a tampered copy of the tiles names the first bad entry
    out = tmp_path / "copy"
    ok(p, "log", "export", str(out))
    bundle = next((out / "tile" / "entries").rglob("*"))
    while bundle.is_dir():
        bundle = next(bundle.iterdir())
    data = bytearray(bundle.read_bytes())
    i = data.index(b'"time":"') + 9
    data[i] ^= 0x01
    bundle.write_bytes(bytes(data))
    line = refused(p, ["log", "verify", "--tiles", str(out), "--key", w["vkey"]], 1)
    assert line.startswith("error: entry 0:"), line  # names the first altered entry
