"""A disclosure of a sealed statement checks its signature with the key in force at the
statement's log index (docs/keys.md; core.key_history), from public material only: the licensor
seals a license, rotates its key, seals another with the new key; a regulator verifies both
disclosures with `reelrights verify` in a process with no home. Altered leaves, or a disclosure
that drops the rotation from its key statements, fail (exit 1, named)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fund_story import build
from reelrights.core.license_terms import training_agreement
from reelrights.core.sealed_disclosure import verify_disclosure
from reelrights.errors import VerificationError
from reelrights.identity import keys as idkeys
from reelrights.keys import PartyKey, load_key_file, write_key_file
from reelrights.ledger import Ledger
from reelrights.registry.submit import sign_sealed
from reelrights.rights import licensing
from reelrights.sealed.copies import home_source, keep_own_copy
from reelrights.sealed.disclose import make_disclosure
from reelrights.sealed.store import database_source

CLI = "import sys; from reelrights.cli import main; sys.argv[0] = 'reelrights'; main()"
SRC = str(Path(__file__).resolve().parents[1] / "src")
WAIT = 72 * 3600


class Clock:
    """The log's clock: the real time when made, moved forward by the test."""

    def __init__(self) -> None:
        self.start, self.offset = datetime.now(UTC), timedelta(0)

    def __call__(self) -> str:
        return (self.start + self.offset).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def _fresh(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`reelrights ARGS` in a new interpreter with no home (HOME points nowhere)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELRIGHTS_")}
    env.update(HOME=str(cwd / "no-such-home"), PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def rotated(home, tmp_path):
    """A sealed license before the licensor's rotation (old key) and one after (new key)."""
    clock = Clock()
    lg = Ledger.open(home, clock=clock)
    try:
        ids = build(home, lg, tmp_path, sealed=True)
        pid = ids["studio"]
        for name in ("recovery", "new"):
            write_key_file(tmp_path / f"{name}.pem", PartyKey.generate())
        idkeys.set_recovery_key(home, lg, pid, tmp_path / "recovery.pem")
        idkeys.request_rotation(home, lg, pid, tmp_path / "new.pem")
        clock.advance(WAIT + 1)
        new = load_key_file(tmp_path / "new.pem")
        policy = training_agreement(uid="urn:reelrights:policy:after", licensor=pid,
                                    licensee=ids["dev"], bundle=ids["bundle"],
                                    model_family="orbit", territories=["US"],
                                    until="2099-12-31", fund_share="12")
        with lg.db.read() as conn:
            need = licensing.required_cosigners(conn, ids["bundle"])
        ids["after"] = "lic_" + "a" * 16
        entry = sign_sealed(lg, new, "license.granted", pid, {
            "id": ids["after"], "bundle": ids["bundle"], "licensor": pid,
            "licensee": ids["dev"], "policy": policy, "required_cosigners": need})
        keep_own_copy(home, entry)
        lg.submit([entry])
        with lg.db.read() as conn:
            docs = {ref: make_disclosure(conn, lg.log, ids[ref], ["/body/policy"],
                                         [home_source(home), database_source(conn)])
                    for ref in ("lic", "after")}
        ids["policy_after"] = policy
        yield ids, docs
    finally:
        lg.close()
        lg.db.dispose()


def test_disclosures_before_and_after_a_rotation_verify_with_no_home(home, rotated,
                                                                     tmp_path) -> None:
    ids, docs = rotated
    away = tmp_path / "regulator"
    away.mkdir()
    (away / "log.vkey").write_text(home.log_vkey() + "\n")
    for ref, doc in docs.items():
        (away / f"{ref}.json").write_text(json.dumps(doc))
        r = _fresh(["verify", f"{ref}.json", "--log-key", "log.vkey", "--json"], away)
        assert r.returncode == 0, (ref, r.stdout, r.stderr)
        report = json.loads(r.stdout)
        assert report["ok"] and report["kind"] == "sealed disclosure", report
    # the one signed after the rotation names the new key and carries the key statements
    after = verify_disclosure(docs["after"], home.log_vkey())
    assert after.fields == {"/body/policy": ids["policy_after"]}
    assert '"seq":2' in docs["after"]["statement"]["leaf"].replace(" ", "")
    assert len(docs["after"]["keys"]) == 3  # registry.established, recovery set, rotation
    # altered leaves: exit 1, naming the field
    bad = json.loads(json.dumps(docs["after"]))
    bad["leaves"][0]["value"]["uid"] = "urn:reelrights:policy:cheaper"
    (away / "bad.json").write_text(json.dumps(bad))
    r = _fresh(["verify", "bad.json", "--log-key", "log.vkey"], away)
    assert r.returncode == 1 and "/body/policy" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr


def test_a_disclosure_that_hides_the_rotation_or_forges_a_key_statement_fails(
        home, rotated) -> None:
    ids, docs = rotated
    vkey = home.log_vkey()
    dropped = json.loads(json.dumps(docs["after"]))
    dropped["keys"] = [k for k in dropped["keys"] if "key.rotation.requested" not in k["leaf"]]
    with pytest.raises(VerificationError, match="key history gives no key 2"):
        verify_disclosure(dropped, vkey)
    none = {k: v for k, v in docs["after"].items() if k != "keys"}
    with pytest.raises(VerificationError, match="key history"):
        verify_disclosure(none, vkey)
    # a key statement that is not in the log under the checkpoint
    forged = json.loads(json.dumps(docs["after"]))
    forged["keys"][-1]["leaf"] = forged["keys"][-1]["leaf"].replace('"seq":2', '"seq":3')
    with pytest.raises(VerificationError, match="not in the log"):
        verify_disclosure(forged, vkey)
    # another party's statement passed off as the licensor's key statement
    other = json.loads(json.dumps(docs["after"]))
    other["keys"].append(other["signer"])
    with pytest.raises(VerificationError, match="not a key statement"):
        verify_disclosure(other, vkey)
    # the license sealed before the rotation still verifies with the old key
    assert verify_disclosure(docs["lic"], vkey).actor == ids["studio"]
