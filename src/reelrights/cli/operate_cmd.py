"""reelrights backup, restore and key: the operator's copies of what the log cannot give back;
and the operator's ``service`` commands (freeze, unfreeze, check, succeed), which
:mod:`.service_cmd` puts in its group."""

from __future__ import annotations

from pathlib import Path

import click

from .context import AppContext, pass_app
from .output import created, emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(backup_cmd)
    cli.add_command(restore_cmd)
    # `key` is registered by key_cmd, which adds the party-key commands to this group.


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@json_option
@pass_app
def backup_cmd(app: AppContext, dest: Path, as_json: bool) -> None:
    """Back up the home's database into the new folder DEST, while the server runs.

    SQLite: the online backup API (one consistent snapshot); PostgreSQL: pg_dump (custom
    format). DEST/backup.json names the log head the copy holds and each file's SHA-256. Keys
    are not copied (`reelrights key split` for the log key). Prints DEST.
    """
    from ..operate.backup import backup

    report = backup(app.home, dest)
    created(as_json, str(report.path), report.to_json(), [report.summary()])


@click.command("restore")
@click.argument("src", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--log-key", "log_key", type=click.Path(dir_okay=False, exists=True,
                                                       path_type=Path),
              help="The log's signing key (PEM, e.g. from `key combine`): the restored home can "
                   "append. Without it the home is a read-only replica.")
@click.option("--database-url", metavar="URL",
              help="Where a PostgreSQL backup goes: an empty database, or a schema that does "
                   "not exist yet. An SQLite backup goes into the home.")
@click.option("--local-tables", is_flag=True,
              help="Only copy the backup's local tables (fingerprints, asset locations, output "
                   "manifests, the allowlist) into the existing --home, keeping its rows: "
                   "after `rebuild` from the published tiles.")
@click.option("--scratch-database-url", metavar="URL",
              help="With --local-tables and a PostgreSQL backup: an empty database to read the "
                   "dump through.")
@json_option
@pass_app
def restore_cmd(app: AppContext, src: Path, log_key: Path | None, database_url: str | None,
                local_tables: bool, scratch_database_url: str | None, as_json: bool) -> None:
    """Restore the backup SRC into a new --home, checked as `log verify` checks a log.

    With --local-tables, copy only the rows the log cannot give back into the existing --home
    (one rebuilt from the published tiles, say).

    The manifest and every file's digest are checked first; the restored database is migrated,
    its head must be the manifest's, and its tree, signatures and checkpoints must verify. An
    existing home is never overwritten. A backup is older than the published log: the server
    refuses to start on it while it is behind (docs/deploy.md). Prints the new home's path.
    """
    from ..home import Home
    from ..operate.backup import restore

    if local_tables:
        from ..operate.local_tables import restore_local_tables

        added = restore_local_tables(src, app.home, scratch_url=scratch_database_url)
        created(as_json, str(app.home.path), {"added": added},
                [f"restored local rows into {app.home.path}: "
                 + (", ".join(f"{n} {t}" for t, n in added.items()) or "none")])
        return
    report = restore(src, Home.resolve(app.home_dir), log_key=log_key,
                     database_url=database_url)
    created(as_json, report["home"], report,
            [f"restored {report['home']}: log at size {report['size']} from the backup of "
             f"{report['backup_created']}"
             + (" (read-only: no log key)" if report["read_only"] else "")])


@click.group()
def key() -> None:
    """Party keys over time (recovery key, rotation, revocation) and the log key's offline
    custody (SLIP-39).

    A party's keys: `key new`, `recovery-set`, `rotate`, `cancel-rotation`, `recover`,
    `revoke`, `history` (docs/keys.md). The log key: `split` among officers, `combine` again."""


@key.command("split")
@click.option("--threshold", type=click.IntRange(1, 16), required=True,
              help="How many shares restore the key.")
@click.option("--shares", type=click.IntRange(1, 16), required=True,
              help="How many shares to write (one per officer).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The folder the share files go to (created 0700; files 0600).")
@click.option("--passphrase-env", "passphrase_envs", multiple=True, metavar="VAR",
              help="Encrypt each share with its officer's passphrase, read from the variable "
                   "VAR: give it once per share, in order.")
