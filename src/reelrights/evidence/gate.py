"""The training-time gate: feed the model only what ``check`` allows, and commit exactly that.

A developer wraps its training dataset::

    gate = TrainingGate.open(home, ledger, developer="prt_…", model_family="orbit",
                             manifest=Path("run-7.jsonl"), territory="US")
    for item in gate.wrap(dataset):          # logs run.started before the first item
        train_step(item)
    gate.commit(model="orbit-7b")            # run.committed over exactly the items yielded

Each item is described by ``describe(item)`` as a training-manifest item without its basis
(``sha256``, ``kind``, ``units``, ``unit`` and the optional fields of
:mod:`reelrights.core.manifest`); the default takes a mapping that has them. The gate asks its
:class:`~reelrights.rights.decisions.DecisionTable` (membership by hash, one verdict per bundle
set, no I/O per item) and

* yields an item whose verdict allows it under a license the run relies on, and writes its
  manifest line with the basis ``{"type": "license", "license": L, "bundle": B}``;
* yields an item described with a basis of its own (``own``, ``public-domain``,
  ``open-license``) unless the registry says another party registered that asset, and writes
  that basis (the developer answers for the claim in audits);
* refuses everything else, counting refusals by reason (:attr:`TrainingGate.refusals`).

The manifest (JSONL in canonical form, or Parquet for a ``.parquet`` path) is written as items
are yielded, so the commitment is exactly what the loader fed the model. ``run.started`` is
logged before the first item, naming the licenses the run relies on, and the commitment names
the same run, so its licenses are judged over the whole interval (docs/runs.md). The table is
reloaded every ``refresh_s`` seconds, so a license revoked during a run stops the gate.

The gate runs where the items are consumed: in a PyTorch ``DataLoader`` with worker processes,
gate the loader's output (each worker would otherwise write a manifest of its own).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import select

from ..core.commitment import encode_item
from ..core.manifest import KIND_UNITS, MAX_UNITS, PARQUET_COLUMNS, check_item
from ..errors import BadInput, Conflict, ReelrightsError
from ..home import Home
from ..ledger import Ledger
from ..rights.decisions import Decision, DecisionTable
from ..rights.policy import resolve_context
from ..store.tables import licenses
from .runs import commit_run, start_run

__all__ = ["TrainingGate", "describe_mapping"]

T = TypeVar("T")
_OWN_BASES = ("own", "public-domain", "open-license")
#: Parquet rows are buffered and written in groups of this many.
_PARQUET_GROUP = 65_536
#: The (kind, unit) pairs a manifest item may have.
_KIND_UNIT = frozenset((k, u) for k, units in KIND_UNITS.items() for u in units)


def describe_mapping(item: Any) -> dict[str, Any]:
    """The default description: a mapping with the manifest fields (``sha256``, ``kind``,
    ``units``, ``unit``, optionally ``basis`` and the optional fields); others are ignored."""
    if not isinstance(item, Mapping):
        raise BadInput(f"a dataset item is a {type(item).__name__}; pass describe= to say "
                       "how to read its sha256, kind, units and unit")
    return {k: item[k] for k in ("sha256", "kind", "units", "unit", "basis", "acquired",
                                 "language", "dataset", "content_type") if k in item}


class _ManifestWriter:
    """Canonical JSONL lines (or Parquet rows) of the items yielded, in order."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            raise Conflict(f"manifest {path} already exists; the gate writes a new manifest, "
                           "pass another path")
        self.path = path
        self.parquet = path.suffix == ".parquet"
        self._rows: list[dict[str, Any]] = []
        self._writer: Any = None
        self._file = None if self.parquet else path.open("xb")
        self.count = 0

    def write_line(self, line: bytes) -> None:
        """An item already in canonical form (the gate's fast path; JSONL only)."""
        assert self._file is not None
        self.count += 1
        self._file.write(line)

    def write(self, item: dict[str, Any]) -> None:
        self.count += 1
        if self._file is not None:
            self._file.write(encode_item(item) + b"\n")
            return
        b = item["basis"]
        self._rows.append({"sha256": item["sha256"], "kind": item["kind"],
                           "units": item["units"], "unit": item["unit"],
                           "basis_type": b["type"], "license": b.get("license"),
                           "bundle": b.get("bundle"), "spdx": b.get("spdx"),
                           **{k: item.get(k) for k in ("acquired", "language", "dataset",
                                                       "content_type")}})
        if len(self._rows) >= _PARQUET_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows:
            return
        table = pa.Table.from_pylist(self._rows, schema=_parquet_schema())
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)
        self._rows = []

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self.parquet:
            self._flush()
            if self._writer is None:  # no row at all: still an empty, readable file
                import pyarrow.parquet as pq

                pq.write_table(_parquet_schema().empty_table(), self.path)
            else:
                self._writer.close()
            self._writer = None


