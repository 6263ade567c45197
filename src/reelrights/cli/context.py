"""What every command shares: the home, the ledger, and the output helpers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when first used: ``--help`` needs neither
    from ..home import Home
    from ..ledger import Ledger


class AppContext:
    def __init__(self, home_dir: str | None) -> None:
        self.home_dir = home_dir
        self._home: Home | None = None
        self._ledger: Ledger | None = None

    @property
    def home(self) -> Home:
        if self._home is None:
            from ..home import Home

            self._home = Home.open(self.home_dir)
        return self._home

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from ..replica import open_ledger  # a read-only replica refuses appends

            self._ledger = open_ledger(self.home)
        return self._ledger


    def database_label(self) -> str:
        """The database in use, fit for a message: the SQLite file, or the URL without password."""
        from sqlalchemy.engine import make_url

        if self._ledger is not None:
            url = self._ledger.db.engine.url
        elif self._home is not None:
            try:
                url = make_url(self._home.database_url)
            except Exception:  # noqa: BLE001 - a label for a message, never an error of its own
                return ""
        else:
            return ""
        if url.get_backend_name() == "sqlite":
            return str(url.database or url)
        return url.render_as_string(hide_password=True)


pass_app = click.make_pass_decorator(AppContext)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    Console(soft_wrap=True).print(t)
