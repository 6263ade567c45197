"""Training manifest items: the closed schema, its validation, and the fast line matcher.

A developer's manifest lists one item per training file: its content hash, media kind, size in
units, and the legal basis it is used under. The schema is closed (an unknown field is refused
with its name), because whatever is committed is what an auditor will hold the developer to.

Pure functions, no I/O. Callers add the file name and line number to every error message.

Item (JSON object, one per JSONL line; in Parquet the basis is flattened into the columns
``basis_type``, ``license``, ``bundle``, ``spdx``)::

    {"sha256": "<64 hex>", "kind": "video"|"audio"|"text"|"image", "units": <int >= 0>,
     "unit": "seconds"|"frames"|"tokens"|"images", "basis": B,
     "acquired"?: "YYYY-MM", "language"?: "en", "dataset"?: "<public id or URL>",
     "content_type"?: "film"|"tv"|...}

``B`` is ``{"type":"license","license":"lic_...","bundle":"bnd_..."}``, ``{"type":"own"}``,
``{"type":"public-domain"}`` or ``{"type":"open-license","spdx":"CC-BY-4.0"}``.

:data:`FAST_LINE` matches exactly the RFC 8785 form of a valid item whose free-text fields are
printable ASCII. For such a line the canonical bytes *are* the line, so a commit needs neither a
JSON parse nor a re-encoding; everything else goes through :func:`check_item`.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadInput
from .ids import ID_PATTERNS

__all__ = ["BASIS_TYPES", "CONTENT_TYPES", "FAST_LINE", "KINDS", "KIND_UNITS", "SPDX_IDS",
           "UNITS", "GroupKey", "check_item", "check_key", "group_key", "item_from_row",
           "PARQUET_COLUMNS"]

KINDS = ("video", "audio", "text", "image")
UNITS = ("seconds", "frames", "tokens", "images")
#: Which unit measures which kind (frames only for video; a still image is one image).
KIND_UNITS = {"video": ("seconds", "frames"), "audio": ("seconds",), "text": ("tokens",),
              "image": ("images",)}
BASIS_TYPES = ("license", "own", "public-domain", "open-license")
#: Content types, in the words of the EU template's field 1.3.c.
CONTENT_TYPES = ("film", "tv", "episode", "short", "documentary", "animation", "trailer",
                 "music-video", "music", "score", "sound-effects", "voice", "audiobook",
                 "podcast", "script", "book", "subtitles", "article", "fiction", "non-fiction",
                 "still", "artwork", "photo", "storyboard", "other")
#: SPDX ids of licenses commonly used for open content and data (SPDX License List 3.x).
#: ``LicenseRef-...`` ids are accepted too (SPDX 2.3 §10.1).
SPDX_IDS = frozenset({
    "CC0-1.0", "CC-BY-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-3.0", "CC-BY-4.0",
    "CC-BY-SA-1.0", "CC-BY-SA-2.0", "CC-BY-SA-2.5", "CC-BY-SA-3.0", "CC-BY-SA-4.0",
    "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-ND-4.0", "CC-PDDC",
    "PDDL-1.0", "ODC-By-1.0", "ODbL-1.0", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0", "OGL-UK-3.0", "etalab-2.0", "DL-DE-BY-2.0", "GFDL-1.3-only",
    "GFDL-1.3-or-later", "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC",
    "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later",
    "LGPL-2.1-only", "LGPL-3.0-only", "MPL-2.0", "Unlicense", "OFL-1.1", "Artistic-2.0",
})
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]{1,60}")
_SHA = re.compile(r"[0-9a-f]{64}")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")
_BUNDLE = re.compile(ID_PATTERNS["bundle"])
_LICENSE = re.compile(ID_PATTERNS["license"])
MAX_UNITS = 2**53 - 1
_ITEM_FIELDS = ("sha256", "kind", "units", "unit", "basis", "acquired", "language", "dataset",
                "content_type")
_REQUIRED = ("sha256", "kind", "units", "unit", "basis")
_BASIS_FIELDS = {"license": ("type", "license", "bundle"), "own": ("type",),
                 "public-domain": ("type",), "open-license": ("type", "spdx")}
PARQUET_COLUMNS = ("sha256", "kind", "units", "unit", "basis_type", "license", "bundle", "spdx",
                   "acquired", "language", "dataset", "content_type")

#: Grouping key of an item for the public totals: (kind, unit, basis_type, bundle, license,
#: spdx, acquired, content_type, language, dataset); absent parts are None.
GroupKey = tuple[Any, ...]

# JCS key order: acquired, basis, content_type, dataset, kind, language, sha256, unit, units;
# inside basis: bundle, license, spdx, type. Free text: printable ASCII except '"' and '\'.
# units: at most 15 digits (< 2**53), so the range check is the pattern itself.
_FAST_PREFIX = (
    rb'(?:"acquired":"([0-9]{4}-[0-9]{2})",)?'
    rb'"basis":\{(?:"bundle":"(bnd_[a-z2-7]{16})","license":"(lic_[a-z2-7]{16})","type":"license"'
    rb'|"spdx":"([A-Za-z0-9.+-]{1,72})","type":"open-license"|"type":"(own|public-domain)")\},'
    rb'(?:"content_type":"([a-z-]{1,32})",)?'
    rb'(?:"dataset":"([\x20\x21\x23-\x5b\x5d-\x7e]{1,300})",)?'
    rb'"kind":"(video|audio|text|image)",'
    rb'(?:"language":"([a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3})",)?')
_FAST_TAIL = (rb'"sha256":"[0-9a-f]{64}",'
              rb'"unit":"(seconds|frames|tokens|images)","units":(0|[1-9][0-9]{0,14})\}')
FAST_LINE = re.compile(rb'\{(' + _FAST_PREFIX + rb')' + _FAST_TAIL)
#: Group numbers in FAST_LINE for the key, in GroupKey order (basis_type comes from group 6).
FAST_KEY_GROUPS = (9, 11, 6, 3, 4, 5, 2, 7, 10, 8)
#: Group 1 spans every key field but the unit (the line up to "sha256"): (1, 11) identifies a
#: group as well as the ten fields, and is cheaper to hash.
FAST_RAW_KEY_GROUPS = (1, 11)
FAST_UNITS_GROUP = 12


def _fail(field: str, message: str) -> BadInput:
    return BadInput(f"field {field!r} {message}")


def _check_str(item: dict[str, Any], field: str, pattern: re.Pattern[str] | None = None,
               choices: tuple[str, ...] | frozenset[str] | None = None, hint: str = "") -> str:
    value = item[field]
    if type(value) is not str:
        raise _fail(field, "must be a string")
    if choices is not None and value not in choices:
        raise _fail(field, f"is {value!r}, not one of {', '.join(sorted(choices))}")
    if pattern is not None and not pattern.fullmatch(value):
        raise _fail(field, f"is {value!r}, not {hint}")
    return value


def check_spdx(value: str, field: str = "basis.spdx") -> None:
    """A shipped SPDX id or a ``LicenseRef-`` id."""
    if value not in SPDX_IDS and not _LICENSE_REF.fullmatch(value):
        raise _fail(field, f"is {value!r}, not a known SPDX license id (e.g. CC-BY-4.0, CC0-1.0) "
                    "or a LicenseRef-... id")


def _check_basis(basis: Any) -> None:
    if type(basis) is not dict:
        raise _fail("basis", "must be an object like {\"type\": \"own\"}")
    kind = basis.get("type")
    if kind not in _BASIS_FIELDS:
        raise _fail("basis.type", f"is {kind!r}, not one of {', '.join(BASIS_TYPES)}")
    allowed = _BASIS_FIELDS[kind]
    for name in basis:
        if name not in allowed:
            raise _fail(f"basis.{name}", f"is not allowed for basis type {kind!r} "
                        f"(allowed: {', '.join(allowed)})")
    for name in allowed:
        if name not in basis:
            raise _fail(f"basis.{name}", f"is required for basis type {kind!r}")
    if kind == "license":
        _check_str(basis, "license", _LICENSE, hint="a license id like lic_k3vq7xw2m4a6c5de")
        _check_str(basis, "bundle", _BUNDLE, hint="a bundle id like bnd_k3vq7xw2m4a6c5de")
    elif kind == "open-license":
        check_spdx(_check_str(basis, "spdx"))


def check_item(item: Any) -> dict[str, Any]:
    """Validate one manifest item; return it unchanged. Raises BadInput naming the field."""
    if type(item) is not dict:
        raise BadInput("must be a JSON object (one item per line)")
    for name in item:
        if name not in _ITEM_FIELDS:
            raise _fail(name, f"is not a manifest field (allowed: {', '.join(_ITEM_FIELDS)})")
    for name in _REQUIRED:
        if name not in item:
            raise _fail(name, "is missing; every item needs sha256, kind, units, unit and basis")
    _check_str(item, "sha256", _SHA, hint="a lowercase hex SHA-256 (64 characters)")
    kind = _check_str(item, "kind", choices=KINDS)
    unit = _check_str(item, "unit", choices=UNITS)
    if unit not in KIND_UNITS[kind]:
        raise _fail("unit", f"is {unit!r}, but {kind} is measured in {' or '.join(KIND_UNITS[kind])}")
    units = item["units"]
    if type(units) is not int or not 0 <= units <= MAX_UNITS:
        raise _fail("units", f"is {units!r}, not a whole number from 0 to {MAX_UNITS}")
    _check_basis(item["basis"])
    if "acquired" in item:
        _check_str(item, "acquired", _MONTH, hint="a month like 2025-06 (YYYY-MM)")
    if "language" in item:
        _check_str(item, "language", _LANG, hint="a BCP 47 language tag like en or pt-BR")
    if "content_type" in item:
        _check_str(item, "content_type", choices=CONTENT_TYPES)
    if "dataset" in item:
        ds = _check_str(item, "dataset")
        if not 1 <= len(ds) <= 300 or not ds.isprintable():
            raise _fail("dataset", "must be 1 to 300 printable characters (a dataset id or URL)")
    return item


def group_key(item: dict[str, Any]) -> GroupKey:
    """The totals key of a validated item (see :data:`GroupKey`)."""
    b = item["basis"]
    return (item["kind"], item["unit"], b["type"], b.get("bundle"), b.get("license"),
            b.get("spdx"), item.get("acquired"), item.get("content_type"), item.get("language"),
            item.get("dataset"))


def fast_key(m: re.Match[bytes]) -> GroupKey:
    """The :data:`GroupKey` of a FAST_LINE match, as str (basis type filled in)."""
    g = [None if v is None else v.decode("ascii") for v in m.group(*FAST_KEY_GROUPS)]
    if g[2] is None:
        g[2] = "license" if g[3] is not None else "open-license"
    return tuple(g)


def check_key(key: GroupKey) -> None:
    """The checks FAST_LINE leaves out (kind/unit pairing, month range, SPDX list, content type)."""
    kind, unit, btype, _bnd, _lic, spdx, acquired, ctype, _lang, _ds = key
    if unit not in KIND_UNITS[kind]:
        raise _fail("unit", f"is {unit!r}, but {kind} is measured in {' or '.join(KIND_UNITS[kind])}")
    if btype == "open-license":
        check_spdx(spdx)
    if acquired is not None and not _MONTH.fullmatch(acquired):
        raise _fail("acquired", f"is {acquired!r}, not a month like 2025-06 (YYYY-MM)")
    if ctype is not None and ctype not in CONTENT_TYPES:
        raise _fail("content_type", f"is {ctype!r}, not one of {', '.join(CONTENT_TYPES)}")


def item_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A manifest item from a flat Parquet row (None columns are absent fields)."""
    for name in row:
        if name not in PARQUET_COLUMNS:
            raise _fail(name, f"is not a manifest column (allowed: {', '.join(PARQUET_COLUMNS)})")
    btype = row.get("basis_type")
    basis: dict[str, Any] = {"type": btype}
    for name in ("license", "bundle", "spdx"):
        if row.get(name) is not None:
            basis[name] = row[name]
    item: dict[str, Any] = {"basis": basis}
    for name in ("sha256", "kind", "units", "unit", "acquired", "language", "dataset",
                 "content_type"):
        if row.get(name) is not None:
            item[name] = row[name]
    return item
