"""Running the service: never fork, backups, the log key's custody, the compromise procedure.

* :mod:`.never_fork`: at start, the database's log head against every published checkpoint
  (:func:`check_published`); the same rule guards each batch
  (:class:`reelrights.log.published.PublishedFloor`);
* :mod:`.backup`: ``reelrights backup`` / ``restore`` of what the log cannot give back;
* :mod:`.key_shares`: the log key split among officers (SLIP-39), and combined again;
* :mod:`.freeze`: ``reelrights service freeze`` (:func:`writes_frozen` for the intake);
* :mod:`.succession`: a new origin whose first entry cites the old log's last checkpoint.

docs/deploy.md is the operator's manual for all of it.
"""

from __future__ import annotations

from .freeze import freeze, unfreeze, writes_frozen
from .never_fork import PUBLISHED_ENV, PublishedReport, check_published

__all__ = ["PUBLISHED_ENV", "PublishedReport", "check_published", "freeze", "unfreeze",
           "writes_frozen"]
