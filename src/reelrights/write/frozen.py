"""The operator's freeze: while ``<home>/FROZEN`` exists, the ledger appends nothing.

The file is the flag (one ``stat`` per batch when absent, so the write path pays nothing
measurable); its first line is the reason the operator gave, shown in every refusal.
:mod:`reelrights.operate.freeze` writes and removes it (``reelrights service freeze``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FROZEN_FILE", "frozen_reason"]

#: The flag's name in the home.
FROZEN_FILE = "FROZEN"


def frozen_reason(flag: Path) -> str | None:
    """The reason writes are frozen (the flag's first line), or None when they are not."""
    try:
        text = flag.read_text("utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return "the freeze flag is unreadable"  # fail closed: a flag is there
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return first or "no reason given"
