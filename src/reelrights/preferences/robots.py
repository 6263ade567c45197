"""robots.txt (RFC 9309) with the AIPREF ``Content-Usage`` rule (draft-ietf-aipref-attach §3) and
Cloudflare's ``Content-Signal`` line. Pure; hand-written, because the maintained parsers
(``urllib.robotparser``, Protego) drop rules they do not know and so cannot return these.

* Groups: one or more ``User-Agent`` lines, then rules; groups naming the same agent are merged
  (RFC 9309 §2.2.1). A crawler uses the group of its product token (case-insensitive), else the
  ``*`` group.
* Crawling: ``Allow``/``Disallow`` by the longest matching path (``*`` and ``$`` as RFC 9309
  §2.2.3); a tie allows. A path that cannot be crawled has **no** usage preference.
* ``Content-Usage: [path] PREF``: the path is present when the value starts with ``/`` and ends
  at the first SP or HTAB; the preference applying to a path is the rule with the longest
  matching path; rules with identical paths are combined (any disallow wins). A value ends at
  ``#``. ``Content-Signal`` lines are read the same way.
* ``License: URL`` lines (RSL discovery) are kept so an importer can say where the terms are.
* At most 500 KiB is read (RFC 9309 §2.5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .aipref import parse_aipref, parse_content_signals
from .categories import Preferences, combine

__all__ = ["Group", "RobotsFile", "format_robots", "parse_robots"]

MAX_BYTES = 500 * 1024
_LINE = re.compile(r"[ \t]*([A-Za-z-]+)[ \t]*:[ \t]*(.*)")


@dataclass
class Group:
    agents: list[str] = field(default_factory=list)
    access: list[tuple[str, bool]] = field(default_factory=list)          # (path, allow)
    usage: list[tuple[str, str]] = field(default_factory=list)            # (path, value)
    signals: list[tuple[str, str]] = field(default_factory=list)          # (path, value)


@dataclass
class RobotsFile:
    groups: list[Group]
    licenses: list[str]

    def group_for(self, user_agent: str) -> Group | None:
        token = user_agent.split("/", 1)[0].strip().lower()
        mine = [g for g in self.groups if token in (a.lower() for a in g.agents)]
        if not mine:
            mine = [g for g in self.groups if "*" in g.agents]
        if not mine:
            return None
        merged = Group([*(a for g in mine for a in g.agents)])
        for g in mine:
            merged.access += g.access
            merged.usage += g.usage
            merged.signals += g.signals
        return merged

    def preferences(self, path: str = "/", user_agent: str = "*") -> Preferences:
        """The usage preferences for ``path`` as ``user_agent`` sees them."""
        if not path.startswith("/"):
            raise ValueError(f"path {path!r} must start with /")
        g = self.group_for(user_agent)
        if g is None:
            return Preferences({}, (f"robots.txt: no group for {user_agent!r} or *",))
        if not _crawlable(g.access, path):
            return Preferences({}, (f"robots.txt: {path} may not be crawled, so no usage "
                                    "preference applies (draft-ietf-aipref-attach §3.1)",))
        found = []
        for rules, parse, label in ((g.usage, parse_aipref, "Content-Usage"),
                                    (g.signals, parse_content_signals, "Content-Signal")):
            best = _longest(rules, path)
            found += [parse(v, f"robots.txt {label}" + (f" {p}" if p else ""))
                      for p, v in rules if best is not None and len(_bytes(p)) == best
                      and _matches(p, path)]
        return combine(found)


def _bytes(p: str) -> bytes:
    return p.encode("utf-8")


def _matches(pattern: str, path: str) -> bool:
    if pattern == "":
        return True
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    rx = ".*".join(re.escape(part) for part in body.split("*"))
    return re.match(rx + ("$" if anchored else ""), path) is not None


def _longest(rules: list[tuple[str, str]], path: str) -> int | None:
    lengths = [len(_bytes(p)) for p, _ in rules if _matches(p, path)]
    return max(lengths) if lengths else None


def _crawlable(access: list[tuple[str, bool]], path: str) -> bool:
    best, allow = -1, True
    for p, ok in access:
        if p == "" and not ok:
            continue  # "Disallow:" with no path disallows nothing
        if _matches(p, path):
            n = len(_bytes(p))
            if n > best or (n == best and ok):
                best, allow = n, ok
    return allow


def _split_path(value: str) -> tuple[str, str]:
    if value.startswith("/"):
        m = re.match(r"(\S*)[ \t]+(.*)", value)
        if m:
            return m.group(1), m.group(2)
        return value, ""
    return "", value


def parse_robots(text: bytes | str) -> RobotsFile:
    """Parse a robots.txt (the first 500 KiB; undecodable bytes replaced)."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    body = raw[:MAX_BYTES].decode("utf-8", errors="replace")
    groups: list[Group] = []
    licenses: list[str] = []
    current: Group | None = None
    in_agents = False
    for line in body.splitlines():
        line = line.split("#", 1)[0]
        m = _LINE.match(line)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        if key == "user-agent":
            if current is None or not in_agents:
                current = Group()
                groups.append(current)
            current.agents.append(value)
            in_agents = True
            continue
        if key in ("sitemap", "license"):
            if key == "license" and value:
                licenses.append(value)
            continue
        in_agents = False
        if current is None:
            continue  # rules before any User-Agent belong to no group (RFC 9309 §2.2.1)
        if key in ("allow", "disallow"):
            current.access.append((value, key == "allow"))
        elif key == "content-usage":
            current.usage.append(_split_path(value))
        elif key == "content-signal":
            current.signals.append(_split_path(value))
    return RobotsFile(groups, licenses)


def format_robots(*, content_usage: str | None = None, content_signal: str | None = None,
                  comments: tuple[str, ...] = (), license_url: str | None = None) -> str:
    """A robots.txt group for every crawler with the given lines (``#`` comments first)."""
    lines = [f"# {c}" for c in comments]
    lines += ["User-Agent: *", "Allow: /"]
    if content_signal:
        lines.append(f"Content-Signal: {content_signal}")
    if content_usage:
        lines.append(f"Content-Usage: {content_usage}")
    if license_url:
        lines.append(f"License: {license_url}")
    return "\n".join(lines) + "\n"
