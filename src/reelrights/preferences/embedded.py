"""Preferences that travel with a file or a site: IPTC ``plus:DataMining`` in XMP, the CAWG
``cawg.training-mining`` assertion (and C2PA 1.x ``c2pa.training-mining``), and W3C TDMRep
``tdmrep.json``. Read into the categories of :mod:`.categories`; the IPTC packet is also written.
Pure: bytes or parsed JSON in.

IPTC Photo Metadata 2023.1 / Video Metadata Hub: ``plus:DataMining`` (PLUS LDF namespace
``http://ns.useplus.org/ldf/xmp/1.0/``), a URI of ``http://ns.useplus.org/ldf/vocab/``:

=====================================  ====================================================
value                                  categories
=====================================  ====================================================
``DMI-UNSPECIFIED``                    nothing stated
``DMI-ALLOWED``                        tdm allowed
``DMI-PROHIBITED-AIMLTRAINING``        train-ai disallowed
``DMI-PROHIBITED-GENAIMLTRAINING``     train-ai disallowed (it is generative training)
``DMI-PROHIBITED-EXCEPTSEARCHENGINE``  tdm, train-ai, ai-input disallowed; search allowed
``INDEXING``
``DMI-PROHIBITED``                     tdm disallowed
``DMI-PROHIBITED-SEECONSTRAINT``,      tdm disallowed: the terms are in ``plus:OtherConstraints``
``...-SEEEMBEDDEDRIGHTSEXPR``,         or a rights expression (a license in force can grant it)
``...-SEELINKEDRIGHTSEXPR``
=====================================  ====================================================

CAWG training-and-data-mining v1.1: ``entries`` keyed ``cawg.data_mining`` (tdm),
``cawg.ai_inference`` (ai-input), ``cawg.ai_generative_training`` and ``cawg.ai_training``
(train-ai), each ``{"use": "allowed" | "notAllowed" | "constrained"}``. ``constrained`` is
disallowed unless licensed (its ``constraints_info`` / ``constraint_info`` is kept in the note).
The same keys under ``c2pa.`` are read from the older ``c2pa.training-mining`` assertion.

TDMRep (W3C CG report 2024): an array of ``{location, tdm-reservation, tdm-policy?}``; the first
rule whose location matches the path applies: ``1`` is tdm disallowed (with the policy URL),
``0`` tdm allowed.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .categories import Preferences, Value

__all__ = ["CAWG_LABELS", "PLUS_NS", "PLUS_VOCAB", "find_xmp", "format_iptc_xmp",
           "parse_cawg", "parse_iptc_xmp", "parse_tdmrep"]

PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
CAWG_LABELS = ("cawg.training-mining", "c2pa.training-mining")
MAX_XMP = 1024 * 1024

_DMI: dict[str, dict[str, Value]] = {
    "DMI-UNSPECIFIED": {},
    "DMI-ALLOWED": {"tdm": "allowed"},
    "DMI-PROHIBITED-AIMLTRAINING": {"train-ai": "disallowed"},
    "DMI-PROHIBITED-GENAIMLTRAINING": {"train-ai": "disallowed"},
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": {"tdm": "disallowed", "train-ai": "disallowed",
                                                  "ai-input": "disallowed", "search": "allowed"},
    "DMI-PROHIBITED": {"tdm": "disallowed"},
    "DMI-PROHIBITED-SEECONSTRAINT": {"tdm": "disallowed"},
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": {"tdm": "disallowed"},
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": {"tdm": "disallowed"},
}
_CAWG_KEYS = {"data_mining": ("tdm",), "ai_inference": ("ai-input",),
              "ai_generative_training": ("train-ai",), "ai_training": ("train-ai",)}


class EmbeddedError(ValueError):
    """Embedded metadata that cannot be read; ``str()`` names the problem and the fix."""


def find_xmp(data: bytes) -> bytes | None:
    """The first XMP packet (``<x:xmpmeta …>…</x:xmpmeta>``) in a file's bytes, or None."""
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        return None
    end = data.find(b"</x:xmpmeta>", start)
    if end < 0 or end - start > MAX_XMP:
        return None
    return data[start:end + len(b"</x:xmpmeta>")]


def parse_iptc_xmp(packet: bytes) -> Preferences:
    """The preferences ``plus:DataMining`` states in an XMP packet (nothing if absent)."""
    try:
        root = SafeET.fromstring(packet, forbid_dtd=True)
    except DefusedXmlException:
        raise EmbeddedError("the XMP packet uses a DTD or entities, which are refused") from None
    except SafeET.ParseError as exc:
        raise EmbeddedError(f"the XMP packet is not well-formed XML ({exc})") from None
    name = "{" + PLUS_NS + "}DataMining"
    values: list[str] = []
    for el in root.iter():
        if el.get(name):
            values.append(el.get(name, ""))
        if el.tag == name:
            values.append((el.get("{" + RDF_NS + "}resource") or el.text or "").strip())
    if not values:
        return Preferences({}, ("XMP: no plus:DataMining",))
    out: dict[str, Value] = {}
    notes = []
    for v in values:
        code = v.removeprefix(PLUS_VOCAB)
        stated = _DMI.get(code)
        if stated is None:
            notes.append(f"XMP plus:DataMining {v!r} is not a PLUS data-mining value: ignored")
            continue
        for c, val in stated.items():
            if val == "disallowed" or c not in out:
                out[c] = val
        notes.append(f"XMP plus:DataMining {code}")
    return Preferences(out, tuple(notes))


