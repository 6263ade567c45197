"""Keys over time (docs/keys.md), on both backends, with real signatures and a log clock the test
moves: a rotation waits 72 h during which the recovery key can cancel it; the recovery key
rotates at once; a revocation ends a key at its own log position, never earlier; a party
disputes what a thief signed, and ``check`` shows it. Every rule has its attacker."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reelrights.catalogue import check_body
from reelrights.core.key_history import possession_message
from reelrights.core.statements import sign_statement
from reelrights.errors import Conflict, InvalidStatement, SignatureError, VerificationError
from reelrights.identity import keys as idkeys
from reelrights.identity.statement_disputes import (
    dispute_statements,
    list_statement_disputes,
    resolve_dispute,
)
from reelrights.keys import PartyKey, load_key_file, write_key_file
from reelrights.ledger import Ledger
from reelrights.log.verify import verify_log
from reelrights.registry.parties import register_party
from reelrights.registry.submit import next_key_path, signing_key
from reelrights.replica.verify import verify_projections

HOUR = 3600
WAIT = 72 * HOUR


class Clock:
    """The log's clock: the real time when made, moved forward by the test."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.offset = timedelta(0)

    def __call__(self) -> str:
        return (self.start + self.offset).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lg(home, clock):
    ledger = Ledger.open(home, clock=clock)
    yield ledger
    ledger.close()
    ledger.db.dispose()


def _party(home, lg, name: str = "Northlight Pictures") -> str:
    return register_party(home, lg, "studio", name).details["id"]


def _keyfile(tmp_path: Path, name: str) -> tuple[Path, PartyKey]:
    k = PartyKey.generate()
    path = tmp_path / f"{name}.pem"
    write_key_file(path, k)
    return path, k


def _work_body(owner: str, n: int) -> dict:
    from reelrights.core.ids import new_id

    return {"id": new_id("work"), "kind": "film", "title": f"Film {n}", "owner": owner,
            "assets": [{"sha256": f"{n:064x}", "size": 10, "media_type": "video/mp4",
                        "category": "video", "name": f"film{n}.mp4"}]}


def _signed(lg, clock, key: PartyKey, type_: str, actor: str, body: dict,
            seq: int | None = None) -> bytes:
    stmt = lg.new_statement(type_, actor, body, clock(), signer=key.public_key_bytes)
    if seq is not None:
        stmt["key"]["seq"] = seq
    return sign_statement(stmt, key)


def _work(lg, clock, key: PartyKey, owner: str, n: int, seq: int | None = None):
    return lg.submit([_signed(lg, clock, key, "work.registered", owner, _work_body(owner, n),
                              seq)])[0]


def _new_key_body(lg, party: str, seq: int, role: str, key: PartyKey) -> dict:
    pub = base64.b64encode(key.public_key_bytes).decode()
    proof = key.sign(possession_message(lg.registry, party, seq, role, pub))
    return {"party": party, "seq": seq, "public_key": pub,
            "proof": base64.b64encode(proof).decode()}


@pytest.fixture
def party(home, lg, clock, tmp_path):
    """A studio with a recovery key (seq 1), its signing key in the home."""
    pid = _party(home, lg)
    rpath, rkey = _keyfile(tmp_path, "recovery")
    idkeys.set_recovery_key(home, lg, pid, rpath)
    return pid, home.party_key(pid), rpath, rkey


def test_a_rotation_takes_effect_after_the_wait_and_never_before(home, lg, clock, party,
                                                                  tmp_path) -> None:
    pid, old, _, _ = party
    npath, new = _keyfile(tmp_path, "new")
    r = idkeys.request_rotation(home, lg, pid, npath)
    assert r.details["seq"] == 2 and next_key_path(home, pid).exists()
    # Before the wait: the new key is refused, the old one signs.
    with pytest.raises(SignatureError, match="takes effect at log time"):
        _work(lg, clock, new, pid, 1)
    _work(lg, clock, old, pid, 2)
    clock.advance(WAIT - 60)
    _work(lg, clock, old, pid, 3)
    clock.advance(61)
    # After it: the old key is refused, the new one signs.
    with pytest.raises(SignatureError, match="retired since log time"):
        _work(lg, clock, old, pid, 4, seq=0)
    _work(lg, clock, new, pid, 5)
    with lg.db.read() as conn:
        assert verify_log(conn, lg.log, home.log_vkey(), check_body=check_body).size > 0
    assert not verify_projections(lg.db).differences


