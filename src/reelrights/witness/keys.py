"""The witness's key file: one line, the Go note signer key format
``PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)`` (what ``note.GenerateKey`` writes), mode 0600.
The witness uses the seed for tlog-cosignature v1 (type 0x04) only; its public key is the vkey
``<name>+<id>+base64(0x04 || public key)`` that ``reelrights witness init`` prints."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from ..core.note import CosignatureSigner, generate_skey, parse_skey
from ..errors import BadInput

__all__ = ["load_witness_key", "make_witness_key"]


def make_witness_key(path: Path, name: str) -> CosignatureSigner:
    """Create ``path`` (0600, never overwritten) with a fresh key named ``name``."""
    skey = generate_skey(name) + "\n"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadInput(f"{path} already exists; keys are never overwritten") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, skey.encode())
        os.fsync(fd)
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return load_witness_key(path)


def load_witness_key(path: Path) -> CosignatureSigner:
    """The cosigner of the key file at ``path``; BadInput if missing, readable by others or bad."""
    try:
        mode = path.stat().st_mode
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        raise BadInput(f"--key {path}: no such file; make one with `reelrights witness init "
                       "--key FILE --name NAME`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--key {path}: unreadable ({exc})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BadInput(f"--key {path} is readable by others: chmod 600 {path}")
    signer = parse_skey(text)  # checks the format and the key id
    seed = base64.b64decode(text.split("+", 4)[4])[1:]
    return CosignatureSigner(signer.name, seed)