@pass_app
def key_split(app: AppContext, threshold: int, shares: int, out: Path,
              passphrase_envs: tuple[str, ...]) -> None:
    """Split the log key into SLIP-39 shares, any THRESHOLD of which restore it.

    Each share is written to its own file (never printed). Give each officer one file, have it
    printed or copied to offline media, then delete the files. Prints the files' paths.
    """
    from ..operate.key_shares import split_log_key

    paths = split_log_key(app.home, out, threshold=threshold, shares=shares,
                          passphrase_envs=passphrase_envs)
    for p in paths:
        click.echo(str(p))
    click.echo(f"wrote {len(paths)} shares of the log key of {app.home.origin}; any "
               f"{threshold} restore it (`reelrights key combine`)", err=True)


@key.command("combine")
@click.argument("shares", nargs=-1, required=True,
                type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where the key goes (PEM, 0600; never overwritten). Default: the home's "
                   "keys/log.pem.")
@click.option("--passphrase-env", "passphrase_envs", multiple=True, metavar="VAR",
              help="The passphrase of an encrypted share, read from VAR: once per encrypted "
                   "share, in the order the shares are given.")
@pass_app
def key_combine(app: AppContext, shares: tuple[Path, ...], out: Path | None,
                passphrase_envs: tuple[str, ...]) -> None:
    """Restore the log key from SHARES (at least the threshold), checked against the log's
    public key every share names. Prints the key file's path, never the key."""
    from ..home import Home
    from ..operate.key_shares import combine_shares

    if out is None:
        out = Home.resolve(app.home_dir) / "keys" / "log.pem"
    vkey = combine_shares(list(shares), out, passphrase_envs=passphrase_envs)
    click.echo(str(out))
    click.echo(f"restored the log key of {vkey}", err=True)


# -- reelrights service ... (added to the group in service_cmd) ------------------------------

@click.command("freeze")
@click.option("--reason", required=True, help="Why (one line, shown in every refusal).")
@pass_app
def service_freeze(app: AppContext, reason: str) -> None:
    """Refuse every write from now on (reads go on): the first step of the log key's
    compromise procedure (docs/deploy.md). Idempotent. Prints the flag's path."""
    from ..operate.freeze import freeze

    click.echo(str(freeze(app.home, reason)))
    click.echo("writes are frozen; `reelrights service unfreeze` resumes them", err=True)


@click.command("unfreeze")
@pass_app
def service_unfreeze(app: AppContext) -> None:
    """Resume writes."""
    from ..operate.freeze import unfreeze

    was = unfreeze(app.home)
    click.echo("writes resumed" if was else "writes were not frozen", err=True)


@click.command("check")
@click.option("--published", "published", multiple=True, metavar="DIR|URL",
              help="Another published copy of the log (also REELRIGHTS_PUBLISHED, "
                   "comma-separated).")
@json_option
@pass_app
def service_check(app: AppContext, published: tuple[str, ...], as_json: bool) -> None:
    """Run the checks `reelrights serve` runs at start: the database's log head is not behind
    any published checkpoint (never fork; exit 1 naming both sizes and the fix), and whether
    writes are frozen. Brings the home's log folder up to the database's head if it lags."""
    from ..operate import check_published, writes_frozen

    report = check_published(app.home, published=published)
    frozen = writes_frozen(app.home)
    if as_json:
        emit_json({**report.to_json(), "frozen": frozen})
        return
    click.echo(report.summary())
    if frozen:
        click.echo(f"writes are frozen: {frozen}")


@click.command("succeed")
@click.option("--from", "old_home", required=True,
              type=click.Path(file_okay=False, exists=True),
              help="The old log's home (frozen first with `service freeze`).")
@click.option("--origin", required=True, help="The new log's origin (not the old one's).")
@json_option
@pass_app
def service_succeed(app: AppContext, old_home: str, origin: str, as_json: bool) -> None:
    """Start a new log in --home (new origin, new log key) whose first entry cites the old
    log's last published checkpoint: the log key's compromise procedure (docs/deploy.md).
    Prints the new home's path; publish its log key (`log key`) out of band."""
    from ..home import Home
    from ..operate.succession import succeed

    report = succeed(Home.open(old_home), Home.resolve(app.home_dir), origin=origin)
    if as_json:
        emit_json(report)
        return
    click.echo(report["home"])
    pred = report["predecessor"]
    click.echo(f"{origin} succeeds {pred['origin']} at its checkpoint of size {pred['size']}; "
               f"new log key {report['log_key']}", err=True)


#: The operator's commands of the ``service`` group.
SERVICE_COMMANDS = [service_freeze, service_unfreeze, service_check, service_succeed]