def test_a_thief_who_rotates_first_is_cancelled_by_the_recovery_key(home, lg, clock, party,
                                                                     tmp_path) -> None:
    pid, stolen, rpath, _ = party
    thief_new = PartyKey.generate()
    # The thief holds the current key and rotates to a key of its own.
    lg.submit([_signed(lg, clock, stolen, "key.rotation.requested", pid,
                       _new_key_body(lg, pid, 2, "signing", thief_new))])
    clock.advance(HOUR)
    r = idkeys.cancel_rotation(home, lg, pid, rpath, reason="not us")
    assert r.details["seq"] == 2
    clock.advance(WAIT)
    # The thief's key never takes effect.
    with pytest.raises(SignatureError, match="cancelled rotation"):
        _work(lg, clock, thief_new, pid, 1, seq=2)
    # The owner then recovers at once: the stolen key signs nothing after it.
    npath, fresh = _keyfile(tmp_path, "fresh")
    _, newrec = _keyfile(tmp_path, "recovery2")
    rec = idkeys.recover(home, lg, pid, rpath, npath, tmp_path / "recovery2.pem")
    with pytest.raises(SignatureError, match="retired at log index"):
        _work(lg, clock, stolen, pid, 2, seq=0)
    assert signing_key(home, lg, pid).public_key_bytes == fresh.public_key_bytes
    _work(lg, clock, fresh, pid, 3)
    h = idkeys.key_history(lg.db, pid, lg.registry, WAIT, clock())
    assert [(k["seq"], k["role"], k["status"]) for k in h["keys"]] == [
        (0, "signing", "retired"), (1, "recovery", "retired"), (2, "signing", "cancelled"),
        (3, "signing", "active"), (4, "recovery", "active")]
    assert h["keys"][0]["until_index"] == rec.index
    # The old recovery key is spent too.
    with pytest.raises(SignatureError, match="retired"):
        lg.submit([_signed(lg, clock, load_key_file(rpath), "key.revoked", pid,
                           {"party": pid, "seq": 3}, seq=1)])


def test_a_forged_cancellation_is_refused(home, lg, clock, party) -> None:
    pid, stolen, _, _ = party
    thief_new = PartyKey.generate()
    lg.submit([_signed(lg, clock, stolen, "key.rotation.requested", pid,
                       _new_key_body(lg, pid, 2, "signing", thief_new))])
    body = {"party": pid, "seq": 2}
    # Signed with the signing key (the thief's own cancellation of a rightful rotation, or
    # the reverse): the recovery key alone cancels.
    with pytest.raises(SignatureError, match="recovery key"):
        lg.submit([_signed(lg, clock, stolen, "key.rotation.cancelled", pid, body, seq=0)])
    # A key of the attacker's own that names the recovery key's number: its signature fails.
    with pytest.raises(SignatureError):
        lg.submit([_signed(lg, clock, PartyKey.generate(), "key.rotation.cancelled", pid, body,
                           seq=1)])
    # Nor may the new key cancel (or do anything) yet.
    with pytest.raises(SignatureError):
        lg.submit([_signed(lg, clock, thief_new, "key.rotation.cancelled", pid, body, seq=2)])


def test_a_replayed_cancelled_rotation_is_refused(home, lg, clock, party, tmp_path) -> None:
    pid, stolen, rpath, _ = party
    thief_new = PartyKey.generate()
    entry = _signed(lg, clock, stolen, "key.rotation.requested", pid,
                    _new_key_body(lg, pid, 2, "signing", thief_new))
    lg.submit([entry])
    idkeys.cancel_rotation(home, lg, pid, rpath)
    with pytest.raises(Conflict, match="already in the log"):
        lg.submit([entry])
    # Signed again with a new id: its proof names seq 2, which is spent.
    with pytest.raises(InvalidStatement, match="seq 3"):
        lg.submit([_signed(lg, clock, stolen, "key.rotation.requested", pid,
                           _new_key_body(lg, pid, 2, "signing", thief_new))])
    # With a fresh proof for seq 3: the cancelled key never returns.
    with pytest.raises(Conflict, match="declared by .* before"):
        lg.submit([_signed(lg, clock, stolen, "key.rotation.requested", pid,
                           _new_key_body(lg, pid, 3, "signing", thief_new))])


