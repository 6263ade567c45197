"""Accepting signed statements: every state change in reelrights goes through :meth:`Ledger.submit`.

One call is one batch and one transaction:

1. decode each entry (canonical RFC 8785 bytes, envelope shape, at most 65,535 bytes) and check
   its body against its type in the catalogue, and find the keys already known;
2. start checking the signatures whose keys are known (a key number names one key for good) with
   libsodium, in worker processes for a large batch, so that they are checked while steps 3
   to 5 run;
3. lock the log head (serialising every writer) and check the log's own rules (the statements'
   registry, the log time and the signed times' window, no statement id twice); resolve the
   keys the first pass did not know, from the registry or, for ``party.registered``, from the
   body itself (proof of possession), and start checking those signatures too; check that
   every key is in force at its statement's log index and log time (keys over time,
   :mod:`reelrights.core.key_history`);
4. let the capability services apply their rows, run by run of the same type, in log order;
5. append the entries (each wrapped with the log time), the tiles they change and one signed
   checkpoint;
6. wait for every signature's verdict, commit, then bring the static tile folder up to date.

Errors keep the order of the steps: the first undecodable entry of the batch, then the first
unknown actor, then the first bad signature, then the log's and the services' refusals. A
failure anywhere before the commit rolls everything back: no row, no entry, no tile, no
checkpoint. The error names the statement's position in the batch.

Where each step runs is the ledger's :class:`~reelrights.write.appender.Appender`:
:class:`~reelrights.write.batched.BatchedAppender` by default (worker processes, a kept SQLite
connection, publishing in log order across threads, no GC during a batch; a large batch first
takes the quick road of :mod:`reelrights.write.roads`), or the plain
:class:`~reelrights.write.appender.SequentialAppender`. The steps themselves live in
:mod:`reelrights.write`.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Sequence
from hashlib import sha256
from pathlib import Path
from typing import Any

from . import admission
from .admission import Deployment
from .catalogue import applier
from .core.note import NoteSigner
from .core.sealed import SealedEntry
from .core.statement_types import OPERATOR
from .core.statements import make_leaf, make_leaves, make_statement, sign_statement, utc_now
from .errors import BadInput, Conflict, WritesFrozen
from .home import Home
from .log.database_log import AppendResult, DatabaseLog, Head
from .log.published import PublishedFloor
from .sealed.store import keep_bodies
from .store.db import Database
from .write.accepted import Accepted, Receipt
from .write.admit import LogRules, deployment_at
from .write.appender import Appender, AppenderFactory, SequentialAppender
from .write.apply import apply_statements, at, each_statement
from .write.batched import BatchedAppender
from .write.decode import Decoded, check_signatures
from .write.frozen import FROZEN_FILE, frozen_reason
from .write.keys import KeyBook
from .write.roads import ORDINARY, QUICK, GiveUp, Road

__all__ = ["Accepted", "BatchedAppender", "Ledger", "Receipt", "SequentialAppender", "applier",
           "apply_statements", "at", "check_signatures", "each_statement"]


class Ledger:
    """The registry's write path over one database and one log.

    ``appender`` makes the machinery the steps run on (:class:`BatchedAppender` by default);
    ``clock`` gives the time now, written as log times are (a log time is never earlier than
    the previous batch's, whatever the clock says).
    """

    def __init__(self, db: Database, log: DatabaseLog, mirror_dir: Path | None = None, *,
                 operator_key: bytes | None = None,
                 appender: AppenderFactory = BatchedAppender,
                 clock: Callable[[], str] = utc_now) -> None:
        self.db = db
        self.log = log
        self.mirror_dir = mirror_dir
        self.keys = KeyBook(operator_key)
        #: The log's rules; ``clock`` gives the time now as log times are written.
        self.rules = LogRules(log, clock)
        self.appender: Appender = appender(db, log, mirror_dir)
        #: The operator's freeze flag (``reelrights service freeze``): no append while it is
        #: there. Set by :meth:`open` to the home's; None: never frozen.
        self.freeze_flag: Path | None = None
        if mirror_dir is not None and log.floor is None:
            log.floor = PublishedFloor(mirror_dir)  # never sign under what was published

    @classmethod
    def open(cls, home: Home, *, publish: bool = True, establish: bool = True,
             appender: AppenderFactory = BatchedAppender,
             clock: Callable[[], str] = utc_now) -> Ledger:
        """The ledger of ``home``. Unless ``establish`` is False (only to keep writing a legacy
        v1 log), a log that has no ``registry.established`` statement yet gets it now: every
        statement after it is v2, bound to ``home.registry`` (docs/statements.md, "v2").
        ``appender`` and ``clock``: see :class:`Ledger`."""
        key = home.log_key()
        signer = NoteSigner(home.origin, key.seed)
        log = DatabaseLog(home.origin, signer)
        log.floor = PublishedFloor(home.log_dir)  # published or not by this ledger: never fork
        ledger = cls(Database(home.database_url), log,
                     home.log_dir if publish else None, operator_key=key.public_key_bytes,
                     appender=appender, clock=clock)
        ledger.freeze_flag = home.path / FROZEN_FILE
        if establish:
            operator = home.operator_key()
            ledger.establish(home.registry, key, operator_key=None if operator is None
                             else operator.public_key_bytes)
        ledger.adopt_operator_key()
        return ledger

    def adopt_operator_key(self) -> None:
        """If the registry's establishment names the operator's own key, check the operator's
        statements with it (not with the log's key) from now on."""
        with self.db.read() as conn:
            if self.log.head_state(conn).registry is None:
                return
        deployment = self.deployment()
        if deployment.operator_key is not None:
            self.keys.operator(deployment.operator_key)

    # -- the registry this log serves ---------------------------------------------------------
    @property
    def registry(self) -> str:
        """The registry id statements must be signed for (after :meth:`establish`)."""
        return self.deployment().registry

    def deployment(self) -> Deployment:
        """The registry's rules, from its logged ``registry.established`` statement."""
        if self.rules.deployment is None:
            with self.db.read() as conn:
                head = self.log.head_state(conn)
                if head.registry is None or head.v2_from is None:
                    raise BadInput("this log has no registry.established statement yet; open "
                                   "it with Ledger.open(home) to establish it")
                self.rules.deployment = deployment_at(conn, head)
        return self.rules.deployment

    def establish(self, registry: str, log_key: Any, *,
                  clock_skew_s: int = admission.DEFAULT_CLOCK_SKEW_S,
                  submission_window_s: int = admission.DEFAULT_SUBMISSION_WINDOW_S,
                  predecessor: dict[str, str] | None = None,
                  operator_key: bytes | None = None,
                  key_rotation_wait_s: int = admission.DEFAULT_KEY_ROTATION_WAIT_S) -> None:
        """Log the ``registry.established`` statement, once (idempotent across processes).

        Signed with the log's key (the operator's). It switches the log to v2 statements bound
        to ``registry``; the entries before it stay v1 and are verified under v1 rules.
        ``predecessor`` ({origin, log_key, checkpoint}) names the log this one succeeds
        (:mod:`reelrights.operate.succession`); ``operator_key`` (public) the key the
        operator's later statements are signed with, apart from the log's key;
        ``key_rotation_wait_s`` how long a party's key rotation waits (docs/keys.md)."""
        with self.db.read() as conn:
            head = self.log.head_state(conn)
        if head.registry is not None:
            if head.registry != registry:
                raise BadInput(f"this log serves registry {head.registry!r}, not {registry!r}; "
                               "set the home's registry back (home.json)")
            return
        if self.log.signer is None:
            raise BadInput("the log was opened without its key; open it from its home to "
                           "establish the registry")
        body: dict[str, Any] = {
            "origin": self.log.origin, "log_key": self.log.signer.vkey,
            "clock_skew_s": clock_skew_s, "submission_window_s": submission_window_s,
            "v1_entries": head.size}
        if predecessor is not None:
            body["predecessor"] = predecessor
        if operator_key is not None:
            body["operator_key"] = base64.b64encode(operator_key).decode("ascii")
        if key_rotation_wait_s != admission.DEFAULT_KEY_ROTATION_WAIT_S:
            body["key_rotation_wait_s"] = key_rotation_wait_s
        entry = sign_statement(make_statement("registry.established", OPERATOR, body,
                                              registry=registry), log_key)
        with contextlib.suppress(Conflict):  # another process established it first
            self.submit([entry])
        self.rules.deployment = None

    def new_statement(self, type_: str, actor: str, body: dict[str, Any], time: str | None = None,
                      *, supersedes: dict[str, Any] | None = None,
                      signer: bytes | None = None,
                      sealed: dict[str, str] | None = None) -> dict[str, Any]:
        """An unsigned v2 statement for this registry. A type that replaces a fact names the
        current one in ``supersedes`` (read now: if it changes before the statement is logged,
        the statement is refused as stale, which is the point). Its ``key`` names the key
        ``signer`` (a public key) when the actor declared it, else the actor's signing key in
        force now (docs/keys.md). ``time`` defaults to the ledger's clock (the time now)."""
        time = time or self.rules.clock()
        if supersedes is None and type_ in admission.SUBJECTS:
            rule = admission.SUBJECTS[type_]
            if rule.mode != "new":
                with self.db.read() as conn:
                    supersedes = admission.current_fact(conn, rule.subject(body))
        return make_statement(type_, actor, body, time, registry=self.registry,
                              supersedes=supersedes, sealed=sealed,
                              key_seq=self.key_seq(actor, signer, time, type_))

    def key_seq(self, actor: str, signer: bytes | None = None, time: str | None = None,
                type_: str | None = None) -> int:
        """The key number a statement of ``actor`` names: ``signer``'s (a public key) when
        declared, else the actor's signing key in force at ``time`` (now)."""
        if actor == OPERATOR or type_ == "party.registered":
            return 0
        rules = self.deployment()
        with self.db.read() as conn:
            return self.keys.signing_seq(conn, rules.registry, rules.key_rotation_wait_s, actor,
                                         signer, time or utc_now())

    def close(self) -> None:
        """Release what the appender keeps between batches (the SQLite write connection: the
        next submit reopens one). Closing the last connection to the file checkpoints the WAL."""
        self.appender.close()

    # -- the write path ---------------------------------------------------------------------
    def submit(self, entries: Sequence[bytes]) -> list[Receipt]:
        """Accept a batch of signed statements, or refuse all of it (the steps: module doc)."""
        if not entries:
            raise BadInput("nothing to submit; pass at least one signed statement")
        if self.freeze_flag is not None and (why := frozen_reason(self.freeze_flag)):
            raise WritesFrozen(f"writes are frozen by the operator ({why}); nothing was "
                               "written: reads go on, and `reelrights service unfreeze` (the "
                               "operator) resumes writes")
        with self.appender.around_batch():
            if self.appender.quick_first(entries) and not any(
                    isinstance(e, SealedEntry) for e in entries):  # sealed: opened in step 1
                try:
                    return self._write(QUICK, entries)
                except GiveUp:
                    pass  # rolled back: the ordinary road finds the fault and words it
            return self._write(ORDINARY, entries)

    def _write(self, road: Road, entries: Sequence[bytes]) -> list[Receipt]:
        """One batch, step by step, on ``road``."""
        path, keys = self.appender, self.keys
        batch = road.decode(entries, keys)                                          # 1.
        jobs = [road.check(batch, batch.known, batch.keys, background=path.background,  # 2.
                           process_min=path.process_min)]
        token = None
        try:
            with path.transaction() as conn:
                head = self.log.lock_head(conn)                                     # 3.
                with road.refusals_in_order(conn, batch, jobs, keys):
                    log_time, established = self.rules.admit(conn, head, batch.stmts,
                                                             look_up_ids=road.looks_up_ids)
                    rules = self.rules.deployment
                    keys.refresh(conn, head.registry, admission.DEFAULT_KEY_ROTATION_WAIT_S
                                 if rules is None else rules.key_rotation_wait_s)
                    if batch.pending or batch.registers:
                        late = keys.resolve(conn, batch.stmts)
                        jobs.append(road.check(batch, batch.pending,
                                               [late[i] for i in batch.pending],
                                               background=path.background,
                                               process_min=path.process_min))
                    keys.check_in_force(batch.stmts, head.size, log_time)
                    accepted = [Accepted(head.size + i, s, log_time or s.time)
                                for i, s in enumerate(batch.stmts)]
                    details = apply_statements(conn, accepted)                       # 4.
                    keep_bodies(conn, accepted,  # sealed: body and salts, kept
                                [getattr(e, "leaves", None) for e in entries])
                    result = self._append(conn, head, batch, log_time, established)  # 5.
                    token = path.will_publish(result)
                    road.verdict(batch, jobs, keys)                                 # 6.
        except BaseException:
            path.wont_publish(token)  # (the log's cached right edge reloads next batch)
            raise
        finally:
            for job in jobs:
                job.cancel()
        keys.remember(batch.stmts)
        path.publish(result)
        return [Receipt(head.size + i, s.type, s.actor, result.leaf_hashes[i].hex(), details[i],
                        s.id, log_time) for i, s in enumerate(batch.stmts)]

    def _append(self, conn: Any, head: Head, batch: Decoded, log_time: str | None,
                established: Deployment | None) -> AppendResult:
        """The leaves (v2: each envelope wrapped with the log time), their RFC 9162 hashes, and
        the append of both with the batch's tiles and checkpoint."""
        stmts, entries = batch.stmts, batch.entries
        leaves: Sequence[bytes]
        if log_time is None:
            leaves = list(entries)
        elif all(s.registry is not None for s in stmts):  # v2 statements: always, after admit
            leaves = make_leaves(entries, log_time)
        else:
            leaves = [make_leaf(e, log_time) if s.format == 2 else e
                      for e, s in zip(entries, stmts)]
        meta = [(s.type, s.actor, log_time or s.time, s.id) for s in stmts]
        sha = sha256
        hashes = [sha(b"\x00" + leaf).digest() for leaf in leaves]
        return self.log.append(conn, head, leaves, hashes, meta, log_time=log_time,
                               registry=None if established is None else established.registry)
