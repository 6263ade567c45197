"""A creative-fund story shared by the fund tests: a studio's film and a second studio's script,
bundled and licensed with compensate duties, used by a committed run, whose output a production
uses. A performer (SAG-like guild, 25 % fund share) and a writer are credited on the film."""

from __future__ import annotations

import json
from pathlib import Path

from fake_works import register_fake_work
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.evidence import runs
from reelrights.fund import productions as fund
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.rights import bundles, licensing


def build(home, ledger, tmp_path: Path, *, film_share: str = "10", script_share: str = "5",
          film_items: int = 3, script_items: int = 1, sealed: bool = False) -> dict[str, str]:
    ids: dict[str, str] = {}
    for label, kind, name in [("studio", "studio", "Northlight Pictures"),
                              ("studio2", "studio", "Paper Lantern"),
                              ("performer", "performer", "Ada Lovelace"),
                              ("writer", "writer", "Wim Writer"),
                              ("guild", "guild", "Screen Performers Guild"),
                              ("dev", "developer", "Orbit AI"),
                              ("fund", "fund", "Creative Fund")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    licensing.add_agreement(home, ledger, ids["guild"], "SPG AI 2027", ["performer"], "25")
    licensing.add_member(home, ledger, ids["guild"], ids["performer"])
    ids["film"], film_assets = register_fake_work(home, ledger, ids["studio"], "Harbour Lights")
    ids["script"], script_assets = register_fake_work(home, ledger, ids["studio2"], "Paper Moon",
                                                      kind="script")
    credit_work(home, ledger, ids["film"], ids["performer"], "performer", "1")
    credit_work(home, ledger, ids["film"], ids["writer"], "writer", "1/2")
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["film"]]).details["id"]
    ids["bundle2"] = bundles.create_bundle(home, ledger, ids["studio2"], "Scripts", "1",
                                           [ids["script"]]).details["id"]
    for key, bnd, share in (("lic", "bundle", film_share), ("lic2", "bundle2", script_share)):
        policy = training_agreement(uid=f"urn:reelrights:policy:{key}", licensor=ids[
            "studio" if bnd == "bundle" else "studio2"], licensee=ids["dev"], bundle=ids[bnd],
            model_family="orbit", territories=["US"], until="2099-12-31", fund_share=share)
        ids[key] = licensing.grant_license(home, ledger, ids[bnd], ids["dev"],
                                           policy, sealed=sealed).details["id"]
    licensing.cosign_license(home, ledger, ids["lic"], ids["guild"])  # the guild co-signs
    items = [{"sha256": film_assets[i % 2], "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": ids["lic"], "bundle": ids["bundle"]}}
             for i in range(film_items)]
    items += [{"sha256": script_assets[i % 2], "kind": "video", "units": 60, "unit": "seconds",
               "basis": {"type": "license", "license": ids["lic2"], "bundle": ids["bundle2"]}}
              for i in range(script_items)]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(it) + "\n" for it in items))
    ids["run"] = runs.commit_run(home, ledger, manifest, ids["dev"], "orbit", "orbit-1")["id"]
    ids["production"] = fund.add_production(home, ledger, ids["studio"], "Harbour Lights II",
                                            "film", "USD").details["id"]
    ids["output"] = new_id("output")
    fund.use_outputs(home, ledger, ids["production"],
                     [{"output": ids["output"], "run": ids["run"]}])
    return ids


def csv_report(path: Path, rows: list[tuple]) -> Path:
    lines = ["production,period,territory,currency,gross,deductions"]
    lines += [",".join(str(c) for c in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path
