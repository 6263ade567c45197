"""Which statements touch a party that it did not sign itself (a monitor's "tell me" list).

:class:`PartyWatch` reads the log's statements in order and keeps what the party has a stake in:
the works it owns or is credited on, the bundles holding them, the licenses on those bundles
(or granted to it), the runs that used those bundles and their outputs and certificates, its
consents. A statement touches the party when it names the party anywhere in its body, or one of
those things, and another party signed it:

* a credit naming it; a consent naming it as the performer (or revoking one);
* a bundle of its works; a license on such a bundle (or to it), its co-signature, revocation
  and fund terms; a run started under such a license or committing usage of such a bundle;
* an audit of such a run; an output of such a run, or a production attributing an output to
  its bundles.

Pure: no I/O. Its state is JSON (:meth:`to_json` / :meth:`from_json`) for the monitor's folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.statements import SignedStatement

__all__ = ["PartyWatch"]

_SETS = ("works", "bundles", "licenses", "runs", "outputs", "consents")


def _strings(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{pointer}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{pointer}/{i}")


class PartyWatch:
    """The party's stake, grown from the statements seen (in log order)."""

    def __init__(self, party: str) -> None:
        self.party = party
        self.sets: dict[str, set[str]] = {k: set() for k in _SETS}

    def to_json(self) -> dict[str, Any]:
        return {"party": self.party, **{k: sorted(v) for k, v in self.sets.items()}}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PartyWatch:
        w = cls(str(doc["party"]))
        for k in _SETS:
            w.sets[k] = set(doc.get(k, []))
        return w

    def _grow(self, s: SignedStatement) -> list[str]:
        """Add what ``s`` makes the party's; return why it concerns the party (may be empty)."""
        b, t, p, sets = s.body, s.type, self.party, self.sets
        why: list[str] = []
        if t == "work.registered" and b.get("owner") == p:
            sets["works"].add(b["id"])
        elif t == "work.credited" and b.get("party") == p:
            sets["works"].add(b["work"])
            why.append(f"credits it as {b.get('role')} on work {b.get('work')}")
        elif t == "bundle.created" and sets["works"] & set(b.get("works", [])):
            sets["bundles"].add(b["id"])
            why.append(f"bundle {b['id']} holds its works")
        elif t == "license.granted" and (b.get("bundle") in sets["bundles"]
                                         or b.get("licensee") == p):
            sets["licenses"].add(b["id"])
            why.append(f"license {b['id']} on bundle {b.get('bundle')}, which holds its works"
                       if b.get("bundle") in sets["bundles"] else f"license {b['id']} to it")
        elif t in ("license.cosigned", "license.revoked", "fund.terms") and \
                b.get("license") in sets["licenses"]:
            why.append(f"{t} of license {b['license']} on its works")
        elif t == "consent.granted" and b.get("performer") == p:
            sets["consents"].add(b["id"])
            why.append(f"consent {b['id']} names it as the performer")
        elif t == "consent.revoked" and b.get("consent") in sets["consents"]:
            why.append(f"revokes its consent {b['consent']}")
        elif t == "run.started" and sets["licenses"] & set(b.get("licenses", [])):
            sets["runs"].add(b["id"])
            why.append(f"run {b['id']} starts under a license on its works")
        elif t == "run.committed" and sets["bundles"] & {u.get("bundle")
                                                         for u in b.get("usage", [])}:
            sets["runs"].add(b["id"])
            why.append(f"run {b['id']} used its bundles")
        elif t in ("audit.challenged", "audit.certified", "audit.withdrawn") and \
                b.get("run") in sets["runs"]:
            why.append(f"{t} of run {b['run']}, which used its works")
        elif t == "output.registered" and b.get("run") in sets["runs"]:
            sets["outputs"].add(b["id"])
            why.append(f"output {b['id']} of run {b['run']}, which used its works")
        elif t == "production.uses":
            for o in b.get("outputs", []):
                weights = {w.get("bundle") for w in o.get("weights", [])}
                if o.get("output") in sets["outputs"] or weights & sets["bundles"]:
                    why.append(f"production {b.get('production')} uses output {o.get('output')}"
                               ", attributed to its works")
                    break
        return why

    def touches(self, s: SignedStatement) -> list[str]:
        """Why ``s`` touches the party (empty: it does not, or the party signed it itself)."""
        why = self._grow(s)
        if s.actor == self.party:
            return []
        if not why:
            named = [ptr for ptr, v in _strings(s.body) if v == self.party]
            if named:
                why.append(f"names it at {', '.join(named[:3])}")
        return why