def test_key_rules_refuse_what_they_should(home, lg, clock, tmp_path) -> None:
    pid = _party(home, lg)
    key = home.party_key(pid)
    other = PartyKey.generate()
    # No rotation without a recovery key.
    with pytest.raises(Conflict, match="no recovery key"):
        lg.submit([_signed(lg, clock, key, "key.rotation.requested", pid,
                           _new_key_body(lg, pid, 1, "signing", other))])
    # A proof made by another key than the one declared.
    body = _new_key_body(lg, pid, 1, "recovery", other)
    body["proof"] = _new_key_body(lg, pid, 1, "recovery", PartyKey.generate())["proof"]
    with pytest.raises(InvalidStatement, match="proof"):
        lg.submit([_signed(lg, clock, key, "key.recovery.set", pid, body)])
    # A proof for another role.
    body = _new_key_body(lg, pid, 1, "signing", other)
    with pytest.raises(InvalidStatement, match="proof"):
        lg.submit([_signed(lg, clock, key, "key.recovery.set", pid, body)])
    # A key number the party never declared.
    with pytest.raises(SignatureError, match="seq 5"):
        _work(lg, clock, key, pid, 1, seq=5)
    # Another party's key cannot be declared (one key, one party).
    pid2 = _party(home, lg, "Harbour Films")
    theirs = home.party_key(pid2)
    with pytest.raises(Conflict, match="already belongs to another party"):
        lg.submit([_signed(lg, clock, key, "key.recovery.set", pid,
                           _new_key_body(lg, pid, 1, "recovery", theirs))])
    # A party cannot act on another's keys: the body names the actor.
    with pytest.raises(InvalidStatement, match="actor"):
        lg.submit([_signed(lg, clock, key, "key.recovery.set", pid,
                           {**_new_key_body(lg, pid2, 1, "recovery", other), "party": pid2})])
    rpath, rkey = _keyfile(tmp_path, "rec")
    idkeys.set_recovery_key(home, lg, pid, rpath)
    # A declared key cannot be registered again as a new party's key.
    from reelrights.core.ids import new_id

    other_id = new_id("party")
    with pytest.raises(Conflict, match="already belongs to another party"):
        lg.submit([sign_statement(lg.new_statement("party.registered", other_id, {
            "id": other_id, "kind": "studio", "name": "Copycat",
            "public_key": base64.b64encode(rkey.public_key_bytes).decode()}), rkey)])
    # Set once: a thief holding the signing key cannot replace the recovery key.
    with pytest.raises(Conflict, match="recovery key already"):
        lg.submit([_signed(lg, clock, key, "key.recovery.set", pid,
                           _new_key_body(lg, pid, 2, "recovery", PartyKey.generate()))])
    # One pending rotation at a time.
    n1, _ = _keyfile(tmp_path, "n1")
    idkeys.request_rotation(home, lg, pid, n1)
    with pytest.raises(Conflict, match="pending"):
        lg.submit([_signed(lg, clock, key, "key.rotation.requested", pid,
                           _new_key_body(lg, pid, 3, "signing", PartyKey.generate()))])


