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

from test_cli import media, ok, refused, world  # noqa: F401  (fixtures and helpers)

DEEP = 5_000


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
    stmt = make_statement("work.credited", world["studio"], {"work": world["film"],
                                                            "party": world["ada"],
                                                            "role": "vfx", "share": deep})
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
