"""What every command shares: the home and the ledger (how they print: :mod:`.output`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported when first used: ``--help`` needs neither
    from ..home import Home
    from ..ledger import Ledger


class AppContext:
    """``home_dir``: --home; ``server``: --server (the CLI is then a client of that service, in
    a party's home that follows it: made at first use, :mod:`reelrights.replica.remote`)."""

    def __init__(self, home_dir: str | None, server: str | None = None) -> None:
        self.home_dir = home_dir
        self.server = server or None
        self._home: Home | None = None
        self._ledger: Ledger | None = None

    @property
    def home(self) -> Home:
        if self._home is None:
            if self.server is not None:
                from ..replica.remote import open_remote_home

                self._home = open_remote_home(self.home_dir, self.server)
            else:
                from ..home import Home

                self._home = Home.open(self.home_dir)
        return self._home

    @property
    def ledger(self) -> Ledger:
        """The home's ledger: the log's own; a read-only replica's, which refuses appends; or a
        party's home's, which submits to its server and reads its synced replica."""
        if self._ledger is None:
            from ..replica import open_ledger

            self._ledger = open_ledger(self.home)
        return self._ledger

    def close(self) -> None:
        """Release the ledger at the end of the command: a party's home's connections and HTTP
        client, and the log's own kept SQLite writer connection (closing it checkpoints the
        WAL now, not whenever the garbage collector frees the ledger: a later command, or a
        test, must not find the file system's space freed under it)."""
        if self._ledger is not None:
            self._ledger.close()


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
