"""The logs a witness witnesses: a file of ``log <vkey> [<url>]`` lines (the log lines of a
c2sp.org/tlog-policy file; ``#`` comments, other keywords ignored so a policy file serves too).
The key's name is the log's origin; an origin may have several keys (a rotation)."""

from __future__ import annotations

from pathlib import Path

from ..core.note import ALG_ED25519, NoteVerifier
from ..errors import BadInput

__all__ = ["load_logs", "parse_logs"]


def parse_logs(text: str, where: str = "witness config") -> dict[str, list[NoteVerifier]]:
    """origin -> its log verifier keys; BadInput naming the line and the fix."""
    logs: dict[str, list[NoteVerifier]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#") or fields[0] != "log":
            continue
        if not 2 <= len(fields) <= 3:
            raise BadInput(f"{where} line {lineno}: write `log <vkey> [<url>]`")
        try:
            v = NoteVerifier(fields[1])
        except BadInput as exc:
            raise BadInput(f"{where} line {lineno}: {exc}") from None
        if v.alg != ALG_ED25519:
            raise BadInput(f"{where} line {lineno}: log key {v.name} must be an Ed25519 note "
                           "(type 0x01) vkey")
        logs.setdefault(v.name, []).append(v)
    if not logs:
        raise BadInput(f"{where} lists no log: add a line `log <vkey>` per log to witness")
    return logs


def load_logs(path: Path) -> dict[str, list[NoteVerifier]]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise BadInput(f"--config {path}: no such file; write one `log <vkey>` line per log") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--config {path}: unreadable ({exc})") from None
    return parse_logs(text, f"--config {path}")
