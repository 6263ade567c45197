"""The demo's last chapter: a generated output signed with C2PA and tied to the certified run,
verified, stripped and recovered by fingerprint; attribution; and the creative fund, where a
production's revenue for two quarters (one corrected) becomes statements that reconcile to the
cent.

It continues :mod:`reelrights.demo_evidence` on the same home: run ``ids["run"]`` is certified.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from .fund import productions as fund
from .fund import revenue_import
from .fund import royalty_statement_issue as statement_issue
from .fund.royalty_statement_render import render
from .fund.royalty_statements import build_document
from .home import Home
from .ledger import Ledger
from .media.synth import make_film, transcode_video
from .outputs import pki, provenance
from .outputs.attribution import attribute
from .outputs.provenance_verify import verify_output
from .registry import usage
from .registry.parties import list_parties, party_detail, register_party

Echo = Callable[[str], None]

#: Net revenue per quarter as reported, and the corrected first quarter.
REPORTS = [("2027-Q1", "180000.00", "12500.50"), ("2027-Q2", "240000.00", "20000.00")]
CORRECTED_Q1 = ("2027-Q1", "181250.75", "12500.50")


def outputs_story(home: Home, ledger: Ledger, ids: dict[str, str], media: Path, echo: Echo,
                  step: Callable[[str], None]) -> None:
    """Run the chapter; add the output, production, reports and statements to ``ids``."""
    out_dir = home.path.parent / "outputs"
    out_dir.mkdir()
    step("The project CA certifies Orbit AI's C2PA signing key (never self-signed)")
    ca, _ = pki.init_ca(home)
    signer, _ = pki.issue_signer(home, ledger, ids["developer"])
    cert = signer.certificate
    echo(f"root CA {ca.cert.subject.rfc4514_string()}")
    echo(f"signer  {cert.subject.rfc4514_string()}, serial {cert.serial_number:x}, issued by the "
         "root; EKU C2PA claim signing")

    step("orbit-v2 generates a shot; Orbit AI logs the output record, then signs it with C2PA")
    shot = make_film(out_dir / "generated-shot.mp4", seconds=3.0, fps=24, size=(320, 240),
                     scenes=2, seed=401)
    signed = out_dir / "generated-shot.signed.mp4"
    r = provenance.sign(home, ledger, shot, ids["run"], signed,
                        reuse=["ai_training=notAllowed"])
    ids["output"] = r["output"]
    echo(f"reelrights provenance sign {shot.name} --run {ids['run']}")
    echo(f"   output {r['output']} logged at index {r['log_index']}; manifest {r['manifest_label']}")
    echo(f"   tied to run {ids['run']} and certificate {r['certificate']}; soft binding "
         f"{r['soft_binding']} (the output's fingerprint); reuse: ai_training notAllowed")
    _verify(home, ledger, signed, echo)

    step("Someone re-encodes the shot: the manifest is gone, the fingerprint is not")
    stripped = transcode_video(signed, out_dir / "reposted.mp4", bitrate=200_000)
    _verify(home, ledger, stripped, echo)
    tampered = out_dir / "tampered.mp4"
    data = bytearray(signed.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    _verify(home, ledger, tampered, echo)

    step("Attribution: which licensed works does an output draw on?")
    teaser = transcode_video(media / "harbour-lights.mp4", out_dir / "teaser.mp4",
                             bitrate=300_000, start=1.0, duration=2.0)
    rt = provenance.sign(home, ledger, teaser, ids["run"], out_dir / "teaser.signed.mp4")
    rep = attribute(home, ledger, out_dir / "teaser.signed.mp4", territory="US")
    echo(f"reelrights attribute teaser.signed.mp4   (output {rt['output']})")
    for w in rep["works"]:
        echo(f"   work {w['title']}: weight {w['weight']:.2f}")
    for b in rep["bundles"]:
        echo(f"   bundle {b['name']} v{b['version']}: weight {b['weight']:.2f}"
             f"{', used by the run' if b['used_by_run'] else ''}")
    if rep["near_copies"]:
        n = rep["near_copies"][0]
        echo(f"   near-copy: {rep['near_copy_count']} frames within the match threshold, e.g. "
             f"{n['output_ms'] / 1000:.1f} s = {n['ref_ms'] / 1000:.1f} s of the film "
             f"(distance {n['distance']})")
    for f in rep["consent_flags"]:
        who = party_detail(ledger.db, f["performer"]).name
        echo(f"   depicts {who} ({f['performer']}) without covering {f['kind']} consent")
    echo(f"   exit {rep['exit_code']}: the teaser memorises the licensed film and is not used")

    step("A production uses the shot; its revenue feeds the creative fund")
    ids["fund"] = register_party(home, ledger, "fund", "Creative Fund").details["id"]
    echo(f"{'Creative Fund':<26} fund       {ids['fund']}   (signs the statements)")
    p = fund.add_production(home, ledger, ids["studio"], "Harbour Lights: Return", "film", "USD",
                            2027)
    ids["production"] = p.details["id"]
    fund.use_outputs(home, ledger, ids["production"],
                     [{"output": ids["output"], "run": ids["run"]}])
    echo(f"production {ids['production']} (USD) uses output {ids['output']} of run {ids['run']}")
    reports = home.path.parent / "revenue"
    reports.mkdir()
    first = None
    for period, gross, deductions in REPORTS:
        res = revenue_import.import_report(home, ledger, _csv(reports / f"{period}.csv", ids,
                                                              period, gross, deductions),
                                           ids["studio"])
        first = first or res["id"]
        echo(f"reelrights fund import {period}.csv: report {res['id']}, net "
             f"{Decimal(gross) - Decimal(deductions):,.2f} USD, log index {res['log_index']}")
    again = revenue_import.import_report(home, ledger, reports / "2027-Q1.csv", ids["studio"])
    echo(f"the same Q1 report again: {'new' if again['new'] else 'already imported, nothing changed'}")
    period, gross, deductions = CORRECTED_Q1
    fixed = revenue_import.import_report(
        home, ledger, _csv(reports / "2027-Q1-corrected.csv", ids, period, gross, deductions),
        ids["studio"], period="2027-Q2", supersedes=first)
    echo(f"corrected Q1 report {fixed['id']} supersedes {first}, booked in 2027-Q2 "
         f"(net {Decimal(gross) - Decimal(deductions):,.2f} USD)")

    step("Statements (exact fractions, largest-remainder rounding) reconcile to the cent")
    _reconcile(ledger, ids, echo)
    people = [("studio", "Northlight Pictures"), ("lead", "Ada Okafor"),
              ("writer", "Mara Ellison"), ("guild", "Screen Performers Guild fund")]
    for label, name in people:
        doc, sid, index, _ = statement_issue.issue_statement(home, ledger, ids[label], "2027-Q2",
                                                             fund=ids["fund"])
        s = doc["summary"][0]
        for fmt in ("json", "html"):
            out = home.path.parent / f"statement-{label}-2027-Q2.{fmt}"
            out.write_bytes(render(doc, sid, index, fmt))
        ids[f"statement_{label}"] = sid
        echo(f"{name:<30} earned {s['earned']:>10}  adjustments {s['adjustments']:>7}  "
             f"retained {s['retained']:>10}  paid {s['paid']:>10}  carried {s['carried_forward']}")
    check = statement_issue.verify_statement(ledger.db, home.path.parent /
                                             "statement-lead-2027-Q2.html")
    echo(f"reelrights fund verify statement-lead-2027-Q2.html\n   ok: {check['statement_id']} "
         f"({check['format']}) recomputed from the logged facts; the HTML has the earnings chart")

    step("Where are my works used? (the question studios and guilds ask first)")
    for label in ("studio", "guild"):
        u = usage.usage_report(ledger.db, ids[label])
        runs = sorted({r.run for r in u.runs})
        echo(f"reelrights usage --party {u.name}: {len(u.works)} works, "
             f"{len(u.bundles)} bundles, {len(u.licenses)} licenses, runs {', '.join(runs)}, "
             f"{len(u.productions)} production uses"
             + (f", {len(u.members)} member(s)" if u.members else ""))
        for e in u.earnings:
            tag = " (superseded)" if e.superseded_by else ""
            echo(f"   {e.period} {e.production}: {e.amount_minor / 100:,.2f} {e.currency} "
                 f"to {e.payee}, report {e.report} at log index {e.log_index}{tag}")



def _verify(home: Home, ledger: Ledger, path: Path, echo: Echo) -> None:
    rep = verify_output(home, ledger, path)
    c = rep["c2pa"]
    codes = f" ({', '.join(c['failure_codes'])})" if c.get("failure_codes") else ""
    echo(f"reelrights provenance verify {path.name}\n   C2PA: {c['state']}{codes}")
    if rep.get("recovered_note"):
        echo(f"   {rep['recovered_note']}")
    for link in rep.get("chain", []):
        echo(f"     - {'ok' if link['ok'] else 'FAILED'}: {link['check']}: {link['detail']}")
    echo(f"   {'verified' if rep['verified'] else 'NOT verified'} (exit {rep['exit_code']})")


def _csv(path: Path, ids: dict[str, str], period: str, gross: str, deductions: str) -> Path:
    path.write_text("production,period,territory,currency,gross,deductions\n"
                    f"{ids['production']},{period},US,USD,{gross},{deductions}\n", "utf-8")
    return path


def _reconcile(ledger: Ledger, ids: dict[str, str], echo: Echo) -> None:
    """Every party's lines of a quarter add up to the net booked in it, to the cent."""
    nets = {"2027-Q1": Decimal(REPORTS[0][1]) - Decimal(REPORTS[0][2]),
            "2027-Q2": (Decimal(REPORTS[1][1]) - Decimal(REPORTS[1][2])
                        + (Decimal(CORRECTED_Q1[1]) - Decimal(CORRECTED_Q1[2]))
                        - (Decimal(REPORTS[0][1]) - Decimal(REPORTS[0][2])))}
    with ledger.db.read() as conn:
        as_of, _ = ledger.log.head(conn)
        parties = [p.id for p in list_parties(ledger.db)]
        for period, net in nets.items():
            total = Decimal(0)
            for pid in parties:
                doc = build_document(conn, pid, period, as_of, "10", ids["fund"])
                for s in doc["summary"]:
                    total += (Decimal(s["earned"]) + Decimal(s["adjustments"])
                              + Decimal(s["retained"]))
            mark = "=" if total == net else "!="
            echo(f"{period}: all parties' lines {total:,.2f} USD {mark} net booked {net:,.2f} USD")
