"""The statement catalogue is explicit (issue 9, point 4): every type is listed once with its
schema, applier and effect time; importing a module registers nothing; and a fresh interpreter
verifies a log that holds every statement type, whatever it imported before."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date
from importlib import import_module
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from reelrights.catalogue import (
    CAPABILITIES,
    Capability,
    Catalogue,
    catalogue,
    is_batch,
)
from reelrights.cli import cli
from reelrights.core.schema import Obj
from reelrights.home import Home
from reelrights.ledger import Ledger, each_statement
from reelrights.store.tables import log_entries


def test_every_type_is_listed_once_with_an_applier_and_an_effect_time() -> None:
    c = catalogue()
    listed = [t for cap in CAPABILITIES for m in cap.types for t in import_module(m).TYPES]
    assert sorted((t.name, t.version) for t in listed) == [(t.name, t.version) for t in c.types()]
    assert len({(t.name, t.version) for t in listed}) == len(listed)
    for t in c.types():
        assert callable(c.applier(t.name)), t.name
        assert c.capability(t.name) in {cap.name for cap in CAPABILITIES}
        assert t.effect in ("log", "declared"), t.name
        if t.effect == "declared":
            assert isinstance(t.body, Obj) and t.effect_field in t.body.required, t.name
            assert t.effect_bound in ("at_most_log_time", "at_least_log_time_minus_skew")
        else:
            assert t.effect_field is None and t.effect_bound is None, t.name
    assert {t.name for t in c.types() if t.effect == "declared"} >= {"performer.deceased",
                                                                     "consent.granted"}


def test_every_applier_applies_one_statement_at_a_time_unless_marked_batch() -> None:
    """Issue 10: one applier pattern. An applier is an ``each_statement`` wrapper (all share
    its code) unless it is marked ``@applier(..., batch=True)``, and only the measured hot
    paths are marked."""
    one_at_a_time = each_statement(lambda conn, a: {}).__code__
    c = catalogue()
    names = sorted({t.name for t in c.types()})
    batch = [n for n in names if is_batch(c.applier(n))]
    assert batch == ["party.registered", "work.registered"]
    hand_written = [n for n in names if n not in batch
                    and getattr(c.applier(n), "__code__", None) is not one_at_a_time]
    assert hand_written == []


def test_a_catalogue_with_a_type_but_no_applier_or_two_definitions_is_refused() -> None:
    """Assembling is checked: a capability whose type has no applier, or a type defined by two
    capabilities, is a programming error found when the catalogue is built, not at a refusal."""
    only_types = Capability("rights", ("reelrights.rights.types",), ())
    with pytest.raises(RuntimeError, match="types without an applier"):
        Catalogue([only_types])
    twice = Capability("again", ("reelrights.registry.types",), ())
    with pytest.raises(RuntimeError, match="defined twice"):
        Catalogue([CAPABILITIES[0], twice])


def test_importing_capability_modules_registers_nothing() -> None:
    """In a fresh interpreter, importing every types and service module leaves no global
    registry behind; only catalogue() assembles one."""
    code = textwrap.dedent("""
        import reelrights.fund.productions, reelrights.rights.licensing
        import reelrights.fund.types, reelrights.rights.types
        from reelrights.core import statement_types as st
        import reelrights.catalogue as cat
        assert not any(n.startswith("_CATALOGUE") for n in vars(st)), "global registry"
        assert cat.catalogue.cache_info().currsize == 0, "built on import"
        print(len(cat.catalogue().types()))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(catalogue().types())


