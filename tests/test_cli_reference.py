"""docs/cli.md is generated from the click commands (``make docs``) and must match them."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reelrights.cli import cli
from reelrights.cli.reference import main, render

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


@pytest.fixture(scope="module")
def reference() -> str:
    return render()


def test_docs_cli_md_matches_the_commands(reference: str) -> None:
    have = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if have != reference:
        diff = "".join(list(difflib.unified_diff(
            have.splitlines(True), reference.splitlines(True), "docs/cli.md", "the commands"))[:40])
        pytest.fail(f"docs/cli.md is out of date with the commands; run `make docs`\n{diff}")


def _paths(cmd: click.Command, ctx: click.Context) -> list[str]:
    out = [ctx.command_path]
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            out += _paths(sub, click.Context(sub, info_name=name, parent=ctx))
    return out


def test_every_command_and_option_is_in_the_reference(reference: str) -> None:
    paths = _paths(cli, click.Context(cli, info_name="reelrights"))
    assert len(paths) > 50
    for path in paths:
        assert f"\n## {path}\n" in reference, path
    assert "- `--home` `DIRECTORY` (env `REELRIGHTS_HOME`): Home folder" in reference
    assert "- `--valid-days` `INTEGER RANGE` (`1 <= x <= 3660`; default `365`)" in reference


def test_the_reference_does_not_depend_on_the_terminal_width(reference: str) -> None:
    narrow = subprocess.run([sys.executable, "-m", "reelrights.cli.reference"],
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "COLUMNS": "40", "LINES": "10"})
    assert narrow.returncode == 0, narrow.stderr
    assert narrow.stdout == reference


def test_check_and_output_modes(tmp_path: Path, reference: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert capsys.readouterr().err == (f"error: {stale} is out of date with the commands; "
                                       "run `make docs`\n")
    assert main(["--check", str(tmp_path / "missing.md")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("; run `make docs`\n")
    fresh = tmp_path / "fresh.md"
    assert main(["-o", str(fresh)]) == 0
    assert fresh.read_text(encoding="utf-8") == reference
    assert main(["--check", str(fresh)]) == 0
    assert capsys.readouterr() == ("", "")
