"""Accepting signed statements: every state change in reelrights goes through :meth:`Ledger.submit`.

One call is one batch and one transaction:

1. decode each entry (canonical RFC 8785 bytes, envelope shape, at most 65,535 bytes) and check
   its body against its type (:mod:`reelrights.catalogue`), in the calling thread
   (this holds the GIL; threads would only add switching);
2. start checking the signatures whose keys are already known (a party's key never changes)
   with libsodium, in worker processes for a large batch (:mod:`reelrights.log.workers`), so
   they are checked while steps 3 to 5 run;
3. lock the log head (serialising every writer), resolve the keys the first pass did not know,
   from the registry or, for ``party.registered``, from the body itself (proof of possession),
   and start checking those signatures too;
4. let the capability services apply their rows, run by run of the same type, in log order;
5. append the entries, the tiles they change and one signed checkpoint;
6. wait for every signature's verdict, commit, then bring the static tile folder up to date.

A large batch (at least :data:`~reelrights.log.workers.PROCESS_MIN` statements) first takes a
quicker road: this thread only parses the entries (unchecked) and applies and appends them,
while worker processes run steps 1 to 3 in full on two cores; the commit waits for their
verdict. On any fault at all, the batch is rolled back and goes down the road above, which
names the fault. So the rules and the errors are the same, and a good batch costs this thread
little more than its database work.

Errors keep the order of the steps: the first undecodable entry of the batch, then the first
unknown actor, then the first bad signature, then the services' refusals. A failure anywhere
before the commit rolls everything back: no row, no entry, no tile, no checkpoint. The error
names the statement's position in the batch.
"""

from __future__ import annotations

import base64
import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from . import admission
from .admission import Deployment
from .core.note import NoteSigner
from .catalogue import applier, catalogue, check_body, lookup
from .core.statement_types import OPERATOR
from .core.statements import (SignedStatement, decode_entry, make_leaf, make_leaves,
                              make_statement, read_entry, sign_statement,
                              verify_entry_signature)
from .errors import BadInput, Conflict, InvalidStatement, ReelrightsError, SignatureError
from .home import Home
from .log.mirror import publish_batch
from .log.workers import PROCESS_MIN, SignatureJob, check_signatures, first_refused_entry
from .log.database_log import AppendResult, Head, DatabaseLog
from .store.db import Database
from .store.tables import log_entries, parties

__all__ = ["Accepted", "Ledger", "Receipt", "applier", "apply_statements", "at", "each_statement"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """A statement that passed every check, with the log index it is about to take."""

    index: int
    statement: SignedStatement
    #: The log's time for this entry (RFC 3339 UTC): when the fact takes effect, whatever time
    #: the signer wrote. Appliers record this, never ``statement.time``.
    time: str = ""

    def __post_init__(self) -> None:
        if not self.time:
            object.__setattr__(self, "time", self.statement.time)


@dataclass
class Receipt:
    """What the registry returns for each accepted statement: where the log put it and when."""

    index: int
    type: str
    actor: str
    leaf_hash: str
    details: dict[str, Any] = field(default_factory=dict)
    #: The statement's id (v2) and the log's time of its entry (v2: in the leaf).
    statement_id: str | None = None
    log_time: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"index": self.index, "type": self.type, "actor": self.actor,
               "leaf_hash": self.leaf_hash}
        if self.statement_id is not None:
            out["statement"] = self.statement_id
        if self.log_time is not None:
            out["log_time"] = self.log_time
        return {**out, **self.details}


#: type name -> function applying a run of accepted statements; returns one details dict each.
Applier = Callable[[Connection, list[Accepted]], list[dict[str, Any]]]
#: SQLite, for the ledger's write connection: a page cache that holds the registry's indexes
#: (the default 2 MiB spills dirty pages into the WAL mid-batch and re-reads them), and a WAL
#: checkpoint every ~256 MiB instead of after every commit, so that a page rewritten by several
#: batches is copied into the database once. Neither weakens durability: synchronous=FULL
#: still fsyncs the WAL at every commit.
_SQLITE_WRITE_PRAGMAS = ("PRAGMA cache_size=-524288", "PRAGMA wal_autocheckpoint=65536")
#: How long a committed batch waits for this ledger's earlier batches to be published.
_PUBLISH_WAIT_S = 30.0
#: The worker processes' full check of an entry, against this catalogue (a picklable partial:
#: the log's workers know no catalogue of their own).
_REFUSED = partial(first_refused_entry, check_body=check_body)


