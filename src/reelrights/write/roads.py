"""The two roads a batch can take through the same steps.

The **ordinary road** checks each entry in full before the lock (:func:`~.decode.decode_batch`),
checks the signatures (in the background where the appender allows) and words every refusal,
in step order: the first undecodable entry, then the first unknown actor, then the first bad
signature, then the log's and the services' refusals.

The **quick road**, for a large batch, only parses the entries (:func:`~.decode.read_batch`)
while worker processes decode, type-check and verify every entry in full; the commit waits for
their verdict. On any fault at all (a refusal by a worker, an unknown actor, an applier's
refusal, even an error from a body no check has vetted yet) it gives up (:class:`GiveUp`): the
batch is rolled back and takes the ordinary road, which finds the first fault and words it. A
failing batch costs twice; a good one spends the writer's time on the database only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

from sqlalchemy import Connection

from ..catalogue import check_body
from ..core.statements import verify_entry_signature
from ..errors import ReelrightsError, SignatureError
from ..log.workers import PROCESS_MIN, SignatureJob, first_refused_entry
from .decode import Decoded, check_signatures, decode_batch, raising_at, read_batch
from .keys import KeyBook

__all__ = ["ORDINARY", "QUICK", "GiveUp", "Road"]


#: The worker processes' full check of an entry, against the catalogue (a picklable partial:
#: the log's workers know no catalogue of their own).
_REFUSED = partial(first_refused_entry, check_body=check_body)


class GiveUp(Exception):
    """The quick road gave up on a batch (rolled back): take the ordinary road."""


class Road:
    """The ordinary road (see the module docstring)."""

    #: Whether the log's rules look logged statement ids up (else the unique index refuses).
    looks_up_ids = True

    def decode(self, entries: Sequence[bytes], keys: KeyBook) -> Decoded:
        """Step 1: decode and type-check every entry; refuse the first that fails."""
        batch = decode_batch(entries, keys.verified, keys.rotated)
        batch.raise_refusal()
        return batch

    def check(self, batch: Decoded, positions: list[int], keys: list[bytes], *,
              background: bool, process_min: int = PROCESS_MIN) -> SignatureJob:
        """Step 2: start checking the signatures at ``positions`` with ``keys`` (in the worker
        processes from ``process_min`` signatures on, when ``background``)."""
        return check_signatures([(batch.stmts[i], k) for i, k in zip(positions, keys,
                                                                      strict=True)],
                                positions, background=background, process_min=process_min)

    @contextmanager
    def refusals_in_order(self, conn: Connection, batch: Decoded, jobs: list[SignatureJob],
                          keys: KeyBook) -> Iterator[None]:
        """Under the lock: a refusal of the log's rules or of a service comes after an unknown
        actor and after a bad signature (both checked first)."""
        try:
            yield
        except ReelrightsError:
            if (batch.pending or batch.registers) and len(jobs) == 1:
                keys.resolve(conn, batch.stmts)  # an unknown actor comes first
            self.verdict(batch, jobs, keys)  # then a bad signature
            raise

    def verdict(self, batch: Decoded, jobs: list[SignatureJob], keys: KeyBook) -> None:
        """Step 6: wait for every signature's verdict; refuse the first bad one, worded."""
        found = [bad for job in jobs if (bad := job.first_bad()) is not None]
        if not found:
            return
        first = min(found)
        stmts = batch.stmts
        key = keys.key_for(stmts, first)
        raising_at(first, len(stmts), lambda: verify_entry_signature(stmts[first], key))
        raise SignatureError(f"signature of statement {first + 1} does not verify")  # unreachable


class QuickRoad(Road):
    """The quick road (see the module docstring): every check in the workers, no wording."""

    looks_up_ids = False  # a replay faults at the append; the ordinary road names it

    def decode(self, entries: Sequence[bytes], keys: KeyBook) -> Decoded:
        try:
            return read_batch(entries, keys.verified, keys.rotated)
        except Exception as exc:
            raise GiveUp from exc

    def check(self, batch: Decoded, positions: list[int], keys: list[bytes], *,
              background: bool, process_min: int = PROCESS_MIN) -> SignatureJob:
        return SignatureJob([batch.entries[i] for i in positions], keys, positions,
                            check=_REFUSED, background=background, process_min=process_min)

    @contextmanager
    def refusals_in_order(self, conn: Connection, batch: Decoded, jobs: list[SignatureJob],
                          keys: KeyBook) -> Iterator[None]:
        try:
            yield
        except GiveUp:
            raise
        except Exception as exc:
            raise GiveUp from exc

    def verdict(self, batch: Decoded, jobs: list[SignatureJob], keys: KeyBook) -> None:
        if any(job.first_bad() is not None for job in jobs):
            raise GiveUp


ORDINARY = Road()
QUICK = QuickRoad()
