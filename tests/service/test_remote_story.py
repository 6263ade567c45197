"""The demo's story, told twice through the CLI: once in one home (the operator's, holding every
party's key, as ``reelrights demo`` does), once against a server with each party in a home of
its own on "its own machine" (studio, guild, two performers, writer, developer, auditor, fund).

Each remote home holds only its own key and a replica synced from the server; the operator's
home runs the server. The same commands give the same output (ids, hashes and times aside) and
the same exit codes both ways. A recording proxy sees every request the clients send: no
private key, in any spelling, is ever in one. A party whose key is not yet allowed keeps it and
joins on the second try with the same key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from client_servers import key_forms, recording_proxy, stand_in_service

from reelrights.cli import cli
from reelrights.keys import load_key_file
from reelrights.media.synth import make_audio, make_script

PARTIES = [("studio", "studio", "Northlight Pictures"), ("guild", "guild", "Screen Performers Guild"),
           ("lead", "performer", "Ada Okafor"), ("support", "performer", "Bruno Lindqvist"),
           ("writer", "writer", "Mara Ellison"), ("developer", "developer", "Orbit AI"),
           ("auditor", "auditor", "Fair Audit LLP"), ("fund", "fund", "Creative Fund")]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media")
    return {"script": make_script(root / "harbour-lights.fountain", title="Harbour Lights",
                                  author="Mara Ellison", scenes=4, seed=7),
            "score": make_audio(root / "harbour-lights-theme.wav", seconds=3.0, seed=7)}


@dataclass
class Step:
    party: str
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str


class Story:
    """Runs CLI steps as a party: in one shared home (local) or in the party's own home (remote,
    ``--server``). Ids the steps print are kept under labels for later steps."""

    def __init__(self, root: Path, server: str | None, operator_home: Path) -> None:
        self.root, self.server, self.operator_home = root, server, operator_home
        self.ids: dict[str, str] = {}
        self.steps: list[Step] = []

    def home_of(self, party: str) -> Path:
        return self.operator_home if self.server is None else self.root / party

    def run(self, party: str, *args: str, keep: str | None = None, want: int = 0,
            stdout_to: Path | None = None) -> Step:
        argv = ["--home", str(self.home_of(party))]
        if self.server is not None:
            argv += ["--server", self.server]
        argv += [a.format(**self.ids) for a in args]
        r = CliRunner().invoke(cli, argv)
        if r.exception and not isinstance(r.exception, SystemExit):
            raise r.exception
        step = Step(party, argv, r.exit_code, r.stdout, r.stderr)
        assert r.exit_code == want, (argv, r.stdout, r.stderr)
        self.steps.append(step)
        if keep:
            self.ids[keep] = r.stdout.strip()
        if stdout_to is not None:
            stdout_to.write_text(r.stdout)
        return step


def tell(story: Story, media: dict[str, Path]) -> None:
    """The story: parties, works, credits, a bundle, a guild-co-signed license, consent, the
    policy engine, a committed run, a sampled audit and its certificate, a production."""
    s, files = story, story.root / "files"
    files.mkdir(parents=True, exist_ok=True)
    for label, kind, name in PARTIES:
        s.run(label, "party", "add", "--kind", kind, "--name", name, keep=label)
    s.run("studio", "work", "add", "--owner", "{studio}", "--kind", "script", "--title",
          "Harbour Lights (Screenplay)", "--year", "2026", str(media["script"]), keep="script")
    s.run("studio", "work", "add", "--owner", "{studio}", "--kind", "score", "--title",
          "Harbour Lights (Original Score)", "--year", "2026", str(media["score"]), keep="score")
    s.run("studio", "work", "credit", "{script}", "--party", "{writer}", "--role", "writer",
          "--share", "1")
    s.run("studio", "work", "credit", "{score}", "--party", "{lead}", "--role", "performer",
          "--share", "1/3")
    s.run("studio", "work", "credit", "{score}", "--party", "{support}", "--role", "performer",
          "--share", "0.9", want=2)  # over-allocated: refused, the same line both ways
    # signed on the studio's machine, submitted from another (submitting is not signing): one
    # JSONL batch of two statements
    signed = files / "credits.jsonl"
    for i, (party, role) in enumerate((("{support}", "performer"), ("{writer}", "writer"))):
        body = files / f"credit-{i}.json"
        body.write_text(json.dumps({"work": "{score}", "party": party, "role": role,
                                    "share": "1/3"}).replace("{score}", story.ids["score"])
                        .replace(party, story.ids[party.strip("{}")]))
        step = s.run("studio", "statement", "sign", "--as", "{studio}", "--type",
                     "work.credited", str(body))
        with signed.open("a") as f:
            f.write(step.stdout)
    s.run("fund", "statement", "submit", str(signed))
    s.run("studio", "bundle", "create", "--owner", "{studio}", "--name", "Harbour Lights set",
          "--version", "1", "{script}", "{score}", keep="bundle")
    s.run("guild", "guild", "agreement", "add", "--guild", "{guild}", "--covers", "performer",
          "--fund-share", "25")
    s.run("guild", "guild", "member", "add", "--guild", "{guild}", "--party", "{lead}")
    policy = files / "policy.json"
    s.run("studio", "license", "template", "--bundle", "{bundle}", "--to", "{developer}",
          "--model-family", "orbit-video", "--territory", "US", "--until", "2027-12-31",
          "--fund-share", "2.5", "--voice", "{lead}", stdout_to=policy)
    s.run("studio", "license", "grant", "--bundle", "{bundle}", "--to", "{developer}",
          "--policy", str(policy), keep="license")
    check = ["check", "--licensee", "{developer}", "--bundle", "{bundle}", "--model-family",
             "orbit-video", "--date", "2027-03-01", "--territory", "US"]
    s.run("developer", *check, "--action", "train", want=3)  # not yet co-signed
    s.run("guild", "license", "cosign", "{license}", "--as", "{guild}")
    s.run("developer", *check, "--action", "train")
    s.run("lead", "consent", "grant", "--performer", "{lead}", "--kind", "voice",
          "--description", "Synthesized narration of the Harbour Lights trailer",
          "--model-family", "orbit-video", "--media", "audio", "--territory", "US", "--from",
          "2027-01-01", "--until", "2027-12-31", "--compensation-ref", "SPG-2027-0117",
          "--represented-by", "guild", keep="consent")
    s.run("developer", *check, "--action", "synthesizeVoice", "--performer", "{lead}")
    s.run("developer", *check, "--action", "synthesizeVoice", "--performer", "{support}",
          want=3)
    # the developer commits to a run on its own machine: the manifest and salts stay there
    basis = {"type": "license", "license": story.ids["license"], "bundle": story.ids["bundle"]}
    items = [{"sha256": hashlib.sha256(media[k].read_bytes()).hexdigest(), "kind": kind,
              "units": units, "unit": unit, "basis": basis}
             for k, kind, units, unit in (("script", "text", 100, "tokens"),
                                          ("score", "audio", 3, "seconds")) * 4]
    manifest = files / "run.jsonl"
    manifest.write_text("".join(json.dumps(it) + "\n" for it in items))
    s.run("developer", "run", "commit", str(manifest), "--developer", "{developer}",
          "--model-family", "orbit-video", "--model", "orbit-v1", keep="run")
    s.run("auditor", "audit", "challenge", "{run}", "--samples", "2", "--auditor", "{auditor}",
          keep="challenge")
    # others append before the developer looks: its replica skips the checkpoint right after
    # the challenge, whose signature seeds the sample, so the sync fetches that one too
    s.run("studio", "production", "add", "--studio", "{studio}", "--title",
          "Harbour Lights II", "--currency", "USD", keep="production")
    s.run("developer", "audit", "respond", "{challenge}", "--manifest", str(manifest), "-o",
          str(files / "response.json"))
    s.run("auditor", "audit", "verify", str(files / "response.json"), "--auditor", "{auditor}",
          "--territory", "US", "-o", str(files / "cert.intoto.json"), "--json")
    for label in ("studio", "lead", "fund"):  # every party reads the same registry
        s.run(label, "party", "list")
        s.run(label, "license", "show", "{license}")
    s.run("auditor", "log", "verify")


_ID = re.compile(r"\b[a-z]{2,4}_[a-z2-7]{16}\b|(?<=:)[a-z2-7]{16}\b")
_HEX = re.compile(r"\b[0-9a-f]{16,64}\b|[0-9a-f]{16}…")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_B64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


def normalise(text: str, ids: dict[str, str], story: Story) -> str:
    for label, value in sorted(ids.items(), key=lambda kv: -len(kv[1])):
        if value:
            text = text.replace(value, f"<{label}>")
    for home in {story.home_of(p) for p, _, _ in PARTIES} | {story.root}:
        text = text.replace(str(home), "<home>")
    text = _TIME.sub("<time>", _ID.sub("<id>", text))
    return _B64.sub("<b64>", _HEX.sub("<hex>", text))


#: Steps whose output depends on a random draw (the audit's sample, the log's signature
#: bytes) or on where the command ran: exit codes compared, not the text.
_NOT_TEXT = ("audit", "log", "run")


def _table_free(step: Step) -> bool:
    at = step.args.index("--server") + 2 if "--server" in step.args else 2
    command = step.args[at:at + 2]
    return command[0] not in _NOT_TEXT and command != ["statement", "sign"]


@pytest.fixture(scope="module")
def local_story(tmp_path_factory: pytest.TempPathFactory, media: dict[str, Path]) -> Story:
    mp = pytest.MonkeyPatch()
    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        mp.delenv(var, raising=False)
    root = tmp_path_factory.mktemp("local")
    story = Story(root, None, root / "operator")
    try:
        CliRunner().invoke(cli, ["--home", str(story.operator_home), "init"])
        tell(story, media)
    finally:
        mp.undo()
    return story


@pytest.fixture(scope="module")
def remote_story(tmp_path_factory: pytest.TempPathFactory,
                 media: dict[str, Path]) -> Iterator[tuple[Story, list]]:
    """The story against the service, through a recording proxy."""
    mp = pytest.MonkeyPatch()
    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        mp.delenv(var, raising=False)
    root = tmp_path_factory.mktemp("remote")
    try:
        with stand_in_service(root / "operator") as service, \
                recording_proxy(service.url) as (url, seen):
            story = Story(root, url, root / "operator")
            tell(story, media)
            yield story, seen
    finally:
        mp.undo()


def test_the_story_runs_remotely_with_the_same_output_and_exit_codes(
        local_story: Story, remote_story: tuple[Story, list]) -> None:
    remote, _ = remote_story
    assert [s.exit_code for s in remote.steps] == [s.exit_code for s in local_story.steps]
    assert len(remote.steps) == len(local_story.steps) > 30
    compared = 0
    for here, there in zip(local_story.steps, remote.steps, strict=True):
        if not _table_free(here):
            continue
        a = normalise(here.stdout, local_story.ids, local_story)
        b = normalise(there.stdout, remote.ids, remote)
        assert a == b, (here.args, a, b)
        assert normalise(here.stderr, local_story.ids, local_story) == \
            normalise(there.stderr, remote.ids, remote), here.args
        compared += 1
    assert compared > 25
    # the refusals read the same: the over-allocated credit and the two denials
    refused = [s for s in remote.steps if s.exit_code]
    assert [s.exit_code for s in refused] == [2, 3, 3]
    assert refused[0].stderr.startswith("error: ") and len(refused[0].stderr.splitlines()) == 1
    assert "DENY" in refused[1].stdout and "missing co-signature" in refused[1].stdout


def test_each_party_holds_only_its_own_key(remote_story: tuple[Story, list]) -> None:
    story, _ = remote_story
    for label, _, _ in PARTIES:
        keys = sorted(p.name for p in (story.root / label / "keys").iterdir())
        assert keys == [f"{story.ids[label]}.pem"], (label, keys)
        assert (story.root / label / "keys" / keys[0]).stat().st_mode & 0o777 == 0o600
        config = json.loads((story.root / label / "home.json").read_text())
        assert config["server"] == story.server
        assert (story.root / label / "log.vkey").read_text().strip() == \
            json.loads(CliRunner().invoke(cli, ["--home", str(story.operator_home), "init",
                                                "--json"]).stdout)["log_key"]
    assert sorted(p.name for p in (story.operator_home / "keys").iterdir()) == [
        "log.pem", "operator.pem"]  # the operator's two keys, no party's


def test_no_private_key_is_ever_sent(remote_story: tuple[Story, list]) -> None:
    story, seen = remote_story
    posts = [r for r in seen if r.method == "POST"]
    assert len(posts) >= 20 and all(r.path == "/v1/statements" for r in posts)
    secrets: list[tuple[str, bytes]] = []
    for label, _, _ in PARTIES:
        path = story.root / label / "keys" / f"{story.ids[label]}.pem"
        key = load_key_file(path)
        secrets += [(label, form) for form in key_forms(path.read_bytes(), key.seed)]
    log_key = load_key_file(story.operator_home / "keys" / "log.pem")
    secrets += [("log", f) for f in key_forms((story.operator_home / "keys" / "log.pem")
                                              .read_bytes(), log_key.seed)]
    for r in seen:
        blob = r.body + r.path.encode() + json.dumps(r.headers).encode()
        for label, form in secrets:
            assert form not in blob, f"{label}'s private key is in {r.method} {r.path}"
    # and what is sent is exactly signed statements: one as JSON, several as a JSONL batch
    media = sorted(r.headers["content-type"] for r in posts)
    assert media.count("application/jsonl") == 1 and set(media) == {"application/json",
                                                                     "application/jsonl"}
    for r in posts:
        lines = r.body.splitlines() if r.headers["content-type"].endswith("l") else [r.body]
        assert all(set(json.loads(line)) == {"signature", "statement"} for line in lines)


def test_the_remote_homes_verify_and_agree_with_the_server(
        remote_story: tuple[Story, list]) -> None:
    story, _ = remote_story

    def out(home: Path, *args: str) -> str:
        r = CliRunner().invoke(cli, ["--home", str(home), *args])
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
        return r.stdout

    server_cp = out(story.operator_home, "log", "checkpoint")
    for label, _, _ in PARTIES:
        home = story.root / label
        first = out(home, "sync")  # parties that ran nothing lately catch up now
        assert first.startswith(("up to date", "synced ")), first
        assert out(home, "sync").startswith("up to date: reelrights.local/log size ")
        assert out(home, "log", "checkpoint") == server_cp
        assert out(home, "log", "verify").startswith("ok: ")


def test_a_key_not_yet_allowed_is_kept_and_reused(tmp_path: Path) -> None:
    allowed: set[str] = set()
    with stand_in_service(tmp_path / "operator", allowed=allowed) as service:
        home = str(tmp_path / "newcomer")
        argv = ["--home", home, "--server", service.url, "party", "add", "--kind", "studio",
                "--name", "Newcomer Films"]
        r = CliRunner().invoke(cli, argv)
        assert r.exit_code == 3 and r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
        key = re.search(r"ed25519:[A-Za-z0-9+/=]+", r.stderr)
        assert key and "run the same `party add` again" in r.stderr
        pem = list((Path(home) / "keys").iterdir())
        assert len(pem) == 1 and pem[0].stat().st_mode & 0o777 == 0o600
        again = CliRunner().invoke(cli, argv)  # still not allowed: the same key, no second one
        assert again.exit_code == 3 and key.group(0) in again.stderr
        assert list((Path(home) / "keys").iterdir()) == pem
        allowed.add(key.group(0))  # the operator: reelrights service allow KEY
        done = CliRunner().invoke(cli, argv)
        assert done.exit_code == 0, done.stderr
        assert done.stdout.strip() == pem[0].stem  # the pending party id, with its kept key
        config = json.loads((Path(home) / "home.json").read_text())
        assert "pending_parties" not in config
        shown = CliRunner().invoke(cli, ["--home", home, "party", "show", pem[0].stem, "--json"])
        assert json.loads(shown.stdout)["name"] == "Newcomer Films"


def test_a_registration_whose_answer_is_lost_keeps_its_key(tmp_path: Path) -> None:
    """The service logged the party but its answer never came: the key stays (the party
    exists and needs it), and running the command again says so instead of making another."""
    with stand_in_service(tmp_path / "operator") as service:
        home = tmp_path / "studio"
        argv = ["--home", str(home), "--server", service.url, "party", "add", "--kind",
                "studio", "--name", "Lost Answer Films"]
        service.lose_next_answer = True
        r = CliRunner().invoke(cli, argv)
        assert r.exit_code == 1 and "the answer was lost" in r.stderr, r.stderr
        [pem] = list((home / "keys").iterdir())
        listed = CliRunner().invoke(cli, ["--home", str(home), "party", "list", "--json"])
        assert [p["id"] for p in json.loads(listed.stdout)] == [pem.stem]
        again = CliRunner().invoke(cli, argv)
        assert again.exit_code == 2 and f"already registered as {pem.stem}" in again.stderr
        assert list((home / "keys").iterdir()) == [pem]
        # a plain refusal still leaves nothing behind
        other = CliRunner().invoke(cli, ["--home", str(home), "party", "add", "--kind",
                                         "studio", "--name", "bad\u202ename"])
        assert other.exit_code == 2 and list((home / "keys").iterdir()) == [pem]


@pytest.mark.parametrize("backend_url", ["postgresql"], indirect=True)
def test_the_story_against_a_server_on_postgresql(backend_url: str, tmp_path: Path,
                                                  media: dict[str, Path],
                                                  local_story: Story) -> None:
    """The server's registry on PostgreSQL; each party's replica stays in its own SQLite."""
    with stand_in_service(tmp_path / "operator", database_url=backend_url) as service:
        story = Story(tmp_path, service.url, tmp_path / "operator")
        tell(story, media)
    assert [s.exit_code for s in story.steps] == [s.exit_code for s in local_story.steps]
    for label, _, _ in PARTIES:
        config = json.loads((tmp_path / label / "home.json").read_text())
        assert "database_url" not in config and (tmp_path / label / "reelrights.db").exists()


def test_the_story_against_reelrights_serve(request: pytest.FixtureRequest, tmp_path: Path,
                                            media: dict[str, Path], local_story: Story) -> None:
    """The same story against real ``reelrights serve`` processes (svc-write's ``service``
    fixture in tests/service/conftest.py), through the recording proxy."""
    try:
        start = request.getfixturevalue("service")
    except pytest.FixtureLookupError:
        pytest.skip("the `service` fixture (reelrights serve) is not on this branch yet")
    server = start(open_appends=True)
    import httpx

    if httpx.get(f"{server.url}/v1/checkpoints", params={"after": 0}).status_code == 404:
        pytest.skip("the server has no GET /v1/checkpoints?after= yet (audit seeds need it)")
    with recording_proxy(server.url) as (url, seen):
        story = Story(tmp_path, url, Path(server.home.path))
        tell(story, media)
    assert [s.exit_code for s in story.steps] == [s.exit_code for s in local_story.steps]
    for label, _, _ in PARTIES:
        path = tmp_path / label / "keys" / f"{story.ids[label]}.pem"
        forms = key_forms(path.read_bytes(), load_key_file(path).seed)
        assert not any(f in r.body for r in seen for f in forms), label


def test_a_key_not_yet_allowed_by_reelrights_serve(request: pytest.FixtureRequest,
                                                   tmp_path: Path) -> None:
    """The pending key against real ``reelrights serve`` and its operator's ``service allow``."""
    import httpx

    start = request.getfixturevalue("service")
    server = start(open_appends=False, config={"admission": False})  # --allowlist-only
    if httpx.get(f"{server.url}/v1/log").status_code == 404:
        pytest.skip("the server has no GET /v1/log yet (the read side)")
    home = str(tmp_path / "newcomer")
    argv = ["--home", home, "--server", server.url, "party", "add", "--kind", "studio",
            "--name", "Newcomer Films"]
    r = CliRunner().invoke(cli, argv)
    assert r.exit_code == 3 and len(r.stderr.splitlines()) == 1, r.stderr
    found = re.search(r"ed25519:[A-Za-z0-9+/=]+", r.stderr)
    assert found is not None
    allow = CliRunner().invoke(cli, ["--home", str(server.home.path), "service", "allow",
                                     found.group(0)])
    assert allow.exit_code == 0, allow.stderr
    [pem] = list((Path(home) / "keys").iterdir())
    for _ in range(50):  # the server re-reads its allowlist after a miss within 0.25 s
        done = CliRunner().invoke(cli, argv)
        if done.exit_code == 0:
            break
        httpx.get(f"{server.url}/healthz")
    assert done.exit_code == 0 and done.stdout.strip() == pem.stem, done.stderr
