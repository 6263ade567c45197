"""POST a monitor's events as JSON to a URL (a failed delivery is reported, never fatal)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ..errors import BadInput

__all__ = ["Webhook"]


class Webhook:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise BadInput(f"--webhook {url!r} is not an http(s) URL")
        self.url = url
        self.timeout = timeout

    def post(self, event: dict[str, Any]) -> bool:
        req = urllib.request.Request(self.url, data=json.dumps(event).encode("utf-8"),
                                     headers={"content-type": "application/json"},
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                resp.read(1024)
            return True
        except (urllib.error.URLError, OSError) as exc:
            print(f"warning: webhook {self.url} did not take the {event.get('event')} event "
                  f"({getattr(exc, 'reason', exc)})", file=sys.stderr)
            return False
