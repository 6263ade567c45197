"""The command-line reference, ``docs/cli.md``, generated from the click commands themselves.

    python -m reelrights.cli.reference                    # print it
    python -m reelrights.cli.reference -o docs/cli.md     # write it (``make docs``)
    python -m reelrights.cli.reference --check docs/cli.md

Every command and group, in the order ``--help`` lists them, with its usage line, its full help,
its arguments and every option with its value, default (where the option shows one),
environment variable and help. Nothing depends on the terminal: help text is copied as written
(never re-wrapped), so the file is the same on every machine. ``tests/test_cli_reference.py``
fails when the committed file differs from what this prints.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

import click

__all__ = ["render"]

_HEADER = """\
# Command-line reference

Generated from the command definitions by `make docs` (`python -m reelrights.cli.reference`).
Do not edit it by hand: `tests/test_cli_reference.py` fails when it differs from the commands.
Every command also takes `-h`/`--help`. Errors are one line on stderr; the exit code is 2 for
bad input, 1 for a failed verification and 3 for a policy denial.
"""


def _commands(cmd: click.Command, ctx: click.Context) -> Iterator[tuple[click.Command,
                                                                         click.Context]]:
    """``cmd`` and every command under it, depth first, in listing order; hidden ones left out."""
    yield cmd, ctx
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            yield from _commands(sub, click.Context(sub, info_name=name, parent=ctx))


def _help(cmd: click.Command) -> str:
    """The command's help as written: up to a ``\\f``, without click's ``\\b`` markers."""
    text = inspect.cleandoc(cmd.help or "").split("\f", 1)[0]
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b").strip()


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _default(param: click.Option) -> str | None:
    """The default as ``--help`` shows it, only where the option asks to show one."""
    if isinstance(param.show_default, str):
        return param.show_default
    if not param.show_default or param.is_flag or callable(param.default):
        return None
    value = param.default
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return None if value is None else str(value)


def _range(kind: click.ParamType) -> str | None:
    """``1 <= x``, ``0 <= x <= 1``, ``0 < x``: the bounds of an IntRange or FloatRange."""
    if not isinstance(kind, (click.IntRange, click.FloatRange)):
        return None
    low = None if kind.min is None else f"{kind.min} {'<' if kind.min_open else '<='} "
    high = None if kind.max is None else f" {'<' if kind.max_open else '<='} {kind.max}"
    if low is None and high is None:
        return None
    return f"{low or ''}x{high or ''}"


def _option(param: click.Option, ctx: click.Context) -> str:
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    value = "" if param.is_flag or param.count else f" `{param.make_metavar(ctx)}`"
    notes = []
    if param.required:
        notes.append("required")
    if param.multiple:
        notes.append("repeatable")
    bounds = _range(param.type)
    if bounds is not None:
        notes.append(f"`{bounds}`")
    default = _default(param)
    if default is not None:
        notes.append(f"default `{default}`")
    if isinstance(param.envvar, str):
        notes.append(f"env `{param.envvar}`")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    help_text = _one_line(param.help)
    return f"- {names}{value}{suffix}" + (f": {help_text}" if help_text else "")


def _argument(param: click.Argument, ctx: click.Context) -> str:
    notes = [] if param.required else ["optional"]
    if param.nargs == -1:
        notes.append("any number")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    return f"- `{param.make_metavar(ctx)}`{suffix}"


def _section(cmd: click.Command, ctx: click.Context) -> list[str]:
    usage = " ".join([ctx.command_path, *cmd.collect_usage_pieces(ctx)])
    out = [f"## {ctx.command_path}", "", f"Usage: `{usage}`", ""]
    text = _help(cmd)
    if text:
        out += [text, ""]
    if isinstance(cmd, click.Group):
        listed = [(n, cmd.get_command(ctx, n)) for n in cmd.list_commands(ctx)]
        out += ["Commands:", ""]
        out += [f"- `{n}`: {c.get_short_help_str(limit=1000)}" for n, c in listed
                if c is not None and not c.hidden]
        out.append("")
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    if arguments:
        out += ["Arguments:", "", *(_argument(p, ctx) for p in arguments), ""]
    options = [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]
    if options:
        out += ["Options:", "", *(_option(p, ctx) for p in options), ""]
    return out


def render(root: click.Command | None = None) -> str:
    """The whole reference (Markdown) for ``root``, by default the ``reelrights`` command."""
    if root is None:
        from . import cli

        root = cli
    lines = [_HEADER]
    for cmd, ctx in _commands(root, click.Context(root, info_name="reelrights")):
        lines += _section(cmd, ctx)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reelrights.cli.reference",
                                     description="Generate docs/cli.md from the commands.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=Path, help="write the reference to this file")
    where.add_argument("--check", type=Path, metavar="FILE",
                       help="exit 1 if FILE differs from the reference")
    args = parser.parse_args(argv)
    text = render()
    if args.check is not None:
        try:
            current = args.check.read_text(encoding="utf-8")
        except OSError as exc:
            print(f"error: {args.check}: {exc.strerror}; run `make docs`", file=sys.stderr)
            return 1
        if current != text:
            print(f"error: {args.check} is out of date with the commands; run `make docs`",
                  file=sys.stderr)
            return 1
        return 0
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"error: {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