def _parquet_schema() -> Any:
    import pyarrow as pa

    types = {"units": pa.int64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in PARQUET_COLUMNS])


class TrainingGate:
    """A run's gate: decisions for one developer and context, the manifest it writes, and the
    refusals it counted. Build it with :meth:`open`."""

    def __init__(self, home: Home, ledger: Ledger, table: DecisionTable, *, developer: str,
                 model_family: str, relied_on: list[str], manifest: Path,
                 describe: Callable[[Any], dict[str, Any]] = describe_mapping,
                 refresh_s: float = 300.0, run_id: str | None = None) -> None:
        self.home, self.ledger, self.table = home, ledger, table
        self.developer, self.model_family = developer, model_family
        self.relied_on = relied_on
        self.describe = describe
        self.refresh_s = refresh_s
        self.manifest = _ManifestWriter(manifest)
        self.run_id = run_id
        self.started: dict[str, Any] | None = None
        self.allowed = 0
        #: Refused items by reason (the verdict's deciding reason, or the gate's own).
        self.refusals: Counter[str] = Counter()
        self._loaded_at = time.monotonic()
        self._committed = False
        #: Canonical ``{"basis":…,"kind":`` prefixes by (license, bundle), for the fast path.
        self._prefix: dict[tuple[str | None, str | None], bytes] = {}
        self._fast = describe is describe_mapping and not self.manifest.parquet

    @classmethod
    def open(cls, home: Home, ledger: Ledger, *, developer: str, model_family: str,
             manifest: Path, licenses_relied_on: Iterable[str] | None = None,
             territory: str | None = None, on: date | None = None, action: str = "train",
             describe: Callable[[Any], dict[str, Any]] = describe_mapping,
             refresh_s: float = 300.0) -> TrainingGate:
        """Load the developer's decisions. ``licenses_relied_on`` defaults to every license
        the developer holds that is not revoked; the gate allows items under those only."""
        with ledger.db.read() as conn:
            ctx = resolve_context(conn, licensee=developer, action=action,
                                  model_family=model_family, on=on, territory=territory)
            if licenses_relied_on is None:
                relied = list(conn.scalars(select(licenses.c.id)
                                           .where(licenses.c.licensee_id == ctx.licensee,
                                                  licenses.c.revoked_at.is_(None))
                                           .order_by(licenses.c.log_index)))
            else:
                relied = list(dict.fromkeys(licenses_relied_on))
            if not relied:
                raise BadInput(f"{ctx.licensee} holds no license in force to rely on; a gate "
                               "with none would refuse every licensed item (name --license)")
            table = DecisionTable(conn, ctx)
        return cls(home, ledger, table, developer=ctx.licensee, model_family=model_family,
                   relied_on=relied, manifest=Path(manifest), describe=describe,
                   refresh_s=refresh_s)

    def start(self, note: str | None = None) -> dict[str, Any]:
        """Log ``run.started`` (done before the first item if not called earlier)."""
        if self.started is None:
            self.started = start_run(self.home, self.ledger, self.developer, self.model_family,
                                     self.relied_on, run_id=self.run_id, note=note)
            self.run_id = self.started["id"]
        return self.started

    def admit(self, item: Any) -> bool:
        """Decide one item; on yes, write its manifest line. Callers normally use
        :meth:`wrap`; this is its body, for loaders that drive items themselves."""
        if self._fast and type(item) is dict and len(item) == 4 and "basis" not in item:
            done = self._admit_plain(item)
            if done is not None:
                return done
        try:
            desc = self.describe(item)
        except ReelrightsError as e:
            self.refusals[f"not described: {e}"] += 1
            return False
        sha = desc.get("sha256")
        basis = desc.get("basis")
        if basis is not None and basis.get("type") in _OWN_BASES:
            owner = self.table.owner(sha) if isinstance(sha, str) else None
            if owner is not None and owner != self.developer:
                self.refusals[f"asset is registered to {owner}: a declared "
                              f"{basis['type']} basis does not cover it"] += 1
                return False
        else:
            if not isinstance(sha, str):
                self.refusals["no sha256 in the item's description"] += 1
                return False
            d = self._licensed(sha)
            if d is None:
                return False
            desc["basis"] = {"type": "license", "license": d.license, "bundle": d.bundle}
        try:
            check_item(desc)
        except BadInput as e:
            self.refusals[f"not a manifest item: {e}"] += 1
            return False
        self.manifest.write(desc)
        self.allowed += 1
        return True

    def _licensed(self, sha: str) -> Decision | None:
        """The decision for a licensed item, or None (the refusal counted by its reason)."""
        d = self.table.decide(sha)
        if not d.verdict.allowed:
            self.refusals[d.verdict.reasons[-1] if d.verdict.reasons else "denied"] += 1
            return None
        if d.license not in self.relied_on:
            self.refusals[f"license {d.license} is not among those the run relies on"] += 1
            return None
        return d

    def _admit_plain(self, item: dict[str, Any]) -> bool | None:
        """The common item, ``{sha256, kind, units, unit}``, decided and written without
        building a description: a hash the table allows is a registered asset's (valid hex),
        so only kind, unit and units need checking; ``None`` sends the item the long way (it
        is then refused with the field named)."""
        sha = item.get("sha256")
        kind, unit, units = item.get("kind"), item.get("unit"), item.get("units")
        if (type(sha) is not str or (kind, unit) not in _KIND_UNIT or type(units) is not int
                or not 0 <= units <= MAX_UNITS):
            return None
        d = self._licensed(sha)
        if d is None:
            return False
        prefix = self._prefix.get((d.license, d.bundle))
        if prefix is None:
            prefix = self._prefix[(d.license, d.bundle)] = (
                f'{{"basis":{{"bundle":"{d.bundle}","license":"{d.license}",'
                f'"type":"license"}},"kind":"').encode()
        self.manifest.write_line(b"%s%s\",\"sha256\":\"%s\",\"unit\":\"%s\",\"units\":%d}\n" % (
            prefix, str(kind).encode(), sha.encode(), str(unit).encode(), units))
        self.allowed += 1
        return True

    def wrap(self, items: Iterable[T]) -> Iterator[T]:
        """Yield the items the gate allows, in order, logging ``run.started`` first."""
        self.start()
        admit, plain = self.admit, self._admit_plain
        fast = self._fast
        for n, item in enumerate(items, 1):
            # the clock, every 1,024 items
            if ((not n & 1023 or self.refresh_s <= 0)
                    and time.monotonic() - self._loaded_at > self.refresh_s):
                self.reload()
            if fast and type(item) is dict and len(cast(dict[str, Any], item)) == 4:
                ok = plain(cast(dict[str, Any], item))
                if ok is None:
                    ok = admit(item)
            else:
                ok = admit(item)
            if ok:
                yield item

    def torch_dataset(self, dataset: Iterable[T]) -> Any:
        """A ``torch.utils.data.IterableDataset`` yielding the gated items (PyTorch must be
        installed); Hugging Face ``datasets`` and WebDataset pipelines are plain iterables:
        pass them to :meth:`wrap`."""
        iterable_dataset: Any = import_module("torch.utils.data").IterableDataset  # optional
        gate = self

        class _Gated(iterable_dataset):
            def __iter__(self) -> Iterator[T]:
                return gate.wrap(dataset)

        return _Gated()

    def reload(self) -> None:
        with self.ledger.db.read() as conn:
            self.table.reload(conn)
        self._loaded_at = time.monotonic()

    def commit(self, model: str, base_model: str | None = None,
               description: str | None = None) -> dict[str, Any]:
        """Close the manifest and commit to it (``run.committed`` for this run)."""
        if self._committed:
            raise Conflict(f"run {self.run_id} is already committed")
        self.start()
        self.manifest.close()
        out = commit_run(self.home, self.ledger, self.manifest.path, self.developer,
                         self.model_family, model, base_model=base_model,
                         description=description, run_id=self.run_id)
        self._committed = True
        return {**out, "allowed": self.allowed, "refused": sum(self.refusals.values()),
                "refusals": dict(self.refusals.most_common())}

    def summary(self) -> str:
        """One line per refusal reason, most frequent first (for a training log)."""
        lines = [f"{self.allowed:,} items allowed, {sum(self.refusals.values()):,} refused"]
        lines += [f"  {n:,}  {why}" for why, n in self.refusals.most_common()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return json.dumps({"run": self.run_id, "allowed": self.allowed,
                           "refused": sum(self.refusals.values())})
