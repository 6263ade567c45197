"""Token buckets: per signing key and per client address (one set per server process).

A request takes one token from its address's bucket and one from its signing key's bucket; an
empty bucket answers how long until a token is back (HTTP 429 with ``Retry-After``). Buckets
refill continuously at ``rate`` tokens a second up to ``burst``. Each server process keeps its
own (with ``--workers N`` a client may get up to N times the rate); the event loop is the only
user, so no lock is needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["Buckets"]

#: Buckets kept at most; past it, the full ones (clients idle long enough) are forgotten.
MAX_BUCKETS = 100_000


class Buckets:
    """One token bucket per name (a key id, an address)."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = float(rate), float(burst), clock
        self._state: dict[str, tuple[float, float]] = {}  # name -> (tokens, at)

    def take(self, name: str, n: float = 1.0) -> int:
        """Take ``n`` tokens: 0 when granted, else the whole seconds to wait before retrying."""
        now = self.clock()
        tokens, at = self._state.get(name, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= n:
            self._state[name] = (tokens - n, now)
            if len(self._state) > MAX_BUCKETS:
                self._forget(now)
            return 0
        self._state[name] = (tokens, now)
        return max(1, math.ceil((n - tokens) / self.rate))

    def _forget(self, now: float) -> None:
        full = [k for k, (t, at) in self._state.items()
                if t + (now - at) * self.rate >= self.burst]
        for k in full:
            del self._state[k]
