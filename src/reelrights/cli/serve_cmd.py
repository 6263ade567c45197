"""reelrights serve: the HTTP service (docs/service.md) over this home's ledger.

uvicorn runs the application factory ``reelrights.api.factory:from_env`` in one process, or in
``--workers N`` processes sharing one listening socket; the configuration travels to them in the
environment (``REELRIGHTS_SERVE_CONFIG``). One line on stdout gives the URL; Ctrl-C stops the
service cleanly (requests in flight are answered first).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ..errors import BadInput
from .context import AppContext, pass_app

#: Per process: connections and tasks at once before uvicorn answers 503 (a bound, not a goal).
LIMIT_CONCURRENCY = 2048
#: Seconds an idle keep-alive connection is kept; the longest header uvicorn buffers (bytes).
KEEP_ALIVE_S = 5
MAX_HEADER_BYTES = 16 * 1024


def register(cli: click.Group) -> None:
    cli.add_command(serve)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS-terminating reverse proxy in front).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port; the URL line names it).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (one log: the database serialises them).")
@click.option("--open", "open_appends", is_flag=True,
              help="Accept statements from any key, skipping the allowlist (demos and tests "
                   "only).")
@click.option("--admission/--allowlist-only", default=True, show_default=True,
              help="Admission (the default): anyone may register and ask to be admitted "
                   "(domain, guild or the operator's check; docs/identity.md), and a party acts "
                   "only once admitted; the allowlist stays the operator's override. "
                   "--allowlist-only: a closed deployment, only keys the operator allowed.")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS",
              help="A reverse proxy whose X-Forwarded-For names the client (repeatable). "
                   "Without one, the TCP peer is the client, whatever the headers say.")
@click.option("--witness", "witnesses", multiple=True, metavar="URL=VKEY",
              help="A witness to send checkpoints to (repeatable): its add-checkpoint prefix "
                   "URL and cosignature vkey (docs/witness.md).")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A c2sp.org/tlog-policy file: its `witness NAME VKEY URL` lines are "
                   "witnesses to send checkpoints to.")
@click.option("--config-json", hidden=True, default=None,
              help="Extra ServiceConfig settings as JSON (limits, coalescing; tests).")
@pass_app
def serve(app: AppContext, host: str, port: int, workers: int, open_appends: bool,
          admission: bool, trusted_proxies: tuple[str, ...], witnesses: tuple[str, ...],
          policy_file: Path | None, config_json: str | None) -> None:
    """Serve this home's registry over HTTP: POST /v1/statements, the static log, proofs.

    Prints one line with the URL; Ctrl-C stops it. The database is the home's (embedded SQLite)
    or REELRIGHTS_DATABASE_URL (PostgreSQL, for several processes or hosts)."""
    import uvicorn

    from ..api.app import ServiceConfig
    from ..api.factory import ENV, config_to_json

    home = app.home  # refuses a missing home, naming `reelrights init`
    settings = json.loads(config_json) if config_json else {}
    settings.setdefault("witnesses", _witnesses(witnesses, policy_file))
    try:
        config = ServiceConfig(home=Path(home.path), open_appends=open_appends,
                               **{"admission": admission, **settings})
    except TypeError as exc:
        raise BadInput(f"--config-json: {exc}") from None
    if open_appends:
        click.echo("warning: --open: statements signed by ANY key are accepted (no allowlist); "
                   "use it for demos and tests only", err=True)
    os.environ[ENV] = config_to_json(config)
    if workers > 1:  # each worker writes its metrics there; any worker's /metrics adds them up
        from ..api.metrics import prepare_multiprocess

        prepare_multiprocess(Path(home.path) / "run" / "metrics")
    from ..api.http_protocol import HeaderDeadlineProtocol

    ucfg = uvicorn.Config("reelrights.api.factory:from_env", factory=True, host=host, port=port,
                          workers=workers, loop="auto", http=HeaderDeadlineProtocol,
                          lifespan="on",
                          timeout_keep_alive=KEEP_ALIVE_S, limit_concurrency=LIMIT_CONCURRENCY,
                          h11_max_incomplete_event_size=MAX_HEADER_BYTES, backlog=2048,
                          timeout_graceful_shutdown=10, log_level="warning", access_log=False,
                          server_header=False,
                          # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: anyone on
                          # the host could then pick the address its rate limit is counted on
                          proxy_headers=bool(trusted_proxies),
                          forwarded_allow_ips=list(trusted_proxies) or None)
    from ..operate import check_published

    # Never fork: a database behind the log it published is refused here, in one line, exit 1,
    # before the port is taken (each worker's start checks again: docs/deploy.md).
    check_published(home, published=config.extra.get("published", ()))
    sock = ucfg.bind_socket()
    sock.listen(ucfg.backlog)  # connections wait in the backlog while the ledger opens
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"reelrights serving {home.path} at http://{shown}:{bound_port} "
               f"({workers} process{'es' if workers > 1 else ''}; Ctrl-C stops)", nl=True)
    import sys

    sys.stdout.flush()
    server = uvicorn.Server(ucfg)
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(ucfg, sockets=[sock]).run()
        else:
            server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on
        pass
    click.echo("reelrights stopped", err=True)


def _witnesses(options: tuple[str, ...], policy_file: Path | None) -> list[list[str]]:
    """[url, vkey] of each --witness and each witness line of --policy that names a URL."""
    from ..core.tlog_policy import parse_policy
    from ..service.witnessing import parse_witness_option

    out = [list(parse_witness_option(o)) for o in options]
    if policy_file is not None:
        try:
            policy = parse_policy(policy_file.read_bytes())
        except OSError as exc:
            raise BadInput(f"--policy {policy_file}: {exc.strerror}") from None
        for w in policy.witnesses:
            if w.url:
                out.append([w.url.rstrip("/"), w.verifier.vkey])
            else:
                click.echo(f"warning: --policy: witness {w.name} has no URL; checkpoints are "
                           "not sent to it", err=True)
    return out