@dataclass(slots=True)
class _Checked:
    """The decoded batch, before the write lock is taken."""

    stmts: list[SignedStatement] = field(default_factory=list)
    #: The first entry that failed to decode or to fit its type: (position, error).
    refused: tuple[int, ReelrightsError] | None = None
    #: Positions whose actor's key was known (or carried in the body), and those keys.
    known: list[int] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    #: Positions whose actor's key is not known yet: resolved under the lock.
    pending: list[int] = field(default_factory=list)
    #: Whether the batch registers parties (their keys then serve the rest of the batch).
    registers: bool = False


def _check_entries(entries: Sequence[bytes], known: dict[str, bytes]) -> _Checked:
    """Decode and type-check every entry, and find the keys that are already known.

    This runs in the calling thread: it holds the GIL throughout, so threads would only add
    switching. The signatures are checked elsewhere (:func:`check_signatures`).
    """
    out = _Checked()
    stmts = out.stmts
    for i, entry in enumerate(entries):
        try:
            s = decode_entry(entry)
            t = check_body(s.type, s.version, s.body, s.actor)
        except ReelrightsError as exc:
            out.refused = (i, exc)  # the first refusal wins; the rest of the batch is moot
            return out
        if s.log_time is not None:
            out.refused = (i, InvalidStatement(
                "this is a log leaf, not a signed statement: submit the signed statement "
                '(the value of "entry"); the log writes its own time'))
            return out
        stmts.append(s)
        if t.key_field is not None:
            out.registers = True
            key = base64.b64decode(s.body[t.key_field])
        else:
            key = known.get(s.actor)
        if key is None:
            out.pending.append(i)
        else:
            out.known.append(i)
            out.keys.append(key)
    return out


