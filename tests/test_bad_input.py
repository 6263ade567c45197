"""Bad input from the command line, written as the attacks of issue 9 (point 6): each must give
one line on stderr naming the input and the fix, a non-zero exit, nothing written, and never a
traceback. Runs on SQLite and PostgreSQL (the ``home`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reelrights.core.canonical import MAX_JSON_DEPTH
from reelrights.core.statements import make_statement, sign_statement
from reelrights.home import Home
from reelrights.ledger import Ledger
from test_cli import media, ok, refused, world  # noqa: F401  (fixtures and helpers)

DEEP = 5_000


def _statement(home_path: Path, type_: str, actor: str, body: dict[str, Any]) -> dict[str, Any]:
    """An unsigned statement for this home's registry (v2 where the ledger makes them)."""
    lg = Ledger.open(Home.open(home_path), publish=False)
    try:
        maker = getattr(lg, "new_statement", None)
        return maker(type_, actor, body) if maker else make_statement(type_, actor, body)
    finally:
        lg.db.dispose()


def _deep_json(depth: int = DEEP) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# ---------------------------------------------------------------------------------------------
# 1. Deep nesting: 5,000 levels used to end in a RecursionError traceback
# ---------------------------------------------------------------------------------------------
def test_deep_statement_body_is_refused_when_signing(world, tmp_path: Path) -> None:
    body = tmp_path / "deep-body.json"
    body.write_text(_deep_json())
    line = refused(world["home"], ["statement", "sign", "--as", "Northlight", "--type",
                                   "work.credited", str(body)], 2, "deep-body.json",
                   str(MAX_JSON_DEPTH))
    assert "flatten" in line
    # from standard input too
    refused(world["home"], ["statement", "sign", "--as", "Northlight", "--type", "work.credited",
                            "-"], 2, str(MAX_JSON_DEPTH), input=_deep_json())


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, DEEP])
def test_deep_entry_is_refused_when_submitting(world, tmp_path: Path, depth: int) -> None:
    entries = tmp_path / "deep-entries.txt"
    nested = "[" * depth + "]" * depth  # canonical JSON, so only the depth can refuse it
    entries.write_text(nested + "\n")
    refused(world["home"], ["statement", "submit", str(entries)], 2, "deep-entries.txt line 1",
            str(MAX_JSON_DEPTH))


def test_deep_value_inside_a_signed_entry_is_refused(world, tmp_path: Path) -> None:
    """A well-signed statement whose body nests 100 levels (within Python's own limit)."""
    deep: Any = "x"
    for _ in range(100):
        deep = {"k": deep}
    stmt = _statement(world["home"], "work.credited", world["studio"],
                      {"work": world["film"], "party": world["ada"], "role": "vfx",
                       "share": deep})
    entry = sign_statement(stmt, Home.open(world["home"]).party_key(world["studio"]))
    f = tmp_path / "signed.txt"
    f.write_bytes(entry + b"\n")
    refused(world["home"], ["statement", "submit", str(f)], 2, "signed.txt line 1",
            str(MAX_JSON_DEPTH))


