"""Hashing a training manifest into its commitment, on every core.

A 10,000,000-item manifest must commit in well under a minute, so the work is split into spans
of items that processes hash apart (see :func:`commit_manifest`):

1. The JSONL file is cut into byte ranges at line ends; the workers count the lines of each, so
   every span knows the index of its first item. Parquet row groups know their sizes already.
2. The salts are drawn as one block of ``os.urandom`` into the (still private, temporary)
   opening file, where each worker reads its own span's salts.
3. Each worker validates its lines, hashes the salted leaves, returns the roots of the aligned
   perfect subtrees of its span (:func:`reelrights.core.commitment.span_pieces`) and its totals.
   A line in the canonical form of a valid item (:data:`reelrights.core.manifest.FAST_LINE`) is
   its own canonical encoding: no JSON parse, no re-encoding. Any other line is parsed, checked
   field by field and encoded with :func:`reelrights.core.commitment.encode_item`.
4. The pieces are joined into the root; the first bad line of the file, if any, is reported.

Small manifests skip the process pool.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..core.commitment import (
    OPENING_HEADER_SIZE,
    SALT_SIZE,
    combine_pieces,
    encode_item,
    opening_header,
    span_pieces,
)
from ..core.manifest import (
    FAST_LINE,
    FAST_RAW_KEY_GROUPS,
    FAST_UNITS_GROUP,
    PARQUET_COLUMNS,
    check_item,
    check_key,
    fast_key,
    group_key,
    item_from_row,
)
from ..core.run_totals import Tally
from ..errors import BadInput, ReelrightsError

__all__ = ["ManifestDigest", "commit_manifest", "parse_item_line", "read_items"]

_T = TypeVar("_T")

_CHUNK = 8 << 20  # bytes of JSONL per task
_POOL_MIN = 16 << 20  # smaller manifests are hashed in this process
_URANDOM_BLOCK = 16 << 20


@dataclass(frozen=True)
class ManifestDigest:
    """A manifest's commitment: root, count, totals, and the manifest file's own SHA-256."""

    root: bytes
    count: int
    tally: Tally
    manifest_sha256: bytes


class _LineError(Exception):
    """A bad line (1-based line or row number, message): the lowest one is reported."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message


def parse_item_line(line: bytes) -> dict[str, Any]:
    """One JSONL line as a validated item (BadInput names the problem, not the line)."""
    if not line.strip():
        raise BadInput("is empty; remove blank lines (one item per line)")
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise BadInput(f"is not valid JSON ({exc})") from None
    return check_item(item)


def _canonical_line(line: bytes) -> tuple[bytes, tuple, int]:
    """(canonical bytes, group key, units) of a line that FAST_LINE did not match."""
    item = parse_item_line(line)
    return encode_item(item), group_key(item), item["units"]


def _hash_lines(lines: list[Any], salts: bytes, start: int, first_line: int,
                slow: Callable[[int], tuple[bytes, tuple, int]]) -> tuple[list, dict]:
    """Leaves of ``lines`` -> (pieces of the span, str-keyed totals). Raises _LineError.

    The totals are kept per raw (prefix, unit) key of the match, the line's text up to
    ``"sha256"`` and its unit, and decoded once per group at the end.
    """
    match = FAST_LINE.fullmatch
    sha = hashlib.sha256
    kg = FAST_RAW_KEY_GROUPS
    ug = FAST_UNITS_GROUP
    hashes: list[bytes] = []
    push = hashes.append
    fast: dict[tuple, list[int]] = {}
    names: dict[tuple, tuple] = {}  # raw bytes key -> str key, decoded once per group
    other = Tally()
    pos = 0
    for line in lines:
        m = match(line) if line is not None else None
        salt = salts[pos:pos + SALT_SIZE]
        pos += SALT_SIZE
        if m is not None:
            push(sha(b"\x00" + salt + line).digest())
            key = m.group(*kg)
            g = fast.get(key)
            if g is None:
                fast[key] = [1, int(m.group(ug))]
                names[key] = fast_key(m)
            else:
                g[0] += 1
                g[1] += int(m.group(ug))
            continue
        i = pos // SALT_SIZE - 1
        try:
            canonical, skey, units = slow(i)
        except ReelrightsError as exc:
            raise _LineError(first_line + i, exc.message) from None
        push(sha(b"\x00" + salt + canonical).digest())
        other.add(skey, units)
    tally = Tally()
    for key, (n, units) in fast.items():
        tally.add(names[key], units, n)
    tally.merge(other)
    bad_keys = []
    for skey in tally.groups:
        try:
            check_key(skey)
        except BadInput:
            bad_keys.append(skey)
    if bad_keys:
        _raise_first_bad(lines, set(bad_keys), first_line, slow)
    return span_pieces(start, hashes), tally.groups