def format_iptc_xmp(code: str, *, other_constraints: str, linked_policy: str | None) -> str:
    """An XMP packet with ``plus:DataMining`` = ``code`` (a key of the PLUS vocabulary),
    ``plus:OtherConstraints`` and, when given, an IPTC linked rights expression (ODRL)."""
    if code not in _DMI:
        raise ValueError(f"{code!r} is not a PLUS data-mining value")
    linked = ""
    if linked_policy:
        linked = (
            "   <Iptc4xmpExt:LinkedEncRightsExpr><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\n"
            "     <Iptc4xmpExt:RightsExprEncType>application/ld+json</Iptc4xmpExt:RightsExprEncType>\n"
            "     <Iptc4xmpExt:RightsExprLangId>http://www.w3.org/ns/odrl/2/</Iptc4xmpExt:RightsExprLangId>\n"
            f"     <Iptc4xmpExt:LinkedRightsExpr>{escape(linked_policy)}</Iptc4xmpExt:LinkedRightsExpr>\n"
            "   </rdf:li></rdf:Bag></Iptc4xmpExt:LinkedEncRightsExpr>\n")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
        f'  <rdf:Description rdf:about="" xmlns:plus="{PLUS_NS}" '
        f'xmlns:Iptc4xmpExt="{IPTC_EXT_NS}">\n'
        f'   <plus:DataMining rdf:resource="{PLUS_VOCAB}{code}"/>\n'
        '   <plus:OtherConstraints><rdf:Alt><rdf:li xml:lang="x-default">'
        f'{escape(other_constraints)}</rdf:li></rdf:Alt></plus:OtherConstraints>\n'
        f'{linked}'
        '  </rdf:Description>\n'
        ' </rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="w"?>\n')


def _assertions(doc: Any, found: list[tuple[str, Any]], depth: int = 0) -> None:
    if depth > 12:
        return
    if isinstance(doc, dict):
        label = doc.get("label")
        if isinstance(label, str) and label.split("__")[0] in CAWG_LABELS and "data" in doc:
            found.append((label.split("__")[0], doc["data"]))
            return
        for v in doc.values():
            _assertions(v, found, depth + 1)
    elif isinstance(doc, list):
        for v in doc:
            _assertions(v, found, depth + 1)


def parse_cawg(doc: Any) -> Preferences:
    """The preferences of the training-mining assertions in ``doc``: an assertion
    (``{"label", "data"}``), its data (``{"entries": …}``) or a whole C2PA manifest store's
    JSON (every such assertion; combined, any disallow wins)."""
    found: list[tuple[str, Any]] = []
    if isinstance(doc, dict) and "entries" in doc:
        found.append(("cawg.training-mining", doc))
    else:
        _assertions(doc, found)
    if not found:
        return Preferences({}, ("no cawg.training-mining or c2pa.training-mining assertion",))
    values: dict[str, Value] = {}
    notes: list[str] = []
    for label, data in found:
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            raise EmbeddedError(f"{label}: data.entries must be an object")
        for key, entry in entries.items():
            prefix, _, name = str(key).partition(".")
            cats = _CAWG_KEYS.get(name) if prefix in ("cawg", "c2pa") else None
            if cats is None or not isinstance(entry, dict):
                continue
            use = entry.get("use")
            info = entry.get("constraints_info") or entry.get("constraint_info")
            if use == "allowed":
                val: Value = "allowed"
            elif use in ("notAllowed", "constrained"):
                val = "disallowed"
            else:
                notes.append(f"{label} {key}: use {use!r} is not allowed|notAllowed|constrained:"
                             " ignored")
                continue
            for c in cats:
                if val == "disallowed" or c not in values:
                    values[c] = val
            notes.append(f"{label} {key}: {use}" + (f" ({info})" if info else "")
                         + (" - disallowed unless a license in force grants it"
                            if use == "constrained" else ""))
    return Preferences(values, tuple(notes))


def _location_matches(pattern: str, path: str) -> bool:
    """Prefix matching with ``*`` for any characters (as robots.txt paths)."""
    rx = ".*".join(re.escape(p) for p in pattern.split("*"))
    return re.match(rx, path) is not None


def parse_tdmrep(doc: Any, path: str = "/") -> Preferences:
    """The preference of the first ``tdmrep.json`` rule whose location matches ``path``."""
    if not isinstance(doc, list):
        raise EmbeddedError("tdmrep.json must be a JSON array of rules")
    for i, rule in enumerate(doc):
        if not isinstance(rule, dict) or not isinstance(rule.get("location"), str):
            raise EmbeddedError(f"tdmrep.json rule {i} needs a location string")
        if not _location_matches(rule["location"], path):
            continue
        r = rule.get("tdm-reservation")
        if r not in (0, 1):
            raise EmbeddedError(f"tdmrep.json rule {i}: tdm-reservation must be 0 or 1")
        policy = rule.get("tdm-policy")
        if r == 1:
            return Preferences({"tdm": "disallowed"}, (
                f"TDMRep {rule['location']}: tdm-reservation 1" +
                (f", terms at {policy} (disallowed unless a license in force grants it)"
                 if policy else ""),))
        return Preferences({"tdm": "allowed"}, (f"TDMRep {rule['location']}: tdm-reservation 0",))
    return Preferences({}, (f"TDMRep: no rule matches {path}",))