def test_a_revocation_keeps_earlier_statements_and_a_dispute_shows(home, lg, clock, party,
                                                                    tmp_path) -> None:
    pid, stolen, rpath, _ = party
    buyer = _party(home, lg, "Orbit AI")
    # The thief registers a work in the studio's name and credits the buyer on it.
    w = _work(lg, clock, stolen, pid, 1)
    credit = lg.submit([_signed(lg, clock, stolen, "work.credited", pid,
                                {"work": w.details["id"], "party": buyer, "role": "writer",
                                 "share": "1"})])[0]
    r = idkeys.revoke_key(home, lg, pid, "key stolen", recovery_path=rpath)
    with pytest.raises(SignatureError, match="revoked at log index"):
        _work(lg, clock, stolen, pid, 2, seq=0)
    # Earlier statements stand: the log verifies, and the projections match.
    with lg.db.read() as conn:
        verify_log(conn, lg.log, home.log_vkey(), check_body=check_body)
    assert not verify_projections(lg.db).differences
    # Recover, then dispute what the thief signed.
    npath, _ = _keyfile(tmp_path, "after")
    idkeys.recover(home, lg, pid, rpath, npath)
    d = dispute_statements(home, lg, pid, [w.index, credit.index], "signed with a stolen key")
    rows = list_statement_disputes(lg.db, pid)
    assert {x["entry_index"] for x in rows} == {w.index, credit.index}
    assert all(x["status"] == "open" for x in rows) and r.index < d.index
    # Only statements in the party's own name; only a counterparty resolves.
    with pytest.raises(Conflict, match="own name"):
        dispute_statements(home, lg, pid, [0], "not ours")
    third = _party(home, lg, "Someone Else")
    with pytest.raises(Conflict, match="counterparty"):
        resolve_dispute(home, lg, d.details["id"], "rejected", "no", third)
    with pytest.raises(Conflict, match="withdraw"):
        resolve_dispute(home, lg, d.details["id"], "upheld", "mine", pid)
    # `check` shows the dispute beside the work it relies on (and says nothing when none).
    import json

    from click.testing import CliRunner

    from reelrights.cli import cli

    args = ["--home", str(home.path), "check", "--licensee", buyer, "--action", "train",
            "--model-family", "f", "--json", "--work"]
    out = CliRunner().invoke(cli, [*args, w.details["id"]])
    assert out.exit_code == 3, out.output
    shown = json.loads(out.stdout)["disputed"]
    assert [(x["entry_index"], x["status"], x["dispute"]) for x in shown] == [
        (w.index, "open", d.details["id"])]
    out = CliRunner().invoke(cli, [*args[:-2], "--work", w.details["id"]])
    assert f"disputed: work.registered at log index {w.index}" in out.stdout
    clean = _work(lg, clock, signing_key(home, lg, pid), pid, 9)
    out = CliRunner().invoke(cli, [*args, clean.details["id"]])
    assert "disputed" not in json.loads(out.stdout)
    resolve_dispute(home, lg, d.details["id"], "upheld", "we never had this credit", buyer)
    assert {x["status"] for x in list_statement_disputes(lg.db, pid)} == {"upheld"}
    with pytest.raises(Conflict, match="closed already"):
        resolve_dispute(home, lg, d.details["id"], "rejected", "again", None)
    with lg.db.read() as conn:
        verify_log(conn, lg.log, home.log_vkey(), check_body=check_body)
    assert not verify_projections(lg.db).differences


def test_a_rebuilt_registry_resolves_keys_the_same(home, lg, clock, party, tmp_path) -> None:
    from click.testing import CliRunner

    from reelrights.cli import cli

    pid, old, rpath, _ = party
    npath, new = _keyfile(tmp_path, "new")
    idkeys.request_rotation(home, lg, pid, npath)
    clock.advance(WAIT + 1)
    _work(lg, clock, new, pid, 1)
    want = idkeys.key_history(lg.db, pid, lg.registry, WAIT, clock())
    out = tmp_path / "rebuilt"
    r = CliRunner().invoke(cli, ["--home", str(out), "rebuild", "--tiles", str(home.log_dir),
                                 "--key", home.log_vkey()])
    assert r.exit_code == 0, r.output
    from reelrights.home import Home
    from reelrights.store.db import Database

    rebuilt = Home.open(out)
    db = Database(rebuilt.database_url)
    try:
        got = idkeys.key_history(db, pid, lg.registry, WAIT, clock())
    finally:
        db.dispose()
    assert got == want
    assert [k["status"] for k in got["keys"]] == ["retired", "active", "active"]