def test_deep_policy_file_is_refused(world, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(_deep_json())
    refused(world["home"], ["license", "project", "--policy", str(policy), "--to", "cawg"], 2,
            "policy.json", str(MAX_JSON_DEPTH))


def test_deep_manifest_line_is_one_line_even_where_no_reader_bounds_it(world,
                                                                       tmp_path: Path) -> None:
    """`check --manifest` reads JSON lines itself: the CLI's error mapping still names the file."""
    manifest = tmp_path / "deep-manifest.jsonl"
    manifest.write_text(_deep_json() + "\n")
    refused(world["home"], ["check", "--licensee", "Rival", "--action", "train",
                            "--model-family", "orbit", "--manifest", str(manifest)], 2,
            "deep-manifest.jsonl", str(MAX_JSON_DEPTH))


# ---------------------------------------------------------------------------------------------
# 5. Names: four studios that all display as "Northlight Pictures"
# ---------------------------------------------------------------------------------------------
LOOKALIKES = {
    "zero-width space": "Northlight\u200b Pictures",
    "right-to-left override": "\u202eserutciP thgilhtroN",
    "no-break space": "Northlight\u00a0Pictures",
}


@pytest.mark.parametrize("trick", sorted(LOOKALIKES))
def test_invisible_characters_in_a_name_are_refused(world, trick: str) -> None:
    p = world["home"]
    ok(p, "party", "add", "--kind", "studio", "--name", "Northlight Pictures")
    name = LOOKALIKES[trick]
    bad = next(ch for ch in name if ch not in "NorthlightPictures ")
    line = refused(p, ["party", "add", "--kind", "studio", "--name", name], 2,
                   "/statement/body/name", f"U+{ord(bad):04X}")
    assert "invisible" in line


def test_a_homoglyph_name_is_registered_with_a_warning(world) -> None:
    p = world["home"]
    first = ok(p, "party", "add", "--kind", "studio", "--name", "Northlight Pictures").stdout
    result = ok(p, "party", "add", "--kind", "studio", "--name", "N\u043erthlight Pictures")
    assert result.stdout.strip().startswith("pty_")
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("warning: ") and first.strip() in warning
    assert "TR 39" in warning
    # an unrelated name gets no warning
    assert ok(p, "party", "add", "--kind", "studio", "--name", "Paper Lantern").stderr == ""


@pytest.mark.parametrize(("field", "args"), [
    ("title", lambda w, n: ["work", "add", "--owner", "Northlight", "--kind", "script",
                            "--title", n, str(w["media"]["script2"])]),
    ("name", lambda w, n: ["bundle", "create", "--owner", "Northlight", "--name", n,
                           "--version", "1", w["film"]]),
    ("title", lambda w, n: ["production", "add", "--studio", "Northlight", "--title", n,
                            "--currency", "USD"]),
])
def test_work_bundle_and_production_names_refuse_invisible_characters(world, media, field,
                                                                      args) -> None:
    w = dict(world, media=media)
    refused(w["home"], args(w, "Harbour\u200bLights"), 2, f"/statement/body/{field}",
            "U+200B")


def test_a_name_signed_elsewhere_must_be_nfc_and_visible(world, tmp_path: Path) -> None:
    """The registry refuses it, not only the command line: a statement signed with any key."""
    import base64

    from reelrights.keys import PartyKey

    for i, name in enumerate(["Cafe\u0301 Films", "Northlight\ufeffPictures",
                              "Northlight\U000e0041Pictures", "Studio\u3000One"]):
        key = PartyKey.generate()
        pid = "pty_" + "abcdefghijklmnop"[:15] + "abcd"[i]
        entry = sign_statement(_statement(world["home"], "party.registered", pid, {
            "id": pid, "kind": "studio", "name": name,
            "public_key": base64.b64encode(key.public_key_bytes).decode()}), key)
        f = tmp_path / f"remote{i}.txt"
        f.write_bytes(entry + b"\n")
        refused(world["home"], ["statement", "submit", str(f)], 2, "/statement/body/name")


def test_a_decomposed_name_typed_at_the_command_line_is_signed_in_nfc(world) -> None:
    import unicodedata

    p = world["home"]
    pid = ok(p, "party", "add", "--kind", "writer", "--name", "Zoe\u0301 Martin").stdout.strip()
    shown = json.loads(ok(p, "party", "show", pid, "--json").stdout)
    assert shown["name"] == "Zo\u00e9 Martin" == unicodedata.normalize("NFC", "Zoe\u0301 Martin")


# ---------------------------------------------------------------------------------------------
# 4. Territories: any two letters used to pass (ZZ, QQ)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["ZZ", "QQ"])
@pytest.mark.parametrize("command", [
    lambda w, t: ["check", "--licensee", "Rival", "--action", "train", "--work", w["film"],
                  "--model-family", "orbit", "--territory", t],
    lambda w, t: ["consent", "grant", "--performer", "Ada Okafor", "--kind", "voice",
                  "--description", "Voice for the sequel", "--model-family", "orbit",
                  "--media", "audio", "--territory", f"US,{t}", "--from", "2027-01-01",
                  "--until", "2027-12-31", "--compensation-ref", "C-1",
                  "--represented-by", "none"],
    lambda w, t: ["license", "template", "--bundle", "Catalog", "--to", "Rival",
                  "--model-family", "orbit", f"--territory={t}", "--until", "2027-12-31",
                  "--fund-share", "2.5"],
], ids=["check", "consent grant", "license template"])
def test_made_up_territories_are_refused(world, code: str, command) -> None:
    line = refused(world["home"], command(world, code), 2, "--territory", repr(code)[1:-1])
    assert "ISO 3166-1" in line


def test_regions_the_profile_ships_still_pass_the_territory_check() -> None:
    from reelrights.cli import _check_territories

    _check_territories(["check", "--territory", "EU", "--x", "--territory=EEA"])
    _check_territories(["consent", "grant", "--territory", "US,CA,WORLD"])


# ---------------------------------------------------------------------------------------------
# 3. A revenue report imported again with another rate: refused, not "already imported"
# ---------------------------------------------------------------------------------------------
def test_fund_import_again_with_another_rate_is_refused_at_the_command_line(home, ledger,
                                                                            tmp_path: Path):
    from fund_story import build, csv_report

    ids = build(home, ledger, tmp_path)
    ledger.close()
    report = csv_report(tmp_path / "q2.csv",
                        [(ids["production"], "2027-Q2", "FR", "EUR", "2000.00", "200.00")])
    rate = ["--rate", "EUR:USD=1.0842", "--rate-source", "ECB", "--rate-date", "2027-06-30"]
    first = ok(home.path, "fund", "import", str(report), "--as", ids["studio"], *rate)
    rid = first.stdout.strip()
    again = ok(home.path, "fund", "import", str(report), "--as", ids["studio"], *rate)
    assert again.stdout.strip() == rid and "already imported" in again.stderr
    other = ["--rate", "EUR:USD=1.1000", "--rate-source", "ECB", "--rate-date", "2027-06-30"]
    line = refused(home.path, ["fund", "import", str(report), "--as", ids["studio"], *other], 2,
                   "q2.csv", "1.1000", "1.0842", f"--supersedes {rid}")
    assert "already imported" not in line


@pytest.mark.parametrize("code", ["ZZ", "QQ", "XK", "AA", "urn:iso:3166:ZZ"])
def test_odrl_policies_and_consent_refuse_codes_outside_iso_3166_1(code: str) -> None:
    from reelrights.core.odrl.territory import parse_territory

    with pytest.raises(ValueError, match="not an ISO 3166-1 country code"):
        parse_territory(code)
    assert parse_territory("EU").is_region and "FR" in parse_territory("EU").members
    assert parse_territory("WORLD").members >= {"US", "FR", "JP"}