@pytest.fixture(scope="module")
def every_type_home(tmp_path_factory) -> Path:
    """The demo's home (SQLite), plus the statement types the demo story does not log."""
    from reelrights.evidence import audit_challenge, audit_status, runs
    from reelrights.fund import productions as fund
    from reelrights.registry.parties import register_party
    from reelrights.registry.works import register_work
    from reelrights.rights import consent, disputes, licensing

    d = tmp_path_factory.mktemp("every-type")
    r = CliRunner().invoke(cli, ["demo", str(d)])
    assert r.exit_code == 0, r.output
    home = Home.open(d / "home")
    ledger = Ledger.open(home)
    try:
        with ledger.db.read() as conn:
            rows = conn.execute(select(log_entries.c.type, log_entries.c.actor,
                                       log_entries.c.entry)).all()
        first = {}
        for t, actor, entry in rows:
            first.setdefault(t, (actor, json.loads(entry)))
        body = lambda t: first[t][1]["entry"]["statement"]["body"]  # noqa: E731
        lic, dev = body("license.granted")["id"], body("license.granted")["licensee"]
        fund.set_terms(home, ledger, lic, contributors_share="0.7")
        fund.set_terms(home, ledger, lic, contributors_share="0.8", sealed=True)
        started = runs.start_run(home, ledger, dev, "harbour-family", [lic])
        assert started["id"]
        performer = body("consent.granted")["performer"]
        from reelrights.rights import consent_requests

        asked = consent_requests.request_consent(
            home, ledger, requester=dev, performer=performer, kinds=["voice"],
            description="Voice for a ferry announcement in the catalogue test film",
            media=["audio"], territory=["US"], start=date(2030, 1, 1), end=date(2030, 12, 31),
            compensation_ref="CAT-1", model_family="harbour-family")
        consent_requests.decline_request(home, ledger, asked.details["id"], "not this one")
        consent.revoke_consent(home, ledger, body("consent.granted")["id"], "no further use")
        # No representative was named: the performer's guild records the death.
        consent.record_death(home, ledger, performer, date(2025, 1, 1), first["guild.member"][0])
        auditor = register_party(home, ledger, "auditor", "Second Look").details["id"]
        ch = audit_challenge.challenge_run(home, ledger, body("run.committed")["id"], 1, auditor)
        from reelrights.evidence.audit_opened import log_response  # a response logged, sealed

        log_response(home, ledger, audit_challenge.respond(ledger, ch["challenge"],
                                                           d / "orbit-ai" / "run-1.jsonl"))
        audit_status.withdraw_challenge(home, ledger, ch["challenge"], "scope changed")
        original = body("work.registered")["assets"][0]["sha256"]
        rival = register_party(home, ledger, "studio", "Rival Pictures").details["id"]
        files = []
        for n in range(2):
            files.append(d / f"rival{n}.txt")
            files[-1].write_text(f"INT. FERRY - DAY ({n})\nA different script altogether.\n" * 30)
        work = register_work(home, ledger, rival, "script", "Rival Scripts", files)
        # Two near-duplicate reports against the studio's asset: one released, one decided.
        for a in work.details["assets"]:
            disputes.report_near_duplicate(home, ledger, rival, a["sha256"], original, 9_000,
                                           10_000, note="catalogue test")
        ids = [d.id for d in disputes.list_disputes(ledger.db) if d.status == "open"]
        assert len(ids) >= 2, ids
        disputes.release_dispute(home, ledger, ids[0], "it is ours after all")
        disputes.decide_dispute(home, ledger, ids[1], "first_owner", "registered first")
        from reelrights.sealed.erasure import erase_body

        sealed_policy = {**body("license.granted")["policy"], "uid": "urn:reelrights:sealed"}
        sealed = licensing.grant_license(home, ledger, body("license.granted")["bundle"], dev,
                                         sealed_policy, sealed=True)
        erase_body(home, ledger, sealed.statement_id or "", dev, "catalogue test")
        # Keys over time (docs/keys.md) and a disputed statement, withdrawn then decided.
        from reelrights.identity import keys as party_keys
        from reelrights.identity import statement_disputes
        from reelrights.keys import PartyKey, write_key_file

        for name in ("recovery", "thief", "fresh", "recovery2"):
            write_key_file(d / f"{name}.pem", PartyKey.generate())
        party_keys.set_recovery_key(home, ledger, rival, d / "recovery.pem")
        party_keys.request_rotation(home, ledger, rival, d / "thief.pem")
        party_keys.cancel_rotation(home, ledger, rival, d / "recovery.pem")
        party_keys.revoke_key(home, ledger, rival, "key stolen")
        party_keys.recover(home, ledger, rival, d / "recovery.pem", d / "fresh.pem",
                           d / "recovery2.pem")
        for outcome in ("withdrawn", "rejected"):
            dispute = statement_disputes.dispute_statements(
                home, ledger, rival, [work.index], "signed with a stolen key")
            statement_disputes.resolve_dispute(home, ledger, dispute.details["id"], outcome,
                                               "checked", rival if outcome == "withdrawn"
                                               else None)
        licensing.revoke_license(home, ledger, lic, "term ended")
        from datetime import UTC, datetime

        from reelrights.rights import strikes

        today = datetime.now(UTC).date()
        sid = strikes.declare_strike(home, ledger, first["guild.member"][0], today,
                                     "catalogue test").details["id"]
        strikes.end_strike(home, ledger, sid, date(today.year + 1, 1, 1))
        from reelrights.fund import suspense

        work_id = body("work.registered")["id"]
        claim = suspense.credit_unmatched(home, ledger, work_id, "Uncredited Extra", "vfx",
                                          "1/10").details["claim"]
        suspense.claim_credit(home, ledger, claim, rival, "catalogue test")
        suspense.confirm_claim(home, ledger, claim)
        credited = None
        with ledger.db.read() as conn:
            from reelrights.store.tables import credits as credit_rows

            conn_credit = conn.execute(credit_rows.select().limit(1)).first()
        if conn_credit is not None:
            credited = suspense.dispute_credit(home, ledger, conn_credit.work_id,
                                               conn_credit.party_id, conn_credit.role, rival,
                                               "catalogue test").details["claim"]
        assert credited is not None, "the demo logs a credit to dispute"
        unclaimed = suspense.credit_unmatched(home, ledger, work_id, "Lost Gaffer", "vfx",
                                              "1/10").details["claim"]
        owner = body("work.registered")["owner"]
        from reelrights.preferences.categories import Preferences
        from reelrights.preferences.declared import declare_preference

        declare_preference(home, ledger, work.details["id"],
                           Preferences({"train-ai": "disallowed"}),
                           source_format="content-usage", source_sha256="ab" * 32)
        # (rival's key was rotated above: the identity types use a studio of their own)
        fresh_studio = register_party(home, ledger, "studio", "Admitted Pictures").details["id"]
        _log_identity_types(home, ledger, d, fresh_studio, auditor)
    finally:
        ledger.close()
    from test_suspense import expire_later  # last: its log time is 37 months ahead

    expire_later(home, unclaimed, owner, owner)
    return d / "home"


