"""Real ``reelrights witness serve`` processes on 127.0.0.1 port 0, for the witness tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from service_kit import CLI, spawn_until


@dataclass
class WitnessProc:
    url: str
    vkey: str
    proc: subprocess.Popen[bytes]
    db: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def witness_init(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / "witness.key"
    out = subprocess.run([sys.executable, "-c", CLI, "witness", "init", "--key", str(key),
                          "--name", name], capture_output=True, text=True, check=True)
    return key, out.stdout.strip()


def start_witness(folder: Path, logs: list[str], name: str = "witness.example/w1",
                  key: Path | None = None) -> WitnessProc:
    """A witness of the logs with vkeys ``logs``, its key and db in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if key is None:
        key, _ = witness_init(folder, name)
    config = folder / "logs.txt"
    config.write_text("".join(f"log {v}\n" for v in logs))
    db = folder / "witness.sqlite"
    args = [sys.executable, "-c", CLI, "witness", "serve", "--config", str(config), "--db",
            str(db), "--key", str(key), "--port", "0"]
    proc, line, _ = spawn_until(args, "reelrights witness at ")
    url = line.split(" at ", 1)[1].split(" ", 1)[0]
    vkey = line.split(" vkey ", 1)[1].split(" ", 1)[0]
    return WitnessProc(url, vkey, proc, db)