def _raise_first_bad(lines: list[Any], bad: set, first_line: int,
                     slow: Callable[[int], tuple[bytes, tuple, int]]) -> None:
    for i, line in enumerate(lines):
        m = FAST_LINE.fullmatch(line) if line is not None else None
        key = fast_key(m) if m is not None else slow(i)[1]
        if key in bad:
            try:
                check_key(key)
            except BadInput as exc:
                raise _LineError(first_line + i, exc.message) from None


# -- JSONL ------------------------------------------------------------------------------------------
def _jsonl_spans(path: Path, size: int, chunk: int) -> list[tuple[int, int]]:
    """Byte ranges of about ``chunk`` bytes, each ending just after a newline (or at EOF)."""
    bounds = [0]
    with open(path, "rb") as f:
        pos = chunk
        while pos < size:
            f.seek(pos)
            f.readline()
            pos = f.tell()
            if pos >= size:
                break
            bounds.append(pos)
            pos += chunk
    bounds.append(size)
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _read(path: str, lo: int, hi: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(lo)
        return f.read(hi - lo)


def _split(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def _count_lines(path: str, lo: int, hi: int) -> int:
    data = _read(path, lo, hi)
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def _read_salts(opening: str, start: int, n: int) -> bytes:
    return _read(opening, OPENING_HEADER_SIZE + start * SALT_SIZE,
                 OPENING_HEADER_SIZE + (start + n) * SALT_SIZE)


def _jsonl_task(path: str, lo: int, hi: int, start: int, opening: str) -> Any:
    lines = _split(_read(path, lo, hi))
    salts = _read_salts(opening, start, len(lines))
    try:
        return _hash_lines(lines, salts, start, start + 1, lambda i: _canonical_line(lines[i]))
    except _LineError as exc:
        return exc


# -- Parquet ----------------------------------------------------------------------------------------
def _parquet_lines(table: Any) -> list[Any]:
    """Canonical JSONL candidates for each row, built column-wise in Arrow (None: row is odd).

    A candidate that FAST_LINE accepts is exactly the row's canonical item; anything else (an
    odd row, a string needing escapes) goes through :func:`item_from_row` and the checks.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    present = {f.name for f in table.schema if not pa.types.is_null(f.type)}  # all-null: absent
    for field in table.schema:  # only plain string columns and integer units take this path
        if field.name in present and not (
                pa.types.is_integer(field.type) if field.name == "units"
                else pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            return [None] * n
    col = {name: (table.column(name) if name in present else pa.nulls(n, pa.string()))
           for name in PARQUET_COLUMNS}
    join = pc.binary_join_element_wise

    def opt(name: str) -> Any:
        return join(f'"{name}":"', col[name], '",', "")

    btype = col["basis_type"]
    is_lic = pc.fill_null(pc.equal(btype, "license"), False)
    is_open = pc.fill_null(pc.equal(btype, "open-license"), False)
    stray = pc.or_(pc.and_(pc.invert(is_lic), pc.or_(pc.is_valid(col["bundle"]),
                                                     pc.is_valid(col["license"]))),
                   pc.and_(pc.invert(is_open), pc.is_valid(col["spdx"])))
    basis = pc.if_else(is_lic, join('{"bundle":"', col["bundle"], '","license":"', col["license"],
                                    '","type":"license"}', ""),
                       pc.if_else(is_open, join('{"spdx":"', col["spdx"], '","type":"open-license"}', ""),
                                  join('{"type":"', btype, '"}', "")))
    units = pc.cast(col["units"], pa.string()) if n else pa.nulls(0, pa.string())
    line = join("{", opt("acquired"), '"basis":', basis, ",", opt("content_type"), opt("dataset"),
                '"kind":"', col["kind"], '",', opt("language"), '"sha256":"', col["sha256"],
                '","unit":"', col["unit"], '","units":', units, "}", "",
                null_handling="skip")
    # Required columns must be present: a skipped null required piece would still match nothing,
    # but mark such rows odd explicitly, with rows carrying stray basis columns.
    required_ok = pc.and_(pc.and_(pc.is_valid(col["kind"]), pc.is_valid(col["sha256"])),
                          pc.and_(pc.and_(pc.is_valid(col["unit"]), pc.is_valid(col["units"])),
                                  pc.and_(pc.is_valid(btype), pc.is_valid(basis))))
    line = pc.if_else(pc.and_(required_ok, pc.invert(stray)), line, pa.nulls(n, pa.string()))
    return pc.cast(line, pa.binary()).to_pylist()


def _parquet_row(table: Any, i: int) -> tuple[bytes, tuple, int]:
    row = {k: v for k, v in table.slice(i, 1).to_pylist()[0].items()}
    item = check_item(item_from_row(row))
    return encode_item(item), group_key(item), item["units"]


def _parquet_task(path: str, group: int, start: int, opening: str) -> Any:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    unknown = [c for c in pf.schema_arrow.names if c not in PARQUET_COLUMNS]
    if unknown:
        return _LineError(start + 1, f"column {unknown[0]!r} is not a manifest column "
                          f"(allowed: {', '.join(PARQUET_COLUMNS)})")
    table = pf.read_row_group(group)
    lines = _parquet_lines(table)
    salts = _read_salts(opening, start, len(lines))
    try:
        return _hash_lines(lines, salts, start, start + 1, lambda i: _parquet_row(table, i))
    except _LineError as exc:
        return exc


# -- the driver -------------------------------------------------------------------------------------
class _Inline(Executor):
    """Runs tasks in this process (small manifests, or ``workers=1``)."""

    def map(self, fn: Callable[..., _T], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[_T]:
        return iter([fn(*args) for args in zip(*iterables)])  # eager: done before it returns


@contextmanager
def _executor(workers: int, big: bool) -> Iterator[Executor]:
    if workers <= 1 or not big:
        yield _Inline()
        return
    # fork: the workers only read files, match and hash, and need no re-import of __main__.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        yield pool


def _write_salts(opening: Path, count: int, salts: bytes | None = None) -> None:
    """The opening file's placeholder header and ``count`` fresh salts (mode 0600)."""
    if salts is not None and len(salts) != count * SALT_SIZE:
        raise BadInput(f"{len(salts)} bytes of salt for {count} items; pass {SALT_SIZE} per item")
    fd = os.open(opening, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(opening_header(b"\0" * 32, count))
        if salts is not None:
            f.write(salts)
            return
        left = count * SALT_SIZE
        while left:
            block = min(left, _URANDOM_BLOCK)
            f.write(os.urandom(block))
            left -= block


def _file_sha256(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.digest()


def is_parquet(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def commit_manifest(path: Path, opening: Path, workers: int | None = None,
                    salts: bytes | None = None) -> ManifestDigest:
    """Validate and hash ``path`` (JSONL or Parquet); write fresh salts to ``opening``.

    ``salts`` (16 bytes per item) replaces the fresh ones: only to re-derive a commitment
    (the same items and salts give the same root, whatever the file format).

    ``opening`` must not exist; it is created 0600 and holds the header and salts. On any error
    it is removed and the error names the manifest, the line (or row) and the field.
    """
    workers = workers or os.cpu_count() or 1
    size = path.stat().st_size
    big = size >= _POOL_MIN
    parquet = is_parquet(path)
    try:
        with _executor(workers, big) as ex:
            if parquet:
                import pyarrow.parquet as pq

                try:
                    meta = pq.ParquetFile(path).metadata
                except Exception as exc:  # noqa: BLE001  (pyarrow raises several types)
                    raise BadInput(f"{path}: not a readable Parquet file ({exc})") from None
                counts = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
            else:
                spans = _jsonl_spans(path, size, _CHUNK)
                counts = list(ex.map(_count_lines, [str(path)] * len(spans),
                                     [a for a, _ in spans], [b for _, b in spans]))
            starts = [sum(counts[:i]) for i in range(len(counts))]
            count = sum(counts)
            if count == 0:
                raise BadInput(f"{path} has no items; a run commits to at least one")
            _write_salts(opening, count, salts)
            if parquet:
                pending = ex.map(_parquet_task, [str(path)] * len(counts), range(len(counts)),
                                 starts, [str(opening)] * len(counts))
            else:
                pending = ex.map(_jsonl_task, [str(path)] * len(spans), [a for a, _ in spans],
                                 [b for _, b in spans], starts, [str(opening)] * len(spans))
            digest = _file_sha256(path)  # runs while the workers hash
            results = list(pending)
        errors = [r for r in results if isinstance(r, _LineError)]
        if errors:
            first = min(errors, key=lambda e: e.line)
            what = "row" if parquet else "line"
            raise BadInput(f"{path} {what} {first.line}: {first.message}; fix it and commit again "
                           "(nothing was written)")
        tally = Tally()
        pieces = []
        for r in results:
            pieces.extend(r[0])
            tally.merge(r[1])
        n, root = combine_pieces(pieces)
        assert n == count, (n, count)
        with open(opening, "r+b") as f:
            f.write(opening_header(digest, count))
        return ManifestDigest(root, count, tally, digest)
    except BaseException:
        opening.unlink(missing_ok=True)
        raise


def read_items(path: Path) -> list[dict[str, Any]]:
    """Every item of a small manifest, validated (for audits and tests; JSONL or Parquet)."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
        out = []
        for i, row in enumerate(rows):
            try:
                out.append(check_item(item_from_row(row)))
            except BadInput as exc:
                raise BadInput(f"{path} row {i + 1}: {exc.message}") from None
        return out
    out = []
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            try:
                out.append(parse_item_line(line.rstrip(b"\r\n") if line.endswith(b"\n") else line))
            except BadInput as exc:
                raise BadInput(f"{path} line {i + 1}: {exc.message}") from None
    return out
