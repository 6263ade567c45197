"""The command line starts fast: commands load from their module only when named.

``reelrights --help`` lists every command from :data:`reelrights.cli.COMMANDS` without importing
one; these tests keep that table equal to the commands themselves, and check in a fresh
interpreter that the help and a read command do not import what they do not need.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from importlib import import_module

import click
import pytest
from click.testing import CliRunner

from reelrights.cli import COMMANDS, cli

_HEAVY = ("numpy", "av", "c2pa", "faiss", "pdqhash", "datasketch", "pypdf", "pyarrow",
          "sqlalchemy", "nacl")


def _eager_group() -> click.Group:
    """Every command module registered into a plain click group, as before lazy loading."""
    group = click.Group("reelrights")
    for module in sorted({m for m, _ in COMMANDS.values()}):
        import_module(f"reelrights.cli.{module}").register(group)
    return group


def test_the_table_names_every_command_its_module_and_its_help() -> None:
    eager = _eager_group()
    assert sorted(eager.commands) == sorted(COMMANDS), \
        "a command module registers a command missing from reelrights.cli.COMMANDS (or the reverse)"
    for name, cmd in eager.commands.items():
        module, summary = COMMANDS[name]
        text = inspect.cleandoc(cmd.short_help) if cmd.short_help else \
            inspect.cleandoc(cmd.help or "").split("\n\n")[0]
        assert summary == " ".join(text.split()), f"COMMANDS[{name!r}] differs from its help"
        assert cmd.callback is not None and cmd.callback.__module__.endswith(module) or \
            isinstance(cmd, click.Group), name


@pytest.mark.parametrize("width", [60, 80, 120])
def test_help_is_the_same_as_the_eager_groups_help(width: int) -> None:
    eager = _eager_group()
    lazy_ctx = click.Context(cli, info_name="reelrights", terminal_width=width)
    eager_ctx = click.Context(eager, info_name="reelrights", terminal_width=width)
    lazy_rows, eager_rows = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    cli.format_commands(lazy_ctx, lazy_rows)
    click.Group.format_commands(eager, eager_ctx, eager_rows)
    assert lazy_rows.getvalue() == eager_rows.getvalue()
    assert "party" in lazy_rows.getvalue()


def test_every_command_resolves_and_runs_its_help() -> None:
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: " in result.output and name in result.output
    assert set(cli.commands) == set(COMMANDS)


def test_an_unknown_command_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(cli, ["parties"])
    assert result.exit_code == 2
    assert "No such command 'parties'" in result.output


def _imported_after(argv: list[str], home: str | None = None) -> set[str]:
    code = (
        "import sys\n"
        "from reelrights.cli import cli\n"
        "try:\n"
        f"    cli.main({argv!r}, standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "import json\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def test_help_imports_no_heavy_library() -> None:
    loaded = _imported_after(["--help"])
    assert not loaded & set(_HEAVY), sorted(loaded & set(_HEAVY))
    assert "click" in loaded


def test_party_list_imports_sqlalchemy_but_no_media_library(tmp_path) -> None:  # noqa: ANN001
    home = tmp_path / "h"
    assert CliRunner().invoke(cli, ["--home", str(home), "init"]).exit_code == 0
    loaded = _imported_after(["--home", str(home), "party", "list"])
    assert "sqlalchemy" in loaded
    media = {"numpy", "av", "c2pa", "faiss", "pdqhash", "datasketch", "pypdf", "pyarrow"}
    assert not loaded & media, sorted(loaded & media)
