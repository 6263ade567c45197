"""IETF AIPREF statements of preference (draft-ietf-aipref-vocab-08 §6-7) and Cloudflare Content
Signals values (contentsignals.org), read and written. Pure: bytes or text in, values out.

AIPREF: the value is an RFC 9651 Structured Field **Dictionary**, parsed with ``http-sfv``.

* For each category label, the value ``y`` (a Token) allows, ``n`` disallows; anything else (a
  Boolean, a String ``"n"``, another Token, the key absent) is unknown, not an error.
* A repeated key keeps only its last value (the Dictionary algorithm); parameters are ignored.
* Any parse failure (an uppercase key, a stray character) makes **every** category unknown.
* Unknown labels are ignored. Labels of earlier drafts are read for compatibility when the
  current label is absent: ``train-genai``, ``ai``, ``genai`` as ``train-ai``; ``ai-use``,
  ``inference``, ``ai-output`` as ``ai-input``; ``bots``, ``all``, ``tdm`` as ``tdm``.

Content Signals: ``search=yes, ai-input=no, ai-train=no``: ``yes`` allows, ``no`` disallows, an
omitted signal says nothing. The same Dictionary syntax, so the same parser.
"""

from __future__ import annotations

from http_sfv import Dictionary, Token

from .categories import Preferences, Value

__all__ = ["AIPREF_LABELS", "CONTENT_SIGNALS", "format_aipref", "format_content_signals",
           "parse_aipref", "parse_content_signals"]

#: Current AIPREF labels (draft-ietf-aipref-vocab-08 Table 1) -> category.
AIPREF_LABELS = {"train-ai": "train-ai", "search": "search"}
#: Labels of earlier drafts -> category (read only when the current label gives no value).
LEGACY_LABELS = {"train-genai": "train-ai", "genai": "train-ai", "ai": "train-ai",
                 "ai-use": "ai-input", "inference": "ai-input", "ai-output": "ai-input",
                 "bots": "tdm", "all": "tdm", "tdm": "tdm"}
#: Content Signals keys -> category.
CONTENT_SIGNALS = {"search": "search", "ai-input": "ai-input", "ai-train": "train-ai"}

_MAX = 8192  # a header this long is not a statement of preference anyone meant


def _dictionary(value: bytes | str) -> Dictionary | None:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if len(raw) > _MAX:
        return None
    d = Dictionary()
    try:
        d.parse(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return d


def parse_aipref(value: bytes | str, where: str = "Content-Usage") -> Preferences:
    """The preferences a ``Content-Usage`` value states (every category unknown on a parse
    failure). ``where`` names the source in the notes."""
    d = _dictionary(value)
    if d is None:
        return Preferences({}, (f"{where}: not a Structured Field Dictionary, so every "
                                "category is unknown",))
    values: dict[str, Value] = {}
    notes: list[str] = []
    for labels, legacy in ((AIPREF_LABELS, False), (LEGACY_LABELS, True)):
        for label, category in labels.items():
            if label not in d or category in values:
                continue
            item = d[label]
            v = item.value
            if isinstance(v, Token) and str(v) in ("y", "n"):
                values[category] = "allowed" if str(v) == "y" else "disallowed"
                notes.append(f"{where}: {label}={v}" + (f" (an earlier draft's label, read as "
                                                         f"{category})" if legacy else ""))
    return Preferences(values, tuple(notes))


def parse_content_signals(value: bytes | str, where: str = "Content-Signal") -> Preferences:
    """The preferences a ``Content-Signal`` value states (yes/no per signal)."""
    d = _dictionary(value)
    if d is None:
        return Preferences({}, (f"{where}: not a list of key=yes|no, so nothing is stated",))
    values: dict[str, Value] = {}
    notes: list[str] = []
    for key, category in CONTENT_SIGNALS.items():
        if key in d:
            v = d[key].value
            if isinstance(v, Token) and str(v) in ("yes", "no"):
                values[category] = "allowed" if str(v) == "yes" else "disallowed"
                notes.append(f"{where}: {key}={v}")
    return Preferences(values, tuple(notes))


def format_aipref(prefs: Preferences) -> str:
    """The ``Content-Usage`` value for ``prefs``: current labels only (``train-ai``,
    ``search``); categories AIPREF has no label for are left out."""
    out = [f"{label}={'y' if prefs.get(c) == 'allowed' else 'n'}"
           for label, c in AIPREF_LABELS.items() if prefs.get(c) != "unknown"]
    return ", ".join(out)


def format_content_signals(prefs: Preferences) -> str:
    """The ``Content-Signal`` value for ``prefs`` (signals with no value left out)."""
    out = [f"{key}={'yes' if prefs.get(c) == 'allowed' else 'no'}"
           for key, c in CONTENT_SIGNALS.items() if prefs.get(c) != "unknown"]
    return ", ".join(out)
