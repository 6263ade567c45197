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
from importlib import import_module
from typing import Any, NoReturn

import click

from ..core.canonical import MAX_JSON_DEPTH
from ..errors import BadInput, DiskFull, ReelrightsError, disk_full
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


def _disk_full(ctx: click.Context, exc: BaseException) -> DiskFull | None:
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
    if not any(a.startswith(_NAME_OPTIONS) for a in args):
        return args
    from ..core.names import normalize_name

    out: list[str] = []
    value_next = False
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
    if not any(a.startswith("--territory") for a in args):
        return
    from ..core.odrl.territory import parse_territory

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


#: Every top-level command: the module that defines it (imported on first use, so that
#: ``reelrights --help`` or ``party list`` does not import NumPy, PyAV or c2pa) and the first
#: paragraph of its help, shown by ``reelrights --help``. tests/cli/test_lazy_commands.py keeps
#: this table equal to the commands themselves.
COMMANDS: dict[str, tuple[str, str]] = {
    "attribute": ("attribute_cmd", "Weights per work and bundle, near-copies and performers "
                                   "without consent (exit 3: a near-copy or a missing consent)."),
    "audit": ("audit_cmd", "Sampled audits of training runs that keep the dataset private, with "
                           "signed certificates."),
    "backup": ("operate_cmd", "Back up the home's database into the new folder DEST, while the "
                              "server runs."),
    "bundle": ("bundle_cmd", "Immutable, versioned sets of works and assets that an owner "
                             "licenses."),
    "ca": ("ca_cmd", "The project root CA that certifies developers' C2PA signing keys."),
    "check": ("check_cmd", "Answer allow or deny, with the chain of reasons (license, rule, "
                           "consent, co-signature)."),
    "consent": ("consent_cmd", "Performer consent for voice and likeness (SAG-AFTRA 2023 "
                               "digital-replica rules)."),
    "demo": ("demo_cmd", "Build a fresh home in DIRECTORY (default ./demo-home) and tell the "
                         "story step by step."),
    "credit": ("credit_cmd", "Credits for contributors with no registered party: suspense, "
               "claims, release."),
    "dispute": ("dispute_cmd", "Ownership conflicts: the same bytes, or a whole-asset "
                               "near-duplicate, of two owners."),
    "fingerprint": ("fingerprint_cmd", "Fingerprint registered assets' files (video PDQ, audio "
                                       "Chromaprint, text MinHash)."),
    "fund": ("fund_cmd", "The creative fund: revenue in, exact statements out (docs/fund.md)."),
    "guild": ("license_cmd", "Guild collective agreements and membership."),
    "init": ("party_cmd", "Create the home, its database and the log's Ed25519 key (idempotent)."),
    "key": ("key_cmd", "Party keys over time (recovery key, rotation, revocation) and the log "
                       "key's offline custody (SLIP-39)."),
    "license": ("license_cmd", "Licenses on bundles: ODRL 2.2 Agreements, guild co-signature, "
                               "revocation."),
    "join": ("join_cmd", "Make this home a party's home that follows the reelrights service at "
                         "--server."),
    "log": ("log_cmd", "The public transparency log (RFC 9162 tree, C2SP checkpoints and tiles)."),
    "monitor": ("monitor_cmd", "Follow a log through its tiles with its public key: verify "
                               "everything, report split views and what touches a party."),
    "party": ("party_cmd", "Studios, guilds, performers, writers, developers, auditors and funds."),
    "preferences": ("preferences_cmd", "Rights holders' declared AI-use preferences (AIPREF, "
                    "Content Signals, RSL, IPTC, CAWG, TDMRep), recorded as signed statements "
                    "that `check` honours."),
    "production": ("production_cmd", "Films and episodes whose revenue feeds the creative fund."),
    "provenance": ("provenance_cmd", "Sign generated outputs with C2PA manifests tied to "
                                     "certified training runs; verify them."),
    "rebuild": ("rebuild_cmd", "Recreate a home's registry from the log alone, into a new --home."),
    "restore": ("operate_cmd", "Restore the backup SRC into a new --home, checked as `log verify` "
                               "checks a log."),
    "run": ("run_cmd", "Training-run commitments (the manifest and its salts never leave this "
                       "machine)."),
    "scan": ("scan_cmd", "Scan a media file, a directory (recursively) or a JSONL manifest of "
                         "paths."),
    "sealed": ("sealed_cmd", "Sealed statements: private fields under a signed root, "
                             "disclosed field by field."),
    "serve": ("serve_cmd", "Serve this home's registry over HTTP: POST /v1/statements, the "
                           "static log, proofs."),
    "service": ("service_cmd", "The service's allowlist of signing keys, the freeze and the "
                               "start-up checks."),
    "sync": ("join_cmd", "Bring this party's home up to the server's latest checkpoint, "
                         "verified."),
    "statement": ("statement_cmd", "Sign statements where the key lives; submit statements signed"
                                   " anywhere."),
    "usage": ("usage_cmd", "Licenses, certified runs, outputs, productions and earnings on P's "
                           "works, with log indexes."),
    "verify": ("verify_cmd", "Verify an artifact offline (a proof file, a certificate, a "
                             "statement, a signed output) with the log's public key."),
    "witness": ("witness_cmd", "Witness other logs: cosign their checkpoints when consistent "
                               "(C2SP tlog-witness)."),
    "work": ("work_cmd", "Films, episodes, scripts, scores, performances and images, with their "
                         "files."),
}


class _Root(click.Group):
    """The root group: commands load from their module when named (see :data:`COMMANDS`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loaded: dict[str, click.Command] = {}
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]  # click declares a plain attribute; loaded on demand here
    def commands(self) -> dict[str, click.Command]:
        """Every command, loaded (for code that walks the tree, such as the docs generator)."""
        for name in COMMANDS:
            self._load(name)
        return self._loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._loaded = dict(value)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        self._loaded[name or cmd.name or ""] = cmd

    def _load(self, name: str) -> click.Command | None:
        if name not in self._loaded and name in COMMANDS:
            import_module(f"{__name__}.{COMMANDS[name][0]}").register(self)
        return self._loaded.get(name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self._loaded))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help`` from :data:`COMMANDS`, without importing a command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in COMMANDS:
                summary = click.Command(name, help=COMMANDS[name][1])  # shortened as click does
                rows.append((name, summary.get_short_help_str(limit)))
            else:
                rows.append((name, self._loaded[name].get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
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

    def invoke(self, ctx: click.Context) -> Any:
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
@click.option("--server", "server", metavar="URL", envvar="REELRIGHTS_SERVER",
              help="Work as a client of the reelrights service at URL: the home is this party's "
              "own (its keys, the log's pinned key, a replica synced from the server), made at "
              "first use; statements are signed here and submitted over HTTP.")
@click.version_option(package_name="reelrights")
@click.pass_context
def cli(ctx: click.Context, home_dir: str | None, server: str | None) -> None:
    """reelrights: a verifiable clearinghouse for licensed generative AI in film.

    Every fact is a statement signed by the party that asserts it and appended to a public,
    append-only Merkle log (RFC 9162, C2SP checkpoints and tiles).
    """
    app = AppContext(home_dir, server)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main() -> None:
    sys.exit(cli.main(standalone_mode=True))
