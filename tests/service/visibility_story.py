"""A served home holding one record of every kind the service reads, and a party in every role
of the visibility matrix (tests/service/test_visibility.py).

The fund story (studios, a performer and a writer credited on a film, a guild that co-signs the
film's license, a developer, a fund) plus: a certified run of the developer (an auditor
challenged it), an output record, a revenue report and a royalty statement, the performer's
consent naming the developer, a same-bytes ownership dispute, an outsider who holds no role,
and two sealed statements: the licensor's fund terms and the developer's logged audit response.
Served by uvicorn in a thread on SQLite or PostgreSQL (read_server.database_url).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from read_server import ThreadedServer, database_url

from fund_story import build, csv_report
from reelrights.api import ServiceConfig, create_app
from reelrights.core.commitment import canonical_item
from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.evidence import audit_challenge, certificates, runs
from reelrights.evidence.audit_opened import log_response
from reelrights.fund import productions as fund
from reelrights.fund import revenue_import
from reelrights.fund.royalty_statement_issue import issue_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.registry.parties import register_party
from reelrights.registry.works import work_detail
from reelrights.rights import consent as cs

#: One record of each kind: the story's label of its id.
RECORDS = {"party": "performer", "work": "film", "bundle": "bundle", "license": "lic",
           "run": "run2", "certificate": "cert", "output": "out2", "consent": "consent",
           "production": "production", "dispute": "dispute", "revenue_report": "report",
           "royalty_statement": "statement", "fund_totals": "quarter_busy"}

#: For each record kind and role of the matrix, who holds that role for the story's record:
#: a party's label, "operator", or None (anyone, unsigned).
VIEWERS: dict[str, dict[str, str | None]] = {
    "party": {"public": None, "owner": "performer", "operator": "operator"},
    "work": {"public": None, "owner": "studio", "credited_contributor": "writer",
             "operator": "operator"},
    "bundle": {"public": None, "owner": "studio", "operator": "operator"},
    "license": {"public": None, "licensor": "studio", "licensee": "dev",
                "cosigning_guild": "guild", "auditor": "auditor", "fund": "fund",
                "operator": "operator", "credited_contributor": "writer"},
    "consent": {"public": None, "performer": "performer", "representative": "guild",
                "licensee": "dev", "operator": "operator"},
    "run": {"public": None, "developer": "dev", "auditor": "auditor", "operator": "operator"},
    "certificate": {"public": None, "auditor": "auditor", "developer": "dev",
                    "operator": "operator"},
    "output": {"public": None, "developer": "dev", "operator": "operator"},
    "production": {"public": None, "owner": "studio", "operator": "operator"},
    "dispute": {"public": None, "disputant": "studio", "operator": "operator"},
    "revenue_report": {"public": None, "reporter": "studio", "fund": "fund",
                       "operator": "operator"},
    "royalty_statement": {"public": None, "payee": "performer", "fund": "fund",
                          "operator": "operator"},
    "fund_totals": {"public": None, "public_aggregate": None, "fund": "fund",
                    "operator": "operator"},
}


#: The sealed statements the story logs (label of the statement id) and, for each role of the
#: matrix's sealed_body row that reads the whole body, who holds it (GET /v1/sealed/<id>).
SEALED_VIEWERS: dict[str, dict[str, str]] = {
    "terms": {"owner": "studio", "named_party": "studio", "fund": "fund", "payee": "performer",
              "operator": "operator"},
    "opened": {"owner": "dev", "named_party": "auditor", "developer": "dev",
               "auditor": "auditor", "operator": "operator"},
    "sealed_consent": {"owner": "performer", "named_party": "dev",
                       "representative": "guild", "operator": "operator"},
}


@dataclass
class Story:
    url: str
    home: Home
    ledger: Ledger
    ids: dict[str, str]
    backend: str

    @property
    def registry(self) -> str:
        return self.ledger.registry

    def key(self, label: str) -> PartyKey:
        if label == "operator":
            return self.home.operator_key() or self.home.log_key()
        return self.home.party_key(self.ids[label])


def populate(home: Home, ledger: Ledger, tmp: Path) -> dict[str, str]:
    ids = build(home, ledger, tmp)
    for label, kind in (("auditor", "auditor"), ("outsider", "studio")):
        ids[label] = register_party(home, ledger, kind, f"The {label.title()}").details["id"]
    # A run of the film's license, challenged and certified by the auditor.
    shas = [a["sha256"] for a in work_detail(ledger.db, ids["film"]).to_json()["assets"]]
    items = [{"sha256": s, "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": ids["lic"], "bundle": ids["bundle"]}}
             for s in shas]
    manifest = tmp / "run2.jsonl"
    manifest.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    ids["run2"] = runs.commit_run(home, ledger, manifest, ids["dev"], "orbit", "orbit-2")["id"]
    ch = audit_challenge.challenge_run(home, ledger, ids["run2"], 2, ids["auditor"])
    resp = tmp / "resp.json"
    audit_challenge.write_private(resp, audit_challenge.respond(ledger, ch["challenge"],
                                                                manifest))
    ids["cert"] = certificates.certify(home, ledger, resp, ids["auditor"],
                                       territory="US")["certificate"]
    # An output record of that run.
    ids["out2"] = new_id("output")
    body = {"id": ids["out2"], "developer": ids["dev"], "run": ids["run2"],
            "media_kind": "image", "sha256": hashlib.sha256(b"out").hexdigest(),
            "fingerprint_alg": "dev.reelrights.pdq.1",
            "fingerprint": hashlib.sha256(b"fp").hexdigest(),
            "model_commitment": hashlib.sha256(b"mc").hexdigest(),
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "certificate": ids["cert"]}
    ledger.submit([sign_statement(ledger.new_statement("output.registered", ids["dev"], body),
                                  home.party_key(ids["dev"]))])
    # Money: the studio's revenue report and the performer's royalty statement.
    ids["report"] = revenue_import.import_report(home, ledger, csv_report(
        tmp / "q1.csv", [(ids["production"], "2027-Q1", "US", "USD", "12345.67", "1234.56")]),
        ids["studio"])["id"]
    _doc, ids["statement"], _i, _new = issue_statement(home, ledger, ids["performer"], "2027-Q1")
    # Q1: one production earned (its fund totals stay private); Q2: three did (public).
    ids["quarter_quiet"], ids["quarter_busy"] = "2027-Q1", "2027-Q2"
    rows = [(ids["production"], "2027-Q2", "US", "USD", "1000.00", "0")]
    for n in (2, 3):
        prd = fund.add_production(home, ledger, ids["studio"], f"Harbour Lights {n + 1}",
                                  "film", "USD").details["id"]
        fund.use_outputs(home, ledger, prd, [{"output": ids["output"], "run": ids["run"]}])
        rows.append((prd, "2027-Q2", "US", "USD", f"{n}000.00", "0"))
    revenue_import.import_report(home, ledger, csv_report(tmp / "q2.csv", rows), ids["studio"])
    # Her consent (represented by her guild), naming the developer.
    ids["consent"] = cs.grant_consent(
        home, ledger, performer=ids["performer"], kinds=["voice"],
        description="Synthesized replacement dialogue for the character Mara Ellison in "
                    "Harbour Lights, ADR of scenes 12 to 14 only",
        media=["audio"], territory=["US"], start=datetime.now(UTC).date(),
        end=date(2035, 12, 31), compensation_ref="SAG-2026-0042", represented_by="guild",
        production="Harbour Lights", licensee=ids["dev"]).details["id"]
    # The same kind of consent, sealed: her guild (her representative) reads it too.
    ids["sealed_consent"] = cs.grant_consent(
        home, ledger, performer=ids["performer"], kinds=["likeness"],
        description="Likeness for a crowd scene in Harbour Lights, background only",
        media=["video"], territory=["US"], start=datetime.now(UTC).date(),
        end=date(2035, 12, 31), compensation_ref="SAG-2026-0043", represented_by="guild",
        production="Harbour Lights", licensee=ids["dev"], sealed=True).statement_id or ""
    # The outsider registers the studio's film bytes as its own: a same-bytes dispute.
    work = {"id": new_id("work"), "kind": "film", "title": "Not Harbour Lights",
            "owner": ids["outsider"],
            "assets": [{"sha256": shas[0], "size": 1000, "media_type": "video/mp4",
                        "category": "video", "duration_ms": 60_000, "name": "copy.mp4"}]}
    receipt = ledger.submit([sign_statement(
        ledger.new_statement("work.registered", ids["outsider"], work),
        home.party_key(ids["outsider"]))])[0]
    ids["dispute"] = receipt.details["disputes"][0]["dispute"]
    # Sealed (docs/sealed.md): the licensor's fund terms of the film's license, and the
    # developer's response to a second challenge of run2, logged.
    ids["terms"] = fund.set_terms(home, ledger, ids["lic"], basis="units",
                                  contributors_share="40", sealed=True).statement_id or ""
    ch2 = audit_challenge.challenge_run(home, ledger, ids["run2"], 1, ids["auditor"])
    ids["opened"] = log_response(home, ledger, audit_challenge.respond(
        ledger, ch2["challenge"], manifest)).statement_id or ""
    return ids


def story_home(backend: str, tmp: Path) -> Iterator[Story]:
    for url in database_url(backend, tmp):
        saved = {k: os.environ.pop(k, None) for k in ("REELRIGHTS_DATABASE_URL",
                                                      "REELRIGHTS_HOME")}
        try:
            home, _ = Home.init(tmp / "home", database_url=url)
            ledger = Ledger.open(home)
            ids = populate(home, ledger, tmp)
            threaded = ThreadedServer(create_app(ServiceConfig(home=home.path)))
            with threaded as base:
                yield Story(base, home, ledger, ids, backend)
            ledger.close()
            ledger.db.dispose()
        finally:
            for k, v in saved.items():
                if v is not None:
                    os.environ[k] = v
