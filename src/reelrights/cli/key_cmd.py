"""reelrights key new|recovery-set|rotate|cancel-rotation|recover|revoke|history: a party's keys
over time (docs/keys.md), beside the log key's custody (split, combine: operate_cmd)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .context import AppContext, pass_app
from .operate_cmd import key
from .output import created_receipt, emit_json, json_option, table


def register(cli: click.Group) -> None:
    cli.add_command(key)


_AS = click.option("--as", "party", required=True, metavar="PARTY",
                   help="The party whose key this is (its signing key is in this home).")
_PASS = click.option("--passphrase-env", metavar="VAR",
                     help="The passphrase of the key files given here, from environment "
                          "variable VAR.")
_REASON = click.option("--reason", help="Why (logged, public).")
_FILE = click.Path(dir_okay=False, path_type=Path)


@key.command("new")
@click.argument("out", type=_FILE)
@_PASS
@json_option
def key_new(out: Path, passphrase_env: str | None, as_json: bool) -> None:
    """Write a new Ed25519 key to OUT (PEM, 0600, never overwritten): a recovery key to keep
    offline, or the key to rotate to. Prints its key id."""
    from ..core.statements import key_id_for
    from ..errors import BadInput, Conflict
    from ..keys import PartyKey, write_key_file

    if out.exists():
        raise Conflict(f"{out} already exists; keys are never overwritten: pass a new path")
    passphrase = None
    if passphrase_env is not None:
        value = os.environ.get(passphrase_env)
        if not value:
            raise BadInput(f"environment variable {passphrase_env} is empty or unset; put the "
                           "passphrase there")
        passphrase = value.encode("utf-8")
    k = PartyKey.generate()
    write_key_file(out, k, passphrase)
    kid = key_id_for(k.public_key_bytes)
    if as_json:
        emit_json({"key_id": kid, "path": str(out)})
    else:
        click.echo(kid)


@key.command("recovery-set")
@_AS
@click.option("--recovery-key", type=_FILE, required=True,
              help="The recovery key's file (read once to prove possession; keep it offline).")
@_PASS
@json_option
@pass_app
def key_recovery_set(app: AppContext, party: str, recovery_key: Path,
                     passphrase_env: str | None, as_json: bool) -> None:
    """Name PARTY's offline recovery key (once; signed by its signing key). Only the recovery
    key cancels a rotation, rotates at once, or revokes for a party that lost its key."""
    from ..identity.keys import set_recovery_key

    r = set_recovery_key(app.home, app.ledger, party, recovery_key, passphrase_env)
    created_receipt(as_json, r, notes=[f"recovery key is seq {r.details.get('seq')} "
                                       f"(log index {r.index}); keep its file offline"])


@key.command("rotate")
@_AS
@click.option("--new-key", type=_FILE, required=True, help="The key to rotate to (`key new`).")
@_PASS
@_REASON
@json_option
@pass_app
def key_rotate(app: AppContext, party: str, new_key: Path, passphrase_env: str | None,
               reason: str | None, as_json: bool) -> None:
    """Rotate PARTY's signing key to NEW_KEY after the registry's waiting period (72 h unless
    the registry says otherwise), during which the recovery key can cancel it."""
    from ..identity.keys import request_rotation

    r = request_rotation(app.home, app.ledger, party, new_key, passphrase_env, reason)
    wait = app.ledger.deployment().key_rotation_wait_s
    created_receipt(as_json, r, {"wait_s": wait}, notes=[
        f"rotation to key seq {r.details.get('seq')} logged at {r.index}; it takes effect "
        f"{wait} s after {r.log_time}, then this home signs with the new key"])


@key.command("cancel-rotation")
@_AS
@click.option("--recovery-key", type=_FILE, required=True, help="PARTY's recovery key file.")
@_PASS
@_REASON
@json_option
@pass_app
def key_cancel_rotation(app: AppContext, party: str, recovery_key: Path,
                        passphrase_env: str | None, reason: str | None, as_json: bool) -> None:
    """Cancel PARTY's pending rotation with its recovery key (a thief's rotation)."""
    from ..identity.keys import cancel_rotation

    r = cancel_rotation(app.home, app.ledger, party, recovery_key, passphrase_env, reason)
    created_receipt(as_json, r, notes=[f"rotation to key seq {r.details.get('seq')} cancelled "
                                       f"(log index {r.index})"])


@key.command("recover")
@_AS
@click.option("--recovery-key", type=_FILE, required=True, help="PARTY's recovery key file.")
@click.option("--new-key", type=_FILE, required=True, help="The new signing key (`key new`).")
@click.option("--new-recovery-key", type=_FILE,
              help="A new recovery key to replace the one used now (advised).")
@_PASS
@_REASON
@json_option
@pass_app
def key_recover(app: AppContext, party: str, recovery_key: Path, new_key: Path,
                new_recovery_key: Path | None, passphrase_env: str | None, reason: str | None,
                as_json: bool) -> None:
    """Install NEW_KEY as PARTY's signing key at once, signed by the recovery key; the old
    signing key and any pending rotation end at this log position."""
    from ..identity.keys import recover

    r = recover(app.home, app.ledger, party, recovery_key, new_key, new_recovery_key,
                passphrase_env, reason)
    created_receipt(as_json, r, notes=[f"key seq {r.details.get('seq')} in force from log "
                                       f"index {r.index + 1}"])


@key.command("revoke")
@_AS
@click.option("--reason", required=True, help="Why (logged, public).")
@click.option("--recovery-key", type=_FILE,
              help="Sign with PARTY's recovery key (default: the signing key itself).")
@_PASS
@json_option
@pass_app
def key_revoke(app: AppContext, party: str, reason: str, recovery_key: Path | None,
               passphrase_env: str | None, as_json: bool) -> None:
    """Revoke PARTY's signing key from this log position on (never earlier). Earlier
    statements stand: dispute those a thief signed with `reelrights statement dispute`."""
    from ..identity.keys import revoke_key

    r = revoke_key(app.home, app.ledger, party, reason, recovery_key, passphrase_env)
    created_receipt(as_json, r, notes=[f"key seq {r.details.get('seq')} revoked at log index "
                                       f"{r.index}; `reelrights key recover` installs a new one"])


@key.command("history")
@click.argument("party", metavar="PARTY")
@json_option
@pass_app
def key_history_cmd(app: AppContext, party: str, as_json: bool) -> None:
    """PARTY's keys: each with its role, when it may sign, and its status now."""
    from ..identity.keys import key_history

    rules = app.ledger.deployment()
    h = key_history(app.ledger.db, party, rules.registry, rules.key_rotation_wait_s)
    if as_json:
        emit_json(h)
        return
    click.echo(f"{h['name']} ({h['party']})  rotation wait {h['rotation_wait_s']} s")
    table("keys", ["seq", "role", "key id", "declared", "signs from", "until", "status"],
          [[k["seq"], k["role"], k["key_id"], k["declared_index"],
            _span(k["from_index"], k["from_time"]), _span(k["until_index"], k["until_time"]),
            k["status"]] for k in h["keys"]])


def _span(index: int | None, time: str | None) -> str:
    parts = ([f"index {index}"] if index is not None else []) + ([time] if time else [])
    return ", ".join(parts) or "-"
