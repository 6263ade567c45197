"""RSL 1.0 license documents (``application/rsl+xml``, namespace ``https://rslstandard.org/rsl``),
read and written. Pure. Untrusted XML is parsed with ``defusedxml`` (no DTD, no entities).

Elements read: ``<rsl>`` ⊃ ``<content url server? encrypted? lastmod?>`` ⊃ ``<license>`` ⊃
``<permits type="usage|user|geo">``, ``<prohibits type=…>``, ``<payment type?>`` ⊃
(``<standard>`` | ``<custom>`` | ``<amount currency>``), ``<legal type>``; ``<copyright>``,
``<terms>``, ``<schema>`` beside the licenses. Tokens are comma-separated.

As a statement of preference (the AIPREF model, :mod:`.categories`), for one path:

* the ``<content>`` whose ``url`` matches the path with the longest pattern applies (RFC 9309
  matching; a full URL is matched by its path);
* a usage in any ``<prohibits type="usage">`` is **disallowed**;
* a usage permitted by a license that is free (no ``<payment>``, or ``type="free"``), has no
  ``server`` and no ``user``/``geo`` restriction is **allowed**;
* a usage permitted only against payment, a license server, or for some users or places is
  **disallowed without a license** (the note says which terms): a contract that grants it
  overrides the preference, as draft-ietf-aipref-vocab §7.2 says contracts do;
* a license with no ``<permits type="usage">`` permits every usage (``all``).

Usage tokens: ``train-ai`` / ``ai-train``, ``ai-input``, ``search``, ``ai-all`` (both AI
categories) and ``all``; others (``ai-index``, …) are ignored with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .categories import Preferences, Value

__all__ = ["MEDIA_TYPE", "NS", "RslContent", "RslLicense", "format_rsl", "parse_rsl"]

NS = "https://rslstandard.org/rsl"
MEDIA_TYPE = "application/rsl+xml"
_Q = "{" + NS + "}"
MAX_BYTES = 1024 * 1024

#: RSL usage token -> categories.
USAGE: dict[str, tuple[str, ...]] = {
    "train-ai": ("train-ai",), "ai-train": ("train-ai",), "ai-input": ("ai-input",),
    "search": ("search",), "ai-all": ("train-ai", "ai-input"),
    "all": ("train-ai", "ai-input", "search", "tdm"),
}


class RslError(ValueError):
    """An RSL document that cannot be read; ``str()`` names the problem and the fix."""


@dataclass
class RslLicense:
    permits: dict[str, list[str]] = field(default_factory=dict)     # type -> tokens
    prohibits: dict[str, list[str]] = field(default_factory=dict)
    payment: str | None = None           # type ("free" when absent but a <payment> is present)
    payment_urls: list[str] = field(default_factory=list)
    amounts: list[tuple[str, str]] = field(default_factory=list)   # (amount, currency)
    legal: list[tuple[str, str]] = field(default_factory=list)     # (type, text)

    def free(self) -> bool:
        return self.payment in (None, "free") and not self.amounts

    def to_json(self) -> dict[str, Any]:
        return {"permits": self.permits, "prohibits": self.prohibits, "payment": self.payment,
                "payment_urls": self.payment_urls, "amounts": self.amounts, "legal": self.legal}


@dataclass
class RslContent:
    url: str
    server: str | None
    licenses: list[RslLicense]
    terms: str | None = None
    copyright: str | None = None

    def preferences(self) -> Preferences:
        values: dict[str, Value] = {}
        notes: list[str] = []
        conditional: dict[str, list[str]] = {}
        for i, lic in enumerate(self.licenses, 1):
            for token in lic.prohibits.get("usage", []):
                for c in _categories(token, notes):
                    values[c] = "disallowed"
                    notes.append(f"RSL {self.url} license {i}: prohibits {token}")
            usages = lic.permits.get("usage") or ["all"]
            why = _conditions(lic, self.server)
            for token in usages:
                for c in _categories(token, notes):
                    if why:
                        conditional.setdefault(c, []).append(f"license {i}: {token} {why}")
                    elif values.get(c) != "disallowed":
                        values[c] = "allowed"
                        notes.append(f"RSL {self.url} license {i}: permits {token} free of "
                                     "conditions")
        for c, whys in conditional.items():
            if c not in values:
                values[c] = "disallowed"
                notes.append(f"RSL {self.url}: {c} only under a license ({'; '.join(whys)}): "
                             "disallowed unless a license in force grants it")
        return Preferences(values, tuple(dict.fromkeys(notes)))


def _categories(token: str, notes: list[str]) -> tuple[str, ...]:
    cats = USAGE.get(token)
    if cats is None:
        notes.append(f"RSL usage {token!r} has no reelrights category: ignored")
        return ()
    return cats


def _conditions(lic: RslLicense, server: str | None) -> str:
    out = []
    if not lic.free():
        out.append(f"against payment ({lic.payment or 'priced'}"
                   + (f", {', '.join(lic.payment_urls)}" if lic.payment_urls else "") + ")")
    if server:
        out.append(f"through the license server {server}")
    for kind in ("user", "geo"):
        if lic.permits.get(kind):
            out.append(f"for {kind} {', '.join(lic.permits[kind])} only")
    return "; ".join(out)


def _tokens(el: Element) -> list[str]:
    return [t.strip() for t in (el.text or "").split(",") if t.strip()]


def _text(el: Element | None) -> str | None:
    return (el.text or "").strip() or None if el is not None else None


def parse_rsl(data: bytes | str) -> list[RslContent]:
    """The ``<content>`` elements of an RSL document. Raises :class:`RslError`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise RslError(f"the RSL document is {len(raw)} bytes; at most {MAX_BYTES} are read")
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise RslError(f"the RSL document uses a DTD or entities ({type(exc).__name__}), "
                       "which are refused; remove them") from None
    except SafeET.ParseError as exc:
        raise RslError(f"not well-formed XML ({exc}); fix the RSL document") from None
    if root.tag != _Q + "rsl":
        raise RslError(f"the root element is {root.tag}, not <rsl xmlns=\"{NS}\">")
    out = []
    for c in root.findall(_Q + "content"):
        url = c.get("url")
        if not url:
            raise RslError("a <content> has no url attribute (required by RSL 1.0)")
        licenses = []
        for lic_el in c.findall(_Q + "license"):
            lic = RslLicense()
            for kind, into in (("permits", lic.permits), ("prohibits", lic.prohibits)):
                for el in lic_el.findall(_Q + kind):
                    t = el.get("type")
                    if t not in ("usage", "user", "geo"):
                        raise RslError(f"<{kind} type={t!r}>: type must be usage, user or geo")
                    into.setdefault(t, []).extend(_tokens(el))
            pay = lic_el.find(_Q + "payment")
            if pay is not None:
                lic.payment = pay.get("type") or "free"
                lic.payment_urls = [u for u in (_text(pay.find(_Q + "standard")),
                                                _text(pay.find(_Q + "custom"))) if u]
                lic.amounts = [((a.text or "").strip(), a.get("currency") or "")
                               for a in pay.findall(_Q + "amount")]
            lic.legal = [(el.get("type") or "", (el.text or "").strip())
                         for el in lic_el.findall(_Q + "legal")]
            licenses.append(lic)
        copyright_el = c.find(_Q + "copyright")
        owner = None
        if copyright_el is not None:
            owner = copyright_el.get("name") or copyright_el.get("email") or _text(copyright_el)
        out.append(RslContent(url, c.get("server"), licenses, _text(c.find(_Q + "terms")), owner))
    if not out:
        raise RslError("the RSL document has no <content> element")
    return out