def _log_identity_types(home: Home, ledger: Ledger, d: Path, studio: str, auditor: str) -> None:
    """Admission by domain (a loopback proof world), re-verified and then lapsed; a manual one."""
    from proof_servers import proof_world
    from reelrights.identity.admit import admit_manual, issue_nonce, request_admission, reverify

    admit_manual(home, ledger, auditor, "catalogue test")
    with proof_world(d) as world:
        n = issue_nonce(ledger, studio, "northlight.example")
        world.publish("northlight.example", n["document"])
        request_admission(home, ledger, studio, domain="northlight.example", nonce=n["nonce"],
                          policy=world.policy())
        assert [r["outcome"] for r in reverify(home, ledger, world.policy(), every=True)] == \
            ["reverified"]
        world.https.pages.clear()
        assert [r["outcome"] for r in reverify(home, ledger, world.policy(), every=True)] == \
            ["lapsed"]


def test_a_fresh_interpreter_verifies_a_log_holding_every_statement_type(every_type_home) -> None:
    home = Home.open(every_type_home)
    ledger = Ledger.open(home)
    with ledger.db.read() as conn:
        logged = {t for (t,) in conn.execute(select(log_entries.c.type).distinct())}
    ledger.close()
    assert logged == {t.name for t in catalogue().types()}, \
        sorted({t.name for t in catalogue().types()} - logged)
    # verify_log alone, in a new process that has imported nothing else of reelrights.
    code = textwrap.dedent(f"""
        import sys
        from reelrights.home import Home
        from reelrights.store.db import Database
        from reelrights.log.database_log import DatabaseLog
        from reelrights.log.verify import verify_log
        from reelrights.core.note import NoteSigner
        from reelrights.catalogue import check_body
        assert not [m for m in sys.modules if m.split(".")[1:2] in
                    (["registry"], ["rights"], ["evidence"], ["outputs"], ["fund"],
                     ["preferences"], ["identity"])]
        home = Home.open({str(every_type_home)!r})
        key = home.log_key()
        signer = NoteSigner(home.origin, key.seed)
        db = Database(home.database_url)
        with db.read() as conn:
            report = verify_log(conn, DatabaseLog(home.origin, signer), signer.vkey, check_body=check_body)
        print(report.size)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    with Ledger.open(home).db.read() as conn:
        size = conn.execute(select(log_entries.c.idx).order_by(log_entries.c.idx.desc())).first()
    assert int(out.stdout) == size.idx + 1
    # And the command line, in its own process, checks entries, tiles and projections.
    exe = Path(sys.executable).with_name("reelrights")
    cmd = subprocess.run([str(exe), "--home", str(every_type_home), "log", "verify"],
                         capture_output=True, text=True, timeout=300)
    assert cmd.returncode == 0 and cmd.stdout.startswith("ok: "), cmd.stdout + cmd.stderr


def test_the_compiled_body_checks_accept_every_logged_body(every_type_home) -> None:
    """Every body of a log holding every type passes its type's compiled check, and the same
    body with one required field dropped fails it (core.schema.compile_ok)."""
    from reelrights.core.schema import compile_ok

    ledger = Ledger.open(Home.open(every_type_home))
    with ledger.db.read() as conn:
        rows = conn.execute(select(log_entries.c.entry)).all()
    ledger.close()
    checked = 0
    for (entry,) in rows:
        doc = json.loads(entry)
        stmt = doc["entry"]["statement"] if "entry" in doc else doc["statement"]
        t = catalogue().lookup(stmt["type"], stmt["version"])
        spec = t.public_body if "sealed" in stmt else t.body  # sealed: its public fields
        ok = compile_ok(spec)
        assert ok(stmt["body"]), stmt
        if isinstance(spec, Obj) and spec.required:
            first = next(iter(spec.required))
            assert not ok({k: v for k, v in stmt["body"].items() if k != first}), stmt["type"]
        checked += 1
    assert checked == len(rows) > 50
