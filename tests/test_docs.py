"""The documentation covers what the code offers (datasette's practice)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import click
import nacl.exceptions
import pytest

from reelrights.catalogue import catalogue, check_body
from reelrights.cli import cli
from reelrights.core.canonical import canonical_bytes
from reelrights.core.note import NoteSigner
from reelrights.core.statements import (
    SIGNING_CONTEXT_V2,
    decode_entry,
    make_leaf,
    sign_statement,
    verify_entry_signature,
)
from reelrights.keys import PartyKey
from reelrights.log.verify import StatementRules

ROOT = Path(__file__).resolve().parents[1]


def test_every_statement_type_and_field_is_documented() -> None:
    doc = (ROOT / "docs" / "statements.md").read_text("utf-8")
    for t in catalogue().types():
        heading = f"### `{t.name}` v{t.version}"
        assert heading in doc, f"{heading} missing from docs/statements.md"
        section = doc.split(heading, 1)[1].split("\n### ", 1)[0]
        for field in [*t.body.required, *t.body.optional]:  # type: ignore[attr-defined]
            assert f"`{field}`" in section, f"{t.name}.{field} undocumented"


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, f"{prefix}{name} "))
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for command in _commands(cli):
        words = command.split()
        assert any(all(w in line for w in words) for line in readme.splitlines()
                   if "reelrights" in line or line.startswith("reelrights")), command


def test_readme_gives_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make demo" in readme and "make test" in readme


def test_readme_leads_with_a_screenshot_kept_in_the_repository() -> None:
    """The README's first picture (made by `make screenshots`) is there, a PNG, and small."""
    readme = (ROOT / "README.md").read_text("utf-8")
    m = re.search(r"!\[[^\]]+\]\(([^)]+\.png)\)", "\n".join(readme.splitlines()[:8]))
    assert m, "the README does not lead with a screenshot"
    png = ROOT / m.group(1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 300_000


# -- the worked example of docs/statements.md ------------------------------------------------

def _examples() -> dict[str, str]:
    """The fenced blocks of docs/statements.md marked ``<!-- example: NAME -->``, by name."""
    doc = (ROOT / "docs" / "statements.md").read_text("utf-8")
    found = dict(re.findall(r"<!-- example: ([\w-]+) -->\n```\w*\n(.*?)\n```", doc, re.S))
    assert set(found) >= {"vkey", "leaf0", "leaf0-hash", "studio-key", "leaf", "leaf-hash",
                          "message", "verifier", "usage"}, sorted(found)
    return found


def _verifier(ex: dict[str, str]) -> dict:
    namespace: dict = {}
    exec(compile(ex["verifier"], "docs/statements.md (verifier)", "exec"), namespace)
    return namespace


def test_the_worked_example_verifies_with_the_documented_verifier() -> None:
    ex = _examples()
    leaf0, leaf = ex["leaf0"].encode(), ex["leaf"].encode()
    v = _verifier(ex)
    # the usage block runs as written, on the documented bytes
    scope = {**v, "leaf0": leaf0, "leaf": leaf, "vkey": ex["vkey"],
             "studio_key": ex["studio-key"]}
    exec(compile(ex["usage"], "docs/statements.md (usage)", "exec"), scope)
    statement = scope["statement"]
    assert (statement["type"], statement["registry"], statement["log_time"]) == (
        "license.revoked", "example.org/films", "2026-11-23T12:00:01.250731Z")
    assert scope["rules"]["ids"] == {"stm_2al5nvnurhgm2uuu", "stm_2al5nvs7d4ymq6ta"}
    # the leaf hashes and the signed message are the documented ones
    assert hashlib.sha256(b"\x00" + leaf0).hexdigest() == ex["leaf0-hash"]
    assert hashlib.sha256(b"\x00" + leaf).hexdigest() == ex["leaf-hash"]
    envelope = leaf[9:-46]
    assert leaf[-30:-3] == b"2026-11-23T12:00:01.250731Z"
    start = envelope.index(b',"statement":') + len(b',"statement":')
    assert (b"reelrights/statement/v2\nexample.org/films\n" + envelope[start:-1]
            == ex["message"].encode())


def test_the_documented_verifier_refuses_what_the_log_refuses() -> None:
    ex = _examples()
    leaf0, leaf = ex["leaf0"].encode(), ex["leaf"].encode()
    v = _verifier(ex)
    key = base64.b64decode(ex["studio-key"])

    def rules() -> dict:
        return v["establishment"](leaf0, ex["vkey"], "example.org/log", 0)

    v["check_leaf"](leaf, key, rules())
    bad_sig = (nacl.exceptions.BadSignatureError, v["Invalid"])
    with pytest.raises(bad_sig):  # the body altered
        v["check_leaf"](leaf.replace(b"clause 4", b"clause 5"), key, rules())
    with pytest.raises(v["Invalid"], match="another key"):  # another party's key
        v["check_leaf"](leaf, bytes(32), rules())
    with pytest.raises(v["Invalid"], match="another registry"):
        v["check_leaf"](leaf, key, {**rules(), "registry": "example.org/other"})
    once = rules()
    v["check_leaf"](leaf, key, once)
    with pytest.raises(v["Invalid"], match="logged twice"):  # a replay
        v["check_leaf"](leaf, key, once)
    late = leaf.replace(b'"log":{"time":"2026-11-23T12:00:01', b'"log":{"time":"2026-11-26T12:00:01')
    with pytest.raises(v["Invalid"], match="outside the window"):  # 72 h + 2.8 s after signing
        v["check_leaf"](late, key, rules())
    with pytest.raises(v["Invalid"], match="went back"):
        v["check_leaf"](leaf, key, {**rules(), "last_time": "2026-11-23T12:00:01.250732Z"})
    with pytest.raises(v["Invalid"], match="another log"):
        v["establishment"](leaf0, ex["vkey"], "example.org/elsewhere", 0)
    with pytest.raises(v["Invalid"], match="v1_entries"):
        v["establishment"](leaf0, ex["vkey"], "example.org/log", 7)
    # the log time is not signed by the party: the leaf hash (the tree) is what covers it
    v["check_leaf"](leaf.replace(b"12:00:01.250731Z", b"12:00:02.250731Z"), key, rules())
    assert hashlib.sha256(b"\x00" + leaf.replace(b"12:00:01.250731Z", b"12:00:02.250731Z")) \
        .hexdigest() != ex["leaf-hash"]


def test_the_worked_example_is_what_reelrights_makes() -> None:
    """The documented bytes are reelrights' own: signing the same statements with the keys
    derived as the page says gives them back, and reelrights' decoder and log rules accept them."""
    ex = _examples()
    leaf0, leaf = ex["leaf0"].encode(), ex["leaf"].encode()
    log_key = PartyKey(hashlib.sha256(b"reelrights docs example: log key").digest())
    studio = PartyKey(hashlib.sha256(b"reelrights docs example: studio key").digest())
    assert NoteSigner("example.org/log", log_key.seed).vkey == ex["vkey"]
    assert base64.b64encode(studio.public_key_bytes).decode() == ex["studio-key"]
    rules = StatementRules(ex["vkey"], "example.org/log", check_body)
    for index, (raw, key) in enumerate(((leaf0, log_key), (leaf, studio))):
        s = decode_entry(raw)
        verify_entry_signature(s, key.public_key_bytes)
        statement = json.loads(s.entry)["statement"]
        assert s.message == SIGNING_CONTEXT_V2 + b"example.org/films\n" + canonical_bytes(statement)
        assert make_leaf(sign_statement(statement, key), s.log_time) == raw
        rules.check(index, s)  # log verify's own rules (the revocation as if at index 1)