def _matches(pattern: str, path: str) -> bool:
    if "://" in pattern:
        pattern = "/" + pattern.split("://", 1)[1].partition("/")[2]
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    rx = ".*".join(re.escape(p) for p in body.split("*"))
    return re.match(rx + ("$" if anchored else ""), path) is not None


def preferences_for(contents: list[RslContent], path: str = "/") -> Preferences:
    """The preferences of the ``<content>`` that applies to ``path`` (longest matching url)."""
    matching = [c for c in contents if _matches(c.url, path)]
    if not matching:
        return Preferences({}, (f"RSL: no <content> url matches {path}",))
    return max(matching, key=lambda c: len(c.url)).preferences()


def format_rsl(statuses: dict[str, str], *, policy_uid: str, policy_url: str | None,
               url: str = "/") -> bytes:
    """An RSL document for ``statuses`` (category -> ``allowed`` | ``constrained`` |
    ``notAllowed``): a free license for the allowed, a license with a ``<custom>`` rate card
    pointing at the policy for the constrained, and ``<prohibits>`` for the rest, in every
    license. Marked in a comment and in ``<terms>`` as derived from the policy."""
    token = {"train-ai": "train-ai", "ai-input": "ai-input", "search": "search"}
    allowed = [token[c] for c, s in statuses.items() if s == "allowed" and c in token]
    constrained = [token[c] for c, s in statuses.items() if s == "constrained" and c in token]
    refused = [token[c] for c, s in statuses.items() if s == "notAllowed" and c in token]
    root = Element("rsl", {"xmlns": NS})
    content = SubElement(root, "content", {"url": url})
    groups = [(allowed, None), (constrained, "subscription")]
    emitted = False
    for usages, pay in groups:
        if not usages:
            continue
        lic = SubElement(content, "license")
        SubElement(lic, "permits", {"type": "usage"}).text = ",".join(usages)
        if refused:
            SubElement(lic, "prohibits", {"type": "usage"}).text = ",".join(refused)
        if pay is not None:
            p = SubElement(lic, "payment", {"type": pay})
            SubElement(p, "custom").text = policy_url or policy_uid
        emitted = True
    if not emitted and refused:
        lic = SubElement(content, "license")
        SubElement(lic, "prohibits", {"type": "usage"}).text = ",".join(refused)
    SubElement(content, "terms").text = policy_url or policy_uid
    body = tostring(root, encoding="unicode")
    note = (f"<!-- derived, lossy projection of ODRL policy {policy_uid}; that policy governs "
            "(docs/odrl-profile.md) -->")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{note}\n{body}\n'.encode()
