"""The fast appender and the plain reference one write the same log.

:class:`~reelrights.write.batched.BatchedAppender` (worker processes, the quick road for large
batches, a kept SQLite connection, ordered publishing, GC paused) and
:class:`~reelrights.write.appender.SequentialAppender` (everything in the calling thread, a
connection per batch) take the same batches, signed once, with the same clock, into two homes
that share their keys, origin and registry. Receipts, refusals, every table row, and every file
of the static folder must be byte for byte the same, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from test_database_log import file_tree

from reelrights.core.ids import new_id
from reelrights.core.note import NoteSigner
from reelrights.core.statement_types import OPERATOR
from reelrights.core.statements import make_statement, sign_statement
from reelrights.errors import ReelrightsError
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import BatchedAppender, Ledger, SequentialAppender
from reelrights.log import workers
from reelrights.store.tables import metadata

PG_URL = os.environ.get("REELRIGHTS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SIGNED_AT = "2026-12-03T09:59:00Z"


class Signer:
    """A party with a fresh key, signing v2 statements for ``registry`` at a fixed time."""

    def __init__(self, registry: str, name: str) -> None:
        self.registry, self.key, self.id = registry, PartyKey.generate(), new_id("party")
        self.name = name
        self.n = 0

    def registration(self) -> bytes:
        body = {"id": self.id, "kind": "studio", "name": self.name,
                "public_key": base64.b64encode(self.key.public_key_bytes).decode("ascii")}
        return self.sign("party.registered", body)

    def work(self) -> bytes:
        self.n += 1
        sha = hashlib.sha256(f"{self.id} {self.n}".encode()).hexdigest()
        body = {"id": new_id("work"), "kind": "film", "title": f"{self.name} work {self.n}",
                "owner": self.id, "assets": [{"sha256": sha, "size": 1000 + self.n,
                                              "media_type": "video/mp4", "category": "video",
                                              "name": f"w{self.n}.mp4"}]}
        return self.sign("work.registered", body)

    def sign(self, type_: str, body: dict[str, Any]) -> bytes:
        return sign_statement(make_statement(type_, self.id, body, SIGNED_AT,
                                             registry=self.registry), self.key)


def _forged(entry: bytes) -> bytes:
    return entry.replace(b' work ', b' w0rk ', 1)


def _second_database(kind: str, tmp_path: Path):
    """Another empty database of the same kind: (URL, drop)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'b.db'}", lambda: None
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", drop


def _rows(ledger: Ledger) -> dict[str, list[tuple]]:
    out = {}
    with ledger.db.read() as conn:
        for table in metadata.sorted_tables:
            keys = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                               for r in conn.execute(select(table).order_by(*keys))]
    return out


def test_both_appenders_write_the_same_log(backend_url: str, tmp_path: Path) -> None:
    kind = "sqlite" if backend_url.startswith("sqlite") else "postgresql"
    url_a = f"sqlite:///{tmp_path / 'a.db'}" if kind == "sqlite" else backend_url
    url_b, drop_b = _second_database(kind, tmp_path)
    home_a, _ = Home.init(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the same log key, origin and registry
    home_b = Home.open(tmp_path / "b")
    for home, url in ((home_a, url_a), (home_b, url_b)):
        home.database_url_setting = url
        home.save()
    now = ["2026-12-03T10:00:00.000000Z"]
    ledgers = {
        "batched": Ledger.open(home_a, establish=False, appender=BatchedAppender,
                               clock=lambda: now[0]),
        "sequential": Ledger.open(home_b, establish=False, appender=SequentialAppender,
                                  clock=lambda: now[0]),
    }
    try:
        _write_and_compare(home_a, ledgers, now)
    finally:
        for ledger in ledgers.values():
            ledger.close()
            ledger.db.dispose()
        drop_b()


def _write_and_compare(home: Home, ledgers: dict[str, Ledger], now: list[str]) -> None:
    registry, key = home.registry, home.log_key()
    big = workers.PROCESS_MIN + 40
    establishment = sign_statement(make_statement(
        "registry.established", OPERATOR,
        {"origin": home.origin, "log_key": NoteSigner(home.origin, key.seed).vkey,
         "clock_skew_s": 300, "submission_window_s": 72 * 3600, "v1_entries": 0},
        SIGNED_AT, registry=registry), key)
    p, q, r = (Signer(registry, n) for n in ("Northlight", "Harbour", "Quay"))
    newcomers = [Signer(registry, f"Newcomer {i}") for i in range(3)]
    good_big = [p.work() for _ in range(big - 6)] + [
        s.registration() for s in newcomers] + [s.work() for s in newcomers]
    replayed = [q.work() for _ in range(big)]
    replayed[300] = good_big[10]
    forged = [r.work() for _ in range(big)]
    forged[200], forged[400] = _forged(forged[200]), _forged(forged[400])
    stranger = Signer(registry, "Stranger")
    batches = [
        ("good", [establishment]),
        ("good", [p.registration(), q.registration(), r.registration()]),
        ("good", [p.work(), q.work(), r.work(), p.work()]),
        ("good", good_big),                         # the quick road (batched), parties inside
        ("refused", replayed),                      # a replay: the quick road gives up
        ("refused", forged),                        # two bad signatures: the first is named
        ("refused", [p.work(), _forged(q.work()), stranger.work()]),  # unknown actor first
        ("refused", [p.work(), p.work()[:-1]]),     # undecodable
        ("good", [q.work() for _ in range(big)]),
        ("good", [r.work() for _ in range(7)]),
    ]
    for step, (expect, batch) in enumerate(batches):
        now[0] = f"2026-12-03T10:{step:02d}:00.{step * 1111:06d}Z"
        outcome = {}
        for name, ledger in ledgers.items():
            try:
                outcome[name] = [r.to_json() for r in ledger.submit(batch)]
            except ReelrightsError as exc:
                outcome[name] = (type(exc).__name__, str(exc))
        assert outcome["batched"] == outcome["sequential"], f"batch {step}"
        assert isinstance(outcome["batched"], tuple) == (expect == "refused"), outcome["batched"]
    a, b = (_rows(ledger) for ledger in ledgers.values())
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], table
    assert len(a["log_entries"]) == 1 + 3 + 4 + big + big + 7
    dirs = [ledger.mirror_dir for ledger in ledgers.values()]
    assert dirs[0] != dirs[1] and file_tree(dirs[0]) == file_tree(dirs[1])  # type: ignore[arg-type]
