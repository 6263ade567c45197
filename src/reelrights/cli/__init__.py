"""The ``reelrights`` command line: thin by design.

Each command parses its input, calls one library function, and renders the result as a table,
one line, or ``--json``. A :class:`~reelrights.errors.ReelrightsError` becomes one line,
``error: <message>``, on stderr. The exit code is 2 for bad input, 1 for a failed verification
and 3 for a policy denial. Click's own usage errors (a bad option value, a missing file) are
printed the same way, on one line, and also exit 2.

Two failures that come from the environment, not from a rule, get the same one line instead of
a traceback: a full disk (SQLite's ``database or disk is full``, PostgreSQL's ``53100``, or an
``OSError`` ENOSPC/EDQUOT while writing keys, tiles or reports) says the disk is full and where,
exit 1 (:class:`~reelrights.errors.DiskFull`); input nested too deeply for Python's parsers (a
``RecursionError`` from a JSON file no reader bounded) names the command's input files, exit 2.

Every ``--territory`` value (check, scan, attribute, audit verify, consent grant, license
template) is checked against ISO 3166-1 (``pycountry``) and the profile's regions before any
command runs: ``ZZ`` is refused in one line, exit 2.

The values of ``--name``, ``--title`` and ``--description`` are normalised to Unicode NFC before
any command sees them, so what is signed is the NFC form (the schema refuses names that are not).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from ..core.canonical import MAX_JSON_DEPTH
from ..core.names import normalize_name
from ..core.odrl.territory import parse_territory
from ..errors import BadInput
from ..errors import ReelrightsError, disk_full
from .context import AppContext

__all__ = ["cli", "main"]


def _fail(message: str, exit_code: int) -> NoReturn:
    click.echo(f"error: {' '.join(message.splitlines())}", err=True)
    raise click.exceptions.Exit(exit_code)


def _click_error(exc: click.ClickException) -> NoReturn:
    """Click's own errors, one line too (a bad option value, a missing file: exit 2)."""
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    _fail(message, 2 if isinstance(exc, click.FileError) else exc.exit_code)


def _database(ctx: click.Context) -> str:
    """The database the command was using, for a message (password hidden), or ""."""
    app = ctx.obj
    if not isinstance(app, AppContext):
        return ""
    return app.database_label()


def _disk_full(ctx: click.Context, exc: BaseException):  # type: ignore[no-untyped-def]
    """The DiskFull ``exc`` stands for, naming the database or the argument that is full."""
    paths = tuple(a for a in ctx.meta.get("reelrights.args", [])
                  if not a.startswith("-") and os.sep in a)
    return disk_full(exc, _database(ctx), paths)


def _too_deep(ctx: click.Context) -> NoReturn:
    files = [a for a in ctx.meta.get("reelrights.args", []) if a == "-" or os.path.isfile(a)]
    named = ", ".join("standard input" if f == "-" else f for f in files) or "the input"
    _fail(f"{named}: nested too deeply to read (more than {MAX_JSON_DEPTH} levels of arrays or "
          f"objects is refused); flatten it to at most {MAX_JSON_DEPTH} levels", 2)


#: Options that carry human names and text: signed in Unicode NFC, whatever the terminal sent.
_NAME_OPTIONS = ("--name", "--title", "--description")


def _nfc_names(args: list[str]) -> list[str]:
    out, value_next = [], False
    for a in args:
        if value_next:
            a, value_next = normalize_name(a), False
        elif a == "--":
            return out + args[len(out):]
        elif a in _NAME_OPTIONS:
            value_next = True
        elif a.startswith(tuple(f"{o}=" for o in _NAME_OPTIONS)):
            a = normalize_name(a)
        out.append(a)
    return out


def _check_territories(args: list[str]) -> None:
    """Every ``--territory`` value (a comma list for consent) must be ISO 3166-1 or a region."""
    for i, a in enumerate(args):
        if a == "--":
            return
        if a == "--territory" and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith("--territory="):
            value = a.partition("=")[2]
        else:
            continue
        for code in value.split(","):
            try:
                parse_territory(code.strip())
            except ValueError as exc:
                raise BadInput(f"--territory {value!r}: {exc}") from None


class _Root(click.Group):
    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        args = _nfc_names(list(args))
        try:
            _check_territories(args)
        except BadInput as exc:
            _fail(exc.message, exc.exit_code)
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as exc:
            _click_error(exc)
        ctx.meta["reelrights.args"] = argv
        return ctx

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except ReelrightsError as exc:
            full = _disk_full(ctx, exc)
            if full is not None:
                _fail(full.message, full.exit_code)
            _fail(exc.message, exc.exit_code)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as exc:
            _click_error(exc)
        except RecursionError:
            _too_deep(ctx)
        except Exception as exc:
            full = _disk_full(ctx, exc)
            if full is None:
                raise
            _fail(full.message, full.exit_code)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", "home_dir", type=click.Path(file_okay=False), envvar="REELRIGHTS_HOME",
              help="Home folder (keys, SQLite database, static log). Default ~/.reelrights.")
@click.version_option(package_name="reelrights")
@click.pass_context
def cli(ctx: click.Context, home_dir: str | None) -> None:
    """reelrights: a verifiable clearinghouse for licensed generative AI in film.

    Every fact is a statement signed by the party that asserts it and appended to a public,
    append-only Merkle log (RFC 9162, C2SP checkpoints and tiles).
    """
    ctx.obj = AppContext(home_dir)


from . import bundle_cmd, check_cmd, consent_cmd, demo_cmd, license_cmd, log_cmd, party_cmd, statement_cmd, work_cmd  # noqa: E402
from . import fingerprint_cmd, scan_cmd  # noqa: E402

for module in (party_cmd, work_cmd, bundle_cmd, license_cmd, check_cmd, consent_cmd, log_cmd, statement_cmd, demo_cmd,
               fingerprint_cmd, scan_cmd):
    module.register(cli)

from . import audit_cmd  # noqa: E402

audit_cmd.register(cli)

from . import ca_cmd  # noqa: E402

ca_cmd.register(cli)

from . import run_cmd  # noqa: E402

run_cmd.register(cli)

from . import attribute_cmd, provenance_cmd  # noqa: E402

provenance_cmd.register(cli)
attribute_cmd.register(cli)

from . import fund_cmd, production_cmd, usage_cmd  # noqa: E402  (creative fund)

for module in (production_cmd, fund_cmd, usage_cmd):
    module.register(cli)

from . import rebuild_cmd  # noqa: E402  (a new home from a log's tiles)

rebuild_cmd.register(cli)


def main() -> None:
    sys.exit(cli.main(standalone_mode=True))

from . import dispute_cmd  # noqa: E402  (ownership disputes)

dispute_cmd.register(cli)  # dispute list|show|release