class Ledger:
    """The registry's write path over one database and one log."""

    def __init__(self, db: Database, log: DatabaseLog, mirror_dir: Path | None = None, *,
                 operator_key: bytes | None = None) -> None:
        self.db = db
        self.log = log
        self.mirror_dir = mirror_dir
        #: Parties this ledger registered, and the operator (the log's key signs its statements).
        self._keys: dict[str, bytes] = {} if operator_key is None else {OPERATOR: operator_key}
        #: Every key known to be its party's registered key (keys never change): the above and
        #: those read from the registry. The workers verify with these before the lock.
        self._verified_keys: dict[str, bytes] = dict(self._keys)
        self._deployment: Deployment | None = None  # read from the log once it is established
        self._writer: Connection | None = None  # SQLite: see _write()
        self._write_lock = threading.Lock()
        #: First indices of this ledger's batches that are appended (committed or about to be)
        #: but not yet in the static folder: see _publish().
        self._unpublished: set[int] = set()
        self._published = threading.Condition()

    @classmethod
    def open(cls, home: Home, *, publish: bool = True, establish: bool = True) -> Ledger:
        """The ledger of ``home``. Unless ``establish`` is False (only to keep writing a legacy
        v1 log), a log that has no ``registry.established`` statement yet gets it now: every
        statement after it is v2, bound to ``home.registry`` (docs/statements.md, "v2")."""
        key = home.log_key()
        signer = NoteSigner(home.origin, key.seed)
        ledger = cls(Database(home.database_url), DatabaseLog(home.origin, signer),
                     home.log_dir if publish else None, operator_key=key.public_key_bytes)
        if establish:
            ledger.establish(home.registry, key)
        return ledger

    # -- the registry this log serves ---------------------------------------------------------
    @property
    def registry(self) -> str:
        """The registry id statements must be signed for (after :meth:`establish`)."""
        return self.deployment().registry

    def deployment(self) -> Deployment:
        """The registry's rules, from its logged ``registry.established`` statement."""
        if self._deployment is None:
            with self.db.read() as conn:
                head = self.log.head_state(conn)
                if head.registry is None or head.v2_from is None:
                    raise BadInput("this log has no registry.established statement yet; open "
                                   "it with Ledger.open(home) to establish it")
                self._deployment = _deployment_at(conn, head)
        return self._deployment

    def establish(self, registry: str, log_key: Any, *,
                  clock_skew_s: int = admission.DEFAULT_CLOCK_SKEW_S,
                  submission_window_s: int = admission.DEFAULT_SUBMISSION_WINDOW_S) -> None:
        """Log the ``registry.established`` statement, once (idempotent across processes).

        Signed with the log's key (the operator's). It switches the log to v2 statements bound
        to ``registry``; the entries before it stay v1 and are verified under v1 rules."""
        with self.db.read() as conn:
            head = self.log.head_state(conn)
        if head.registry is not None:
            if head.registry != registry:
                raise BadInput(f"this log serves registry {head.registry!r}, not {registry!r}; "
                               "set the home's registry back (home.json)")
            return
        body = {"origin": self.log.origin, "log_key": self.log.signer.vkey,  # type: ignore[union-attr]
                "clock_skew_s": clock_skew_s, "submission_window_s": submission_window_s,
                "v1_entries": head.size}
        entry = sign_statement(make_statement("registry.established", OPERATOR, body,
                                              registry=registry), log_key)
        try:
            self.submit([entry])
        except Conflict:
            pass  # another process established it first
        self._deployment = None

    def new_statement(self, type_: str, actor: str, body: dict[str, Any], time: str | None = None,
                      *, supersedes: dict[str, Any] | None = None) -> dict[str, Any]:
        """An unsigned v2 statement for this registry. A type that replaces a fact names the
        current one in ``supersedes`` (read now: if it changes before the statement is logged,
        the statement is refused as stale, which is the point)."""
        if supersedes is None and type_ in admission.SUBJECTS:
            rule = admission.SUBJECTS[type_]
            if rule.mode != "new":
                with self.db.read() as conn:
                    supersedes = admission.current_fact(conn, rule.subject(body))
        return make_statement(type_, actor, body, time, registry=self.registry,
                              supersedes=supersedes)

    def close(self) -> None:
        """Release the SQLite write connection kept between batches (the next submit reopens
        one). Closing the last connection to the file checkpoints the WAL into it."""
        with self._write_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    # -- the write path ---------------------------------------------------------------------
    def submit(self, entries: Sequence[bytes]) -> list[Receipt]:
        """Accept a batch of signed statements, or refuse all of it."""
        if not entries:
            raise BadInput("nothing to submit; pass at least one signed statement")
        with _gc_paused():
            if len(entries) >= PROCESS_MIN:
                receipts = self._submit_checked_in_workers(entries)
                if receipts is not None:
                    return receipts
            return self._submit(entries)

    def _submit_checked_in_workers(self, entries: Sequence[bytes]) -> list[Receipt] | None:
        """A large batch, with every check in worker processes while this thread applies it.

        This thread only parses each entry (:func:`read_entry`, unchecked) to find its type,
        actor and key, then applies and appends the batch while the workers decode, type-check
        and verify every entry in full. The commit waits for their verdict. Anything at all
        going wrong before the commit (a refusal by a worker, an unknown actor, an applier's
        refusal, even an error from a body no check has vetted yet) rolls the batch back and
        returns None: the caller then runs the ordinary path (:meth:`_submit`), which finds the
        first fault in step order and words it. A failing batch costs twice; a good one spends
        this thread's time on the database only.
        """
        stmts: list[SignedStatement] = []
        known_pos: list[int] = []
        known_keys: list[bytes] = []
        pending: list[int] = []
        registers = False
        known = self._verified_keys
        key_fields: dict[tuple[str, int], Any] = {}
        try:
            for i, entry in enumerate(entries):
                s = read_entry(entry)
                kind = (s.type, s.version)
                key_field = key_fields.get(kind, _UNSEEN)
                if key_field is _UNSEEN:
                    key_field = key_fields[kind] = lookup(*kind).key_field
                if key_field is not None:
                    registers = True
                    key = base64.b64decode(s.body[key_field])
                else:
                    key = known.get(s.actor)
                if key is None:
                    pending.append(i)
                else:
                    known_pos.append(i)
                    known_keys.append(key)
                stmts.append(s)
        except Exception:  # noqa: BLE001 - the ordinary path says what is wrong
            return None
        jobs = [SignatureJob([entries[i] for i in known_pos], known_keys, known_pos,
                             check=_REFUSED)]
        queued = None
        try:
            with self._write() as conn:
                try:
                    head = self.log.lock_head(conn)
                    # Replays: the unique index on log_entries.statement_id refuses a logged id
                    # at the append (any fault sends the batch down the ordinary path, which
                    # looks the ids up and names the replay), so no lookup here.
                    log_time, deployment = self._admit(conn, head, stmts, look_up_ids=False)
                    if pending or registers:
                        keys = self._resolve_keys(conn, stmts)
                        jobs.append(SignatureJob([entries[i] for i in pending],
                                                 [keys[i] for i in pending], pending,
                                                 check=_REFUSED))
                    size = head.size
                    details = self._apply(conn, size, stmts, log_time)
                    leaves, leaf_hashes = _leaves(entries, stmts, log_time)
                    result = self._append(conn, head, stmts, leaves, leaf_hashes, log_time,
                                          deployment)
                    queued = self._queue_publish(result)
                    if any(job.first_bad() is not None for job in jobs):
                        raise _Retry
                except Exception as exc:  # noqa: BLE001
                    raise _Retry from exc  # rolled back; the commit's own errors pass through
        except _Retry:
            self._unqueue_publish(queued)
            return None  # (the log's cached right edge no longer matches the head: it reloads)
        except BaseException:
            self._unqueue_publish(queued)
            raise
        finally:
            for job in jobs:
                job.cancel()
        return self._accepted(stmts, leaf_hashes, size, details, result, log_time)

    def _submit(self, entries: Sequence[bytes]) -> list[Receipt]:
        total = len(entries)
        checked = _check_entries(entries, self._verified_keys)
        if checked.refused is not None:
            pos, exc = checked.refused
            self._raise_at(pos, total, lambda: _raise(exc))
        stmts = checked.stmts
        # The signatures whose keys are known are checked in the background from here on,
        # while the batch is applied; the commit waits for the answer.
        jobs = [check_signatures([(stmts[i], k) for i, k in zip(checked.known, checked.keys)],
                                 checked.known)]
        queued = None
        try:
            with self._write() as conn:
                head = self.log.lock_head(conn)
                size = head.size
                try:
                    log_time, deployment = self._admit(conn, head, stmts)
                except ReelrightsError:
                    if checked.pending or checked.registers:  # an unknown actor comes first
                        self._late_signatures(conn, stmts, checked).cancel()
                    self._refuse_bad_signature(stmts, jobs)
                    raise
                if checked.pending or checked.registers:
                    jobs.append(self._late_signatures(conn, stmts, checked))
                try:
                    details = self._apply(conn, size, stmts, log_time)
                    leaves, leaf_hashes = _leaves(entries, stmts, log_time)
                    result = self._append(conn, head, stmts, leaves, leaf_hashes, log_time,
                                          deployment)
                    queued = self._queue_publish(result)
                except ReelrightsError:
                    self._refuse_bad_signature(stmts, jobs)  # a bad signature comes first
                    raise
                self._refuse_bad_signature(stmts, jobs)
        except BaseException:
            self._unqueue_publish(queued)
            raise
        finally:
            for job in jobs:
                job.cancel()
        return self._accepted(stmts, leaf_hashes, size, details, result, log_time)

    def _admit(self, conn: Connection, head: Head, stmts: list[SignedStatement], *,
               look_up_ids: bool = True) -> tuple[str | None, Deployment | None]:
        """The log's own rules, under the head lock: the statements' format and registry, the
        log time and the signed times' bounds, and no statement id twice.

        Returns (log time, the deployment established by this batch or None). A legacy log
        (no registry.established yet) takes v1 statements, and no log time."""
        total = len(stmts)

        def refuse(pos: int, exc: ReelrightsError) -> None:
            self._raise_at(pos, total, lambda: _raise(exc))

        if head.registry is None:
            for pos, s in enumerate(stmts):
                if s.type == "registry.established":
                    if pos != 0 or total != 1:
                        refuse(pos, InvalidStatement("registry.established is submitted alone"))
                    if (s.body["origin"] != self.log.origin or self.log.signer is None
                            or s.body["log_key"] != self.log.signer.vkey):
                        refuse(pos, InvalidStatement(
                            f"registry.established must name this log's origin "
                            f"{self.log.origin!r} and its note key", "/statement/body"))
                    if s.body["v1_entries"] != head.size:
                        refuse(pos, InvalidStatement(
                            f"v1_entries must be the log's size ({head.size})",
                            "/statement/body/v1_entries"))
                    log_time = admission.log_time_after(head.time)
                    rules = Deployment(s.registry, s.body["clock_skew_s"],  # type: ignore[arg-type]
                                       s.body["submission_window_s"], head.size)
                    admission.check_times(stmts, log_time, rules, refuse)
                    admission.check_ids(conn, stmts, refuse)
                    return log_time, rules
                if s.format != 1:
                    refuse(pos, InvalidStatement(
                        "this log has no registry.established statement yet, so it takes only "
                        "v1 statements; open it with Ledger.open(home) to establish it"))
            return None, None
        rules = self._deployment
        if rules is None or rules.registry != head.registry:
            rules = self._deployment = _deployment_at(conn, head)
        registry = head.registry
        for pos, s in enumerate(stmts):
            if s.registry == registry and s.type != "registry.established":
                continue  # (v1 statements have no registry)
            if s.format != 2:
                refuse(pos, InvalidStatement(
                    "v1 statements are no longer accepted: this registry logs v2 statements "
                    f"since log index {head.v2_from}; sign it again as v2 (reelrights/statement/"
                    f"v2, registry {head.registry})", "/statement"))
            if s.registry != head.registry:
                refuse(pos, InvalidStatement(
                    f"this statement is signed for registry {s.registry!r}, not this one "
                    f"({head.registry!r}); a statement is valid only in the registry it names",
                    "/statement/registry"))
            if s.type == "registry.established":
                refuse(pos, Conflict(f"this registry was established at log index "
                                     f"{head.v2_from}; it is established once"))
        log_time = admission.log_time_after(head.time)
        admission.check_times(stmts, log_time, rules, refuse)
        if look_up_ids:
            admission.check_ids(conn, stmts, refuse)
        return log_time, None

    def _append(self, conn: Connection, head: Head, stmts: list[SignedStatement],
                leaves: list[bytes], leaf_hashes: list[bytes], log_time: str | None,
                established: Deployment | None) -> AppendResult:
        meta = [(s.type, s.actor, log_time or s.time, s.id) for s in stmts]
        return self.log.append(conn, head, leaves, leaf_hashes, meta, log_time=log_time,
                               registry=None if established is None else established.registry)

    def _accepted(self, stmts: list[SignedStatement], leaf_hashes: list[bytes], size: int,
                  details: list[dict[str, Any]], result: AppendResult,
                  log_time: str | None) -> list[Receipt]:
        """After the commit: remember the new keys, publish the tiles, and say what was logged."""
        self._remember_keys(stmts)
        self._publish(result)
        return [Receipt(size + i, s.type, s.actor, leaf_hashes[i].hex(), details[i], s.id,
                        log_time) for i, s in enumerate(stmts)]

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """``db.write()``; on an SQLite file, one connection kept for every batch.

        SQLite checkpoints the WAL into the database, and deletes it, whenever the last
        connection to the file closes. With a connection per transaction that is every batch,
        so every page a batch dirties was written twice, and each batch began with a cold page
        cache, re-reading the index pages it was about to change. The kept connection (used by
        one batch at a time, replaced if BEGIN, COMMIT or ROLLBACK fails) leaves checkpoints to
        ``wal_autocheckpoint`` and keeps its cache; SQLite still drops the cache when another
        connection has written in between. Durability is unchanged: synchronous=FULL.
        """
        if self.db.dialect != "sqlite" or ":memory:" in self.db.url:
            with self.db.write() as conn:
                yield conn
            return
        with self._write_lock:
            conn = self._writer
            if conn is None:
                conn = self.db.engine.connect()
                for pragma in _SQLITE_WRITE_PRAGMAS:
                    conn.exec_driver_sql(pragma)
                self._writer = conn
            with self._drop_writer_on_error(conn):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with self._drop_writer_on_error(conn):
                    conn.rollback()
                raise  # a refused batch, rolled back: the connection stays
            with self._drop_writer_on_error(conn):
                conn.commit()

    @contextmanager
    def _drop_writer_on_error(self, conn: Connection) -> Iterator[None]:
        """If BEGIN, COMMIT or ROLLBACK fails, the kept connection is replaced next batch."""
        try:
            yield
        except BaseException:
            self._writer = None
            conn.close()
            raise

    def _late_signatures(self, conn: Connection, stmts: list[SignedStatement],
                         checked: _Checked) -> SignatureJob:
        """Resolve the keys the decoding pass did not know, and start checking those signatures.

        Refuses the first unknown actor (in batch order). A party registered earlier in the
        batch signs the rest of the batch with the key its registration carries.
        """
        keys = self._resolve_keys(conn, stmts)  # refuses unknown actors, in order
        return check_signatures([(stmts[i], keys[i]) for i in checked.pending], checked.pending)

    def _refuse_bad_signature(self, stmts: list[SignedStatement],
                              jobs: list[SignatureJob]) -> None:
        found = [bad for job in jobs if (bad := job.first_bad()) is not None]
        if not found:
            return
        first = min(found)
        key = self._key_for(stmts, first)
        self._raise_at(first, len(stmts), lambda: verify_entry_signature(stmts[first], key))
        raise SignatureError(f"signature of statement {first + 1} does not verify")  # unreachable

    def _key_for(self, stmts: list[SignedStatement], pos: int) -> bytes:
        s = stmts[pos]
        t = lookup(s.type, s.version)
        if t.key_field is not None:
            return base64.b64decode(s.body[t.key_field])
        key = self._verified_keys.get(s.actor)
        if key is None:  # registered earlier in this same batch
            key = next(base64.b64decode(o.body[lookup(o.type, o.version).key_field])
                       for o in stmts[:pos] if o.actor == s.actor
                       and lookup(o.type, o.version).key_field is not None)
        return key

    @staticmethod
    def _raise_at(pos: int, total: int, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; if it fails in a batch of several, say which statement it was."""
        try:
            return fn()
        except ReelrightsError as exc:
            if total > 1:
                exc.message = f"statement {pos + 1} of {total}: {exc.message}"
                exc.args = (exc.message,)
            raise

    def _resolve_keys(self, conn: Connection, stmts: list[SignedStatement]) -> list[bytes]:
        known = dict(self._keys)
        missing = {s.actor for s in stmts if s.actor not in known} - {
            s.actor for s in stmts if s.type == "party.registered"}
        if missing:
            for chunk in _chunks(sorted(missing), 500):
                for row in conn.execute(select(parties.c.id, parties.c.public_key)
                                        .where(parties.c.id.in_(chunk))):
                    known[row.id] = self._verified_keys[row.id] = bytes(row.public_key)
        out = []
        for i, s in enumerate(stmts):
            t = lookup(s.type, s.version)
            if t.key_field is not None:
                key = base64.b64decode(s.body[t.key_field])
                known.setdefault(s.actor, key)
                out.append(key)
                continue
            key = known.get(s.actor)
            if key is None:
                self._raise_at(i, len(stmts), lambda s=s: _unknown_actor(s))
            out.append(key)  # type: ignore[arg-type]
        return out

    def _apply(self, conn: Connection, size: int, stmts: list[SignedStatement],
               log_time: str | None) -> list[dict]:
        return apply_statements(conn, [Accepted(size + i, s, log_time or s.time)
                                       for i, s in enumerate(stmts)])

    def _remember_keys(self, stmts: list[SignedStatement]) -> None:
        kinds = {(s.type, s.version) for s in stmts}
        fields = {k: f for k in kinds if (f := lookup(*k).key_field) is not None}
        if not fields:
            return
        for s in stmts:
            f = fields.get((s.type, s.version))
            if f is not None:
                self._keys[s.actor] = self._verified_keys[s.actor] = base64.b64decode(s.body[f])

    # -- the static folder ------------------------------------------------------------------
    def _queue_publish(self, result: AppendResult) -> int | None:
        """Note, while the batch holds the log head, that it will be published."""
        if self.mirror_dir is None:
            return None
        with self._published:
            self._unpublished.add(result.first_index)
        return result.first_index

    def _unqueue_publish(self, first: int | None) -> None:
        """The batch was rolled back: it will never be published."""
        if first is not None:
            with self._published:
                self._unpublished.discard(first)
                self._published.notify_all()

    def _publish(self, result: AppendResult) -> None:
        """Bring the static folder up to this batch, in log order.

        Several threads may submit through one ledger: while one batch holds the log head,
        the next is decoded and its signatures checked. So batches can reach this point out
        of order; a batch waits here for this ledger's earlier batches, so that each one
        writes its own tiles and bundles from memory instead of the later one finding a gap
        and re-reading it from the database. (Batches of other processes cannot be waited
        for: :func:`~reelrights.log.mirror.publish_batch` fills such gaps.) The wait is
        bounded, so a thread that died between its commit and its publish stalls nobody.
        """
        if self.mirror_dir is None:
            return
        first = result.first_index
        try:
            with self._published:
                self._published.wait_for(lambda: min(self._unpublished, default=first) >= first,
                                         timeout=_PUBLISH_WAIT_S)
            publish_batch(self.mirror_dir, result, self.log, self.db.read)
        finally:
            self._unqueue_publish(first)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a batch.

    A batch allocates tens of thousands of small containers (parsed statements, row tuples),
    none of them in cycles, and each collection would walk them and, now and then, the whole
    heap: about 10% of a large batch's time. Collection resumes after the batch, and the next
    allocations trigger it as usual. (If another thread paused it too, the last one to finish
    turns it back on: at worst a collection is late, never skipped for good.)
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_UNSEEN = object()


class _Retry(Exception):
    """The fast path gave up on a batch (rolled back): run the ordinary path."""


def _raise(exc: ReelrightsError) -> None:
    raise exc


def _leaves(entries: Sequence[bytes], stmts: list[SignedStatement],
            log_time: str | None) -> tuple[list[bytes], list[bytes]]:
    """The leaves the log appends (v2: each envelope wrapped with the log time) and their
    RFC 9162 leaf hashes."""
    if log_time is None:
        leaves = list(entries)
    elif all(s.registry is not None for s in stmts):  # v2 statements: always, after _admit
        leaves = make_leaves(entries, log_time)
    else:
        leaves = [make_leaf(e, log_time) if s.format == 2 else e for e, s in zip(entries, stmts)]
    sha = sha256
    return leaves, [sha(b"\x00" + leaf).digest() for leaf in leaves]


def _deployment_at(conn: Connection, head: Head) -> Deployment:
    """The rules of the registry.established statement at ``head.v2_from``."""
    row = conn.execute(select(log_entries.c.entry).where(log_entries.c.idx == head.v2_from)).one()
    s = decode_entry(bytes(row.entry))
    return Deployment(s.registry or "", s.body["clock_skew_s"], s.body["submission_window_s"],
                      int(head.v2_from or 0))


def _unknown_actor(s: SignedStatement) -> None:
    raise SignatureError(f"actor {s.actor} is not a registered party; register it with "
                         "`reelrights party add` (or submit its party.registered statement) first")


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]



def apply_statements(conn: Connection, accepted: list[Accepted]) -> list[dict[str, Any]]:
    """Write the registry rows of accepted statements, in log order, run by run of one type.

    The one place statements become rows: the ledger calls it inside its write transaction,
    and a rebuild or a verification replays the log through it, so both build the same tables.
    Returns one details dict per statement.
    """
    details: list[dict[str, Any]] = []
    start = 0
    total = len(accepted)
    stmts = [a.statement for a in accepted]

    def refuse(pos: int, exc: ReelrightsError) -> None:
        if total > 1:
            exc.message = f"statement {pos + 1} of {total}: {exc.message}"
            exc.args = (exc.message,)
        raise exc

    while start < total:
        type_name = accepted[start].statement.type
        end = start
        while end < total and accepted[end].statement.type == type_name:
            end += 1
        fn = catalogue().applier(type_name)
        if fn is None:
            raise BadInput(f"statement type {type_name} has no registry handler")
        try:
            details.extend(fn(conn, accepted[start:end]))
        except ReelrightsError as exc:
            pos = getattr(exc, "position", None)
            if total > 1 and pos is not None:
                exc.message = f"statement {start + pos + 1} of {total}: {exc.message}"
                exc.args = (exc.message,)
            raise
        start = end
    # Compare-and-swap last: the appliers name the domain's own refusals first (an unknown
    # license, one already revoked); this catches what they cannot, a stale or replayed
    # replacement of a fact that has changed since it was signed.
    if any(s.format == 2 for s in stmts):
        current = admission.check_supersedes(conn, stmts, refuse)
        if current:
            admission.record_current(conn, stmts, accepted[0].index, current)
    return details


def at(position: int, exc: ReelrightsError) -> ReelrightsError:
    """Mark an applier's error with the statement's position in its run (for batch messages)."""
    exc.position = position  # type: ignore[attr-defined]
    return exc


def each_statement(apply_one: Callable[[Connection, Accepted], dict[str, Any]]) -> Applier:
    """An applier that applies a run one statement at a time, in log order; a refusal names
    the statement's position in the run (see :func:`at`)."""
    def apply(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
        out = []
        for pos, a in enumerate(run):
            try:
                out.append(apply_one(conn, a))
            except ReelrightsError as exc:
                raise at(pos, exc) from None
        return out
    return apply