def test_the_key_commands_on_a_local_home(home, tmp_path) -> None:
    """The CLI on a local home: key new, recovery-set, rotate, history, cancel-rotation, revoke,
    recover; statement dispute, disputes, resolve-dispute; bad input is one line, exit 2."""
    import json

    from click.testing import CliRunner

    from reelrights.cli import cli

    def run(*args: str, want: int = 0) -> str:
        r = CliRunner().invoke(cli, ["--home", str(home.path), *args])
        assert r.exit_code == want, (args, r.stdout, r.stderr)
        return r.stdout if want == 0 else r.stderr

    pid = json.loads(run("party", "add", "--kind", "studio", "--name", "Northlight", "--json"))["id"]
    rec, new, fresh = (str(tmp_path / f"{n}.pem") for n in ("rec", "new", "fresh"))
    for path in (rec, new, fresh):
        assert len(run("key", "new", path).strip()) == 16
    assert "never overwritten" in run("key", "new", rec, want=2)
    assert "no recovery key" in run("key", "rotate", "--as", pid, "--new-key", new, want=2)
    run("key", "recovery-set", "--as", pid, "--recovery-key", rec)
    assert "does not exist" in run("key", "rotate", "--as", pid, "--new-key",
                                   str(tmp_path / "missing.pem"), want=2)
    out = json.loads(run("key", "rotate", "--as", pid, "--new-key", new, "--json"))
    assert out["id"] == pid and out["seq"] == 2 and out["wait_s"] == WAIT
    keys = json.loads(run("key", "history", pid, "--json"))["keys"]
    assert [k["status"] for k in keys] == ["active", "active", "pending"]
    assert "pending" in run("key", "history", pid)
    run("key", "cancel-rotation", "--as", pid, "--recovery-key", rec)
    assert "no pending rotation" in run("key", "cancel-rotation", "--as", pid, "--recovery-key",
                                        rec, want=2)
    run("key", "revoke", "--as", pid, "--reason", "laptop stolen")
    run("key", "recover", "--as", pid, "--recovery-key", rec, "--new-key", fresh)
    keys = json.loads(run("key", "history", pid, "--json"))["keys"]
    assert [k["status"] for k in keys] == ["revoked", "active", "cancelled", "active"]
    d = json.loads(run("statement", "dispute", "--as", pid, "--reason", "stolen key", "1",
                       "--json"))
    rows = json.loads(run("statement", "disputes", "--party", pid, "--json"))
    assert [(r["id"], r["entry_index"], r["status"]) for r in rows] == [(d["id"], 1, "open")]
    assert "exactly one of" in run("statement", "resolve-dispute", d["id"], "--outcome",
                                   "withdrawn", "--reason", "x", want=2)
    run("statement", "resolve-dispute", d["id"], "--as", pid, "--outcome", "withdrawn",
        "--reason", "found the laptop")
    assert "withdrawn" in run("statement", "disputes")
    assert run("log", "verify").startswith("ok: ")


def test_an_offline_proof_resolves_a_rotated_key_from_the_public_key_statements(
        home, lg, clock, party, tmp_path) -> None:
    """A statement signed with a key declared after registration verifies from its proof file
    alone: the proof carries the party's key statements and the verifier replays them
    (reelrights.verify.keys.key_at); the old key's signature after the rotation does not."""
    from reelrights.proofs import issue_proof
    from reelrights.replica.home import public_log_vkey
    from reelrights.verify import LogTrust, TlogProof, Verifier

    pid, old, _, _ = party
    npath, new = _keyfile(tmp_path, "new")
    idkeys.request_rotation(home, lg, pid, npath)
    before = _work(lg, clock, old, pid, 1)
    clock.advance(WAIT + 1)
    after = _work(lg, clock, new, pid, 2)
    verifier = Verifier(LogTrust(public_log_vkey(home)))
    for receipt in (before, after):
        text = issue_proof(lg, receipt.index).format()
        got = verifier.verify(TlogProof.parse(text))
        assert got.subject.index == receipt.index
    # The proof of the later entry carries the rotation: drop it and the verifier says so.
    proof = issue_proof(lg, after.index)
    kept = tuple(e for e in proof.related if b"key.rotation.requested" not in e.entry)
    assert len(kept) < len(proof.related)
    with pytest.raises(VerificationError, match="key"):  # a fresh verifier: nothing remembered
        Verifier(LogTrust(public_log_vkey(home))).verify(
            TlogProof(proof.subject, proof.checkpoint, kept))
