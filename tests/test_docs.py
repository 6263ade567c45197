"""The documentation covers what the code offers (datasette's practice)."""

from __future__ import annotations

from pathlib import Path

import click

from reelrights.cli import cli
from reelrights.catalogue import catalogue

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
