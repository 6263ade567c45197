"""One output contract for every command (README, "Commands"), checked by walking the click group.

A command that creates something, or changes something already registered, prints its id alone
on standard output; with ``--json`` it prints one object whose ``id`` is that id. A ``list``
command's ``--json`` is a list of objects, each with its ``id``, and its table keeps every id
whole at 80 columns, with names beside the ids of other entities.

Every leaf command of ``reelrights`` is classified below: :data:`CREATES` says how to run a
creating command twice on a demo-like home (once for its text, once with ``--json``) and what
its id looks like; :data:`LISTS` and :data:`OTHERS` name the rest. A command in none of them
fails the test until someone says what it prints. The story runs on SQLite only: what a command
prints does not depend on the backend, and each command runs on both in its own tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from fake_works import register_fake_work
from fund_story import build, csv_report
from reelrights.cli import cli
from reelrights.core.commitment import canonical_item
from reelrights.core.ids import ID_PATTERNS, new_id
from reelrights.core.statements import sign_statement
from reelrights.media.synth import make_image, make_script
from reelrights.registry.parties import register_party

#: Ids a listing may show: the registry's own and the fund's derived ones (rev_, fst_).
ANY_ID = re.compile(r"\b(?:pty|wrk|bnd|lic|agr|cns|run|chl|crt|out|prd|stm|dsp|rev|fst|stk|clm)_"
                    r"[a-z2-7]{16}\b")


def _id(kind: str) -> str:
    return ID_PATTERNS[kind]


class Story:
    """A home with the fund story (fund_story.build) and what the creating commands make."""

    def __init__(self, home: Any, ids: dict[str, str], tmp: Path) -> None:
        self.home, self.ids, self.tmp = home.path, ids, tmp
        self.made: dict[str, list[str]] = {}

    def cli(self, *args: str, codes: tuple[int, ...] = (0,), env: dict | None = None) -> Result:
        argv = list(args) if args[0] == "--home" else ["--home", str(self.home), *args]
        r = CliRunner(env=env).invoke(cli, argv)
        assert r.exit_code in codes, (argv, r.stdout, r.stderr, r.exception)
        return r

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def file(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]

    def of(self, command: str, n: int) -> str:
        return self.made[command][n]


@dataclass(frozen=True)
class Creates:
    """How to run a creating command the ``n``-th time (0: text, 1: --json) and its id:
    a regex it must match, or the exact id (a function of the story and ``n``)."""

    args: Callable[[Story, int], list[str]]
    id: str | Callable[[Story, int], str]
    #: Both runs name the same thing (an idempotent command).
    same: bool = False
    #: The output is always a JSON list of receipts (statement submit).
    json_list: bool = False


def _policy(s: Story, bundle: str) -> str:
    text = s.cli("license", "template", "--bundle", bundle, "--to", s["dev"], "--model-family",
                 "orbit", "--territory", "US", "--until", "2099-12-31", "--fund-share",
                 "2").stdout
    return s.file(f"policy-{bundle}.json", text)


def _manifest(s: Story, n: int) -> str:
    items = [{"sha256": sha, "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": s["lic"], "bundle": s["bundle"]}}
             for sha in s.ids["film_assets"].split(",")]
    path = s.tmp / f"manifest-{n}.jsonl"
    path.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    return str(path)


def _verify_args(s: Story, n: int) -> list[str]:
    response = s.tmp / f"response-{n}.json"
    s.cli("audit", "respond", s.of("audit challenge", n), "--manifest",
          str(s.tmp / f"manifest-{n}.jsonl"), "-o", str(response))
    return ["audit", "verify", str(response), "--auditor", s.of("party add", n), "--territory",
            "US", "-o", str(s.tmp / f"certificate-{n}.intoto.json")]


def _withdraw_args(s: Story, n: int) -> list[str]:
    challenge = s.json("audit", "challenge", s["run"], "--samples", "1",
                       "--auditor", s["auditor"])["id"]
    s.ids[f"withdrawn-{n}"] = challenge
    return ["audit", "withdraw", challenge, "--reason", "the developer did not answer"]


def _sign_args(s: Story, n: int) -> list[str]:
    image = make_image(s.tmp / f"generated-{n}.png", size=(64, 48), seed=40 + n)
    return ["provenance", "sign", str(image), "--run", s.of("run commit", n), "-o",
            str(s.tmp / f"generated-{n}.signed.png")]


def _submit_args(s: Story, n: int) -> list[str]:
    body = s.file("credit.json", json.dumps({"work": s.of("work add", 0), "party": s["writer2"],
                                             "role": "writer", "share": "1/4"}))
    signed = s.cli("statement", "sign", "--as", s["studio"], "--type", "work.credited",
                   body).stdout
    return ["statement", "submit", s.file("signed.jsonl", signed)]


TODAY = datetime.now(UTC).date().isoformat()

#: Every command that creates or changes something, in the order a story runs them.
CREATES: dict[str, Creates] = {
    "init": Creates(lambda s, n: ["init"], lambda s, n: str(s.home), same=True),
    "party add": Creates(lambda s, n: ["party", "add", "--kind", "auditor", "--name",
                                       f"Auditor {n}"], _id("party")),
    "party admit": Creates(lambda s, n: ["party", "admit", s.of("party add", n), "--manual",
                                         f"KYC ticket {n}"], lambda s, n: s.of("party add", n)),
    "work add": Creates(lambda s, n: [
        "work", "add", "--owner", s["studio"], "--kind", "script", "--title", f"Draft {n}",
        str(make_script(s.tmp / f"draft-{n}.fountain", title=f"Draft {n}", author="M. E.",
                        scenes=2, seed=30 + n))], _id("work")),
    "work credit": Creates(lambda s, n: ["work", "credit", s.of("work add", n), "--party",
                                         s["writer"], "--role", "writer", "--share", "1/2"],
                           lambda s, n: f"{s.of('work add', n)}/writer/{s['writer']}"),
    "bundle create": Creates(lambda s, n: ["bundle", "create", "--owner", s["studio"], "--name",
                                           f"Drafts {n}", "--version", "1",
                                           s.of("work add", n)], _id("bundle")),
    "guild agreement add": Creates(lambda s, n: [
        "guild", "agreement", "add", "--guild", s["guild2"], "--name", f"Agreement {n}",
        "--covers", "performer", "--fund-share", "10"], _id("agreement")),
    "guild member add": Creates(lambda s, n: ["guild", "member", "add", "--guild", s["guild2"],
                                              "--party", s[f"member{n}"]],
                                lambda s, n: f"{s['guild2']}/{s[f'member{n}']}"),
    "guild strike": Creates(lambda s, n: [
        "guild", "strike", "--guild", s[f"striking{n}"], "--start",
        datetime.now(UTC).date().isoformat(), "--description", f"Strike {n}"], _id("strike")),
    "guild end-strike": Creates(lambda s, n: ["guild", "end-strike", s.of("guild strike", n),
                                              "--end", "2099-01-01"],
                                lambda s, n: s.of("guild strike", n)),
    "credit unmatched": Creates(lambda s, n: [
        "credit", "unmatched", s["film"], "--name", f"Uncredited {n}", "--role", "vfx",
        "--share", "1/10"], _id("claim")),
    "credit claim": Creates(lambda s, n: ["credit", "claim", s.of("credit unmatched", n),
                                          "--party", s["writer"], "--evidence", "contract"],
                            lambda s, n: s.of("credit unmatched", n)),
    "credit confirm": Creates(lambda s, n: ["credit", "confirm", s.of("credit unmatched", n)],
                              lambda s, n: s.of("credit unmatched", n)),
    "license grant": Creates(lambda s, n: [
        "license", "grant", "--bundle", s.of("bundle create", n), "--to", s["dev"], "--policy",
        _policy(s, s.of("bundle create", n))], _id("license")),
    "license cosign": Creates(lambda s, n: ["license", "cosign", s[f"pending{n}"], "--as",
                                            s["guild"]], lambda s, n: s[f"pending{n}"]),
    "license revoke": Creates(lambda s, n: ["license", "revoke", s[f"pending{n}"], "--reason",
                                            "superseded"], lambda s, n: s[f"pending{n}"]),
    "consent grant": Creates(lambda s, n: [
        "consent", "grant", "--performer", s["performer"], "--kind", "voice", "--description",
        f"Voice lines for the orbit model's harbour scenes, take {n}", "--model-family",
        "orbit", "--media", "audio", "--territory", "US", "--from", TODAY, "--until",
        "2099-12-31", "--compensation-ref", f"SAG-{n}", "--represented-by", "guild"],
        _id("consent")),
    "consent revoke": Creates(lambda s, n: ["consent", "revoke", s.of("consent grant", n),
                                            "--reason", "changed my mind"],
                              lambda s, n: s.of("consent grant", n)),
    "consent deceased": Creates(lambda s, n: ["consent", "deceased", "--performer",
                                              s[f"member{n}"], "--date", "2025-01-01", "--as",
                                              s["guild2"]], lambda s, n: s[f"member{n}"]),
    "consent request": Creates(lambda s, n: [
        "consent", "request", "--as", s["dev"], "--performer", s["performer"], "--kind", "voice",
        "--description", f"Synthesized voice lines for the harbour master in the orbit model's ferry scenes, take {n}",
        "--model-family", "orbit", "--media", "audio", "--territory", "US", "--from", TODAY,
        "--until", "2099-12-31", "--compensation-ref", f"ORB-{n}"], _id("consent_request")),
    "consent approve": Creates(lambda s, n: ["consent", "approve", s.of("consent request", n)],
                               _id("consent")),
    "consent decline": Creates(lambda s, n: ["consent", "decline", s[f"request{n}"], "--reason",
                                             "not this year"], lambda s, n: s[f"request{n}"]),
    "run start": Creates(lambda s, n: ["run", "start", "--developer", s["dev"], "--model-family",
                                       "orbit", "--license", s["lic"]], _id("run")),
    "run commit": Creates(lambda s, n: [
        "run", "commit", _manifest(s, n), "--developer", s["dev"], "--model-family", "orbit",
        "--model", f"orbit-{n}", "--run", s.of("run start", n)],
        lambda s, n: s.of("run start", n)),
    "audit challenge": Creates(lambda s, n: ["audit", "challenge", s.of("run commit", n),
                                             "--samples", "1", "--auditor", s.of("party add", n)],
                               _id("challenge")),
    "audit verify": Creates(_verify_args, _id("certificate")),
    "audit withdraw": Creates(_withdraw_args, lambda s, n: s[f"withdrawn-{n}"]),
    "ca init": Creates(lambda s, n: ["ca", "init"], r"[0-9a-f]{64}", same=True),
    "ca issue": Creates(lambda s, n: ["ca", "issue", "--party", s["dev"]], r"[0-9a-f]{16,40}",
                        same=True),
    "provenance sign": Creates(_sign_args, _id("output")),
    "production add": Creates(lambda s, n: ["production", "add", "--studio", s["studio"],
                                            "--title", f"Harbour Lights {n + 3}", "--currency",
                                            "USD"], _id("production")),
    "production use": Creates(lambda s, n: [
        "production", "use", s.of("production add", n), "--output",
        f"{s.of('provenance sign', n)}={s.of('run commit', n)}"],
        lambda s, n: s.of("production add", n)),
    "fund import": Creates(lambda s, n: [
        "fund", "import", str(csv_report(s.tmp / f"revenue-{n}.csv", [
            (s.of("production add", n), "2027-Q1", "US", "USD", f"{1000 + n}.00", "0")])),
        "--as", s["studio"]], r"rev_[a-z2-7]{16}"),
    "fund terms": Creates(lambda s, n: ["fund", "terms", s.of("license grant", n),
                                        "--contributors-share", "40"],
                          lambda s, n: s.of("license grant", n)),
    "fund statement": Creates(lambda s, n: ["fund", "statement", "--party", s["studio"],
                                            "--period", "2027-Q1", "--as", s["fund"], "-o",
                                            str(s.tmp / f"statement-{n}.json")],
                              r"fst_[a-z2-7]{16}", same=True),
    "dispute release": Creates(lambda s, n: ["dispute", "release", s[f"dispute{n}"],
                                             "--reason", "licensed to them after all"],
                               lambda s, n: s[f"dispute{n}"]),
    "dispute decide": Creates(lambda s, n: ["dispute", "decide", s[f"dispute{n + 2}"],
                                            "--outcome", "first_owner", "--reason",
                                            "registered first, with the contracts"],
                              lambda s, n: s[f"dispute{n + 2}"]),
    "rebuild": Creates(lambda s, n: ["--home", str(s.tmp / f"replica-{n}"), "rebuild",
                                     "--tiles", str(s.home / "log"), "--key",
                                     s.cli("log", "key").stdout.strip()],
                       lambda s, n: str(s.tmp / f"replica-{n}")),
    "backup": Creates(lambda s, n: ["backup", str(s.tmp / f"backup-{n}")],
                      lambda s, n: str(s.tmp / f"backup-{n}")),
    "restore": Creates(lambda s, n: ["--home", str(s.tmp / f"restored-{n}"), "restore",
                                     str(s.tmp / f"backup-{n}")],
                       lambda s, n: str(s.tmp / f"restored-{n}")),
    "statement submit": Creates(_submit_args,
                                lambda s, n: f"{s.of('work add', 0)}/writer/{s['writer2']}",
                                json_list=True),
}

#: List commands: the fields their tables show that hold ids (the row's own id first).
LISTS: dict[str, tuple[str, ...]] = {
    "party list": ("id",), "work list": ("id", "owner"), "bundle list": ("id", "owner"),
    "license list": ("id", "bundle", "licensee"), "consent list": ("id", "performer"),
    "run list": ("id", "developer"), "production list": ("id", "studio"),
    "dispute list": ("id", "first_owner", "claimant"),
    "credit list": ("id", "work"),
}

#: Commands that create nothing with an id: they read, check, render or export.
OTHERS = {
    "consent requests",  # a list (named as the issue asks): its JSON rows carry "id"
    "party show", "work show", "bundle show", "bundle export", "license show",
    "license template", "license project", "check", "consent show", "log checkpoint",
    "log checkpoints", "log key", "log export", "log inclusion", "log consistency", "log get",
    "log verify", "statement sign", "demo", "fingerprint", "scan", "audit respond",
    "audit show", "audit verify-cert", "ca anchors", "ca show", "run show", "run summary",
    "provenance verify", "provenance model-check", "attribute", "production show",
    "fund verify", "usage", "dispute show",
    # public verification (docs/verify.md): a proof file's text, a report, a stream of events
    "log proof", "verify", "monitor",
    # the service: runs until stopped; the allowlist is local configuration (each prints the key)
    "serve", "service allow", "service disallow", "service allowed",
    # a party's home: join prints its path (as init) but needs a server, sync reports; both are
    # run against one in tests/service/test_client_sync.py
    "join", "sync",
    # the operator's (tests/operate): key split prints one path per share, key combine the key
    # file's path; the freeze prints its flag's path (unfreeze nothing); check reports; succeed
    # makes a new home and prints its path, as init does, but needs a frozen log first
    "key split", "key combine", "service freeze", "service unfreeze", "service check",
    "service succeed",
    # need a server (tests/service/test_softbinding_http.py, test_witness_protocol.py) or a
    # claim held 36 months (tests/test_suspense.py, with the ledger's clock ahead)
    "provenance publish", "provenance resolve", "witness init", "witness serve",
    "credit expire", "credit dispute",
    # strikes: one table of strike ids with their guilds (tests/test_strikes.py)
    "guild strikes",
    # preferences (tests/test_preferences.py): import reads a robots.txt, RSL file or media
    # file and prints its receipt; show prints the declarations of a work
    "preferences import", "preferences show",
    # keys over time and statement disputes (tests/test_keys_over_time.py,
    # tests/service/test_keys_service.py): each needs key files made for the party and,
    # for a rotation, its waiting period
    "key new", "key recovery-set", "key rotate", "key cancel-rotation", "key recover",
    "key revoke", "key history", "statement dispute", "statement disputes",
    "statement resolve-dispute",
    # sealed statements (tests/test_sealed*.py, tests/service/test_sealed_service.py): each
    # needs a sealed statement, a disclosure file or a server
    "sealed disclose", "sealed erase", "sealed fetch", "sealed grant", "sealed receive",
    "sealed send", "sealed verify", "sealed withdraw",
    # identity (tests/identity, tests/service/test_identity_http.py): a nonce prints the nonce;
    # an admission request and re-verification need a domain proof served over HTTPS
    "party nonce", "party request-admission", "service reverify",
}


def leaf_commands(group: click.Group = cli, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out.extend(leaf_commands(cmd, f"{prefix}{name} "))
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_command_is_classified() -> None:
    leaves = set(leaf_commands())
    unclassified = sorted(leaves - set(CREATES) - set(LISTS) - OTHERS)
    assert not unclassified, (f"classify {unclassified} in tests/test_output_contract.py: "
                              "CREATES (how to run it, its id), LISTS or OTHERS")
    stale = sorted((set(CREATES) | set(LISTS) | OTHERS) - leaves)
    assert not stale, f"no such commands: {stale}"
    both = (set(CREATES) & (set(LISTS) | OTHERS)) | (set(LISTS) & OTHERS)
    assert not both, f"classified twice: {sorted(both)}"
    assert {c for c in leaves if c.split()[-1] == "list"} == set(LISTS)
    for command in CREATES:  # every creating command takes --json (submit always prints JSON)
        params = _command(command).params
        assert CREATES[command].json_list or any(
            "--json" in getattr(p, "opts", ()) for p in params), f"{command} has no --json"


def _command(path: str) -> click.Command:
    cmd: Any = cli
    for word in path.split():
        cmd = cmd.commands[word]
    return cmd


# -- the story ---------------------------------------------------------------------------------

def _same_bytes_work(ledger: Any, home: Any, owner: str, shas: list[str]) -> None:
    """Register ``shas`` (another owner's assets) as a work of ``owner``: one dispute each."""
    body = {"id": new_id("work"), "kind": "film", "title": "Copy", "owner": owner,
            "assets": [{"sha256": sha, "size": 1000 + i, "media_type": "video/mp4",
                        "category": "video", "duration_ms": 60_000, "name": f"copy{i}.mp4"}
                       for i, sha in enumerate(shas)]}
    ledger.submit([sign_statement(ledger.new_statement("work.registered", owner, body),
                                  home.party_key(owner))])


@pytest.fixture
def story(home, ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Story:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REELRIGHTS_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # default output files (certificates) land here
    ids = build(home, ledger, tmp_path)
    for label, kind, name in [("auditor", "auditor", "Fair Audit LLP"),
                              ("guild2", "guild", "Voice Actors Guild"),
                              ("member0", "performer", "Ines Vidal"),
                              ("member1", "performer", "Tomas Berg"),
                              ("writer2", "writer", "Wren Second"),
                              ("striking0", "guild", "Stunt Guild"),  # strikes: no license
                              ("striking1", "guild", "Extras Guild")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    _, shas = register_fake_work(home, ledger, ids["studio"], "Contested", 4)
    _same_bytes_work(ledger, home, ids["studio2"], shas)
    ledger.close()
    s = Story(home, ids, tmp_path)
    ids["film_assets"] = ",".join(a["sha256"] for a in s.json("work", "show", ids["film"])["assets"])
    for n in range(2):  # licenses on the performer's film that wait for the guild
        ids[f"pending{n}"] = s.cli("license", "grant", "--bundle", ids["bundle"], "--to",
                                   ids["dev"], "--policy", _policy(s, ids["bundle"])
                                   ).stdout.strip()
    s.cli("credit", "unmatched", ids["film"], "--name", "Lost Gaffer", "--role", "vfx",
          "--share", "1/10")  # so `credit list` has a row
    for n in range(2):  # consent requests the performer declines
        ids[f"request{n}"] = s.cli(
            "consent", "request", "--as", ids["dev"], "--performer", ids["performer"], "--kind",
            "likeness", "--description",
            f"Synthesized likeness of the performer in the ferry crowd scenes, take {n}",
            "--model-family", "orbit", "--media", "video", "--territory", "US", "--from", TODAY,
            "--until", "2099-12-31", "--compensation-ref", f"ORB-D{n}").stdout.strip()
    disputes = s.json("dispute", "list")
    assert len(disputes) == 4
    for n, d in enumerate(disputes):
        ids[f"dispute{n}"] = d["id"]
    return s


def _check_id(spec: Creates, s: Story, n: int, ident: str) -> None:
    assert ident, "empty id"
    want = spec.id
    if callable(want):
        assert ident == want(s, n)
    else:
        assert re.fullmatch(want, ident), (ident, want)


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_every_creating_command_prints_its_id_and_json_with_that_id(story: Story) -> None:
    s = story
    for command, spec in CREATES.items():
        if spec.json_list:
            receipts = json.loads(s.cli(*spec.args(s, 0)).stdout)
            assert isinstance(receipts, list) and receipts, command
            for r in receipts:
                _check_id(spec, s, 0, r["id"])
                assert re.fullmatch(_id("statement"), r["statement"])
            continue
        plain = s.cli(*spec.args(s, 0))
        assert plain.stdout.count("\n") == 1 and plain.stdout.endswith("\n"), (
            f"{command}: the id alone on stdout", plain.stdout)
        text_id = plain.stdout.strip()
        _check_id(spec, s, 0, text_id)
        out = json.loads(s.cli(*spec.args(s, 1), "--json").stdout)
        assert isinstance(out, dict) and next(iter(out)) == "id", (command, out)
        _check_id(spec, s, 1, out["id"])
        if spec.same:
            assert out["id"] == text_id, command
        elif callable(spec.id):  # each run names its own thing
            assert out["id"] != text_id, command
        s.made[command] = [text_id, out["id"]]
    # the ids printed are the registry's: each one shows up where it is looked up
    for command, show in (("party add", "party show"), ("work add", "work show"),
                          ("bundle create", "bundle show"), ("license grant", "license show"),
                          ("consent grant", "consent show"), ("run commit", "run show"),
                          ("audit verify", "audit show"), ("dispute release", "dispute show")):
        for ident in s.made[command]:
            shown = s.json(*show.split(), ident)
            assert (shown.get("id") or shown["statement"]["predicate"]["id"]) == ident, command
    assert json.loads((s.tmp / "statement-0.json").read_text())["statement_id"] == s.made[
        "fund statement"][0]


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_lists_give_ids_in_json_and_whole_ids_with_names_at_80_columns(story: Story) -> None:
    s = story
    s.cli("run", "commit", _manifest(s, 0), "--developer", s["dev"], "--model-family", "orbit",
          "--model", "orbit-9")
    s.cli("consent", "grant", *CREATES["consent grant"].args(s, 0)[2:])
    s.cli("production", "add", "--studio", s["studio2"], "--title", "Paper Moon: The Series",
          "--kind", "episode", "--currency", "EUR")
    s.cli("party", "add", "--kind", "studio", "--name", "[b]Bracket[/b] Films")  # not markup
    for command, fields in LISTS.items():
        rows = s.json(*command.split())
        assert isinstance(rows, list) and rows, command
        assert all(isinstance(r, dict) and ANY_ID.fullmatch(r.get("id") or "") for r in rows), (
            command, rows)
        text = s.cli(*command.split(), env={"COLUMNS": "80"}).stdout
        wide = [ln for ln in text.splitlines() if len(ln.rstrip()) > 80]
        assert not wide, (command, wide)
        words = set(re.findall(r"\S+", text))
        for r in rows:
            for field in fields:
                assert r[field] in words, f"{command}: {field} {r[field]} is not whole:\n{text}"
        labels = s.json("party", "list")
        names = {p["id"]: p["name"] for p in labels}
        for r in rows:  # every party shown by id is named too
            for field in fields[1:]:
                if r[field].startswith("pty_"):
                    assert all(w in words for w in names[r[field]].split()), (command, field)
    assert "[b]Bracket[/b]" in s.cli("party", "list", env={"COLUMNS": "80"}).stdout
    text = s.cli("license", "list", env={"COLUMNS": "80"}).stdout
    licenses = set(text.split())
    assert {"Catalog@1", "Orbit", "AI", "in", "force"} <= licenses, text  # bundle, licensee
    assert {"waiting", "for", "Screen", "Performers", "Guild"} <= licenses, text  # pending0, 1


def test_fund_statement_json_needs_a_file(home, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["--home", str(home.path), "fund", "statement", "--party", "x",
                                 "--period", "2027-Q1", "--json"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("error: --json prints the statement's id") and "-o FILE" in (
        r.stderr)
    assert len(r.stderr.splitlines()) == 1
