"""c2sp.org/tlog-policy: which logs, which witnesses, and the quorum of cosignatures a client
needs before it trusts a checkpoint. Pure parsing and evaluation, no I/O.

Syntax (one item per line, fields split on spaces and tabs, ``#`` comments)::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <member>...
    quorum <name>|none

Names are defined before use (so groups cannot be circular), a member appears at most once in a
group, k is 1..n, exactly one quorum line, no duplicate log or witness public keys, names are
unique (witnesses and groups share one namespace; ``none`` is reserved).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import BadInput
from .note import ALG_COSIGNATURE_V1, ALG_ED25519, NoteVerifier

__all__ = ["Group", "Policy", "PolicyLog", "PolicyWitness", "parse_policy"]

_MAX_ITEMS = 256


@dataclass(frozen=True)
class PolicyLog:
    verifier: NoteVerifier
    url: str = ""

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    @property
    def origin(self) -> str:
        return self.verifier.name


@dataclass(frozen=True)
class PolicyWitness:
    name: str
    verifier: NoteVerifier
    url: str = ""


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass
class Policy:
    logs: list[PolicyLog] = field(default_factory=list)
    witnesses: list[PolicyWitness] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = "none"

    def satisfied(self, cosigned: Iterable[str]) -> tuple[bool, str]:
        """Whether the witnesses named in ``cosigned`` meet the quorum, and if not, why."""
        have = set(cosigned)

        def ok(name: str) -> bool:
            if name in self.groups:
                g = self.groups[name]
                return sum(ok(m) for m in g.members) >= g.threshold
            return name in have

        if self.quorum == "none" or ok(self.quorum):
            return True, ""
        if self.quorum in self.groups:
            g = self.groups[self.quorum]
            met = [m for m in g.members if ok(m)]
            return False, (f"group {g.name} needs {g.threshold} of {', '.join(g.members)}; "
                           f"met: {', '.join(met) or 'none'}")
        return False, f"witness {self.quorum} has not cosigned it"

    def witness(self, name: str) -> PolicyWitness:
        return next(w for w in self.witnesses if w.name == name)


def _bad(lineno: int, why: str) -> BadInput:
    return BadInput(f"policy line {lineno}: {why}")


def _vkey(lineno: int, text: str, alg: int, what: str) -> NoteVerifier:
    try:
        v = NoteVerifier(text)
    except BadInput as exc:
        raise _bad(lineno, f"{what} key: {exc}") from None
    if v.alg != alg:
        want = "Ed25519 note (0x01)" if alg == ALG_ED25519 else "Ed25519 cosignature (0x04)"
        raise _bad(lineno, f"{what} key {v.name} must be an {want} vkey")
    return v


def parse_policy(data: bytes | str) -> Policy:
    """Parse a policy file; BadInput naming the line and the fix on any violation."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if any(b < 0x20 and b not in (0x09, 0x0A) or b == 0x7F for b in raw):
        raise BadInput("policy file holds a control character: only tab and newline are allowed")
    text = raw.decode("utf-8", "surrogateescape")
    policy = Policy()
    names: set[str] = set()
    keys: set[bytes] = set()
    quorum_seen = False
    for lineno, line in enumerate(text.split("\n"), 1):
        fields = line.replace("\t", " ").split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(policy.logs) + len(policy.witnesses) + len(policy.groups) > _MAX_ITEMS:
            raise _bad(lineno, f"more than {_MAX_ITEMS} logs, witnesses and groups")
        kind, args = fields[0], fields[1:]
        if kind == "log":
            if not 1 <= len(args) <= 2:
                raise _bad(lineno, "write `log <vkey> [<url>]`")
            v = _vkey(lineno, args[0], ALG_ED25519, "log")
            if v.public_key in keys:
                raise _bad(lineno, f"log key {v.name} is listed twice")
            keys.add(v.public_key)
            policy.logs.append(PolicyLog(v, args[1] if len(args) > 1 else ""))
        elif kind == "witness":
            if not 2 <= len(args) <= 3:
                raise _bad(lineno, "write `witness <name> <vkey> [<url>]`")
            name = args[0]
            if name in names or name == "none":
                raise _bad(lineno, f"name {name!r} is already defined (or reserved)")
            v = _vkey(lineno, args[1], ALG_COSIGNATURE_V1, "witness")
            if v.public_key in keys:
                raise _bad(lineno, f"witness {name}'s key is listed twice")
            keys.add(v.public_key)
            names.add(name)
            policy.witnesses.append(PolicyWitness(name, v, args[2] if len(args) > 2 else ""))
        elif kind == "group":
            if len(args) < 3:
                raise _bad(lineno, "write `group <name> all|any|<k> <member>...`")
            name, k, members = args[0], args[1], args[2:]
            if name in names or name == "none":
                raise _bad(lineno, f"name {name!r} is already defined (or reserved)")
            for m in members:
                if m not in names:
                    raise _bad(lineno, f"group {name}: member {m!r} is not defined above")
            if len(set(members)) != len(members):
                raise _bad(lineno, f"group {name} lists a member twice")
            if k == "all":
                threshold = len(members)
            elif k == "any":
                threshold = 1
            elif k.isdigit() and k == str(int(k)) and 1 <= int(k) <= len(members):
                threshold = int(k)
            else:
                raise _bad(lineno, f"group {name}: threshold {k!r} must be all, any or 1.."
                           f"{len(members)}")
            names.add(name)
            policy.groups[name] = Group(name, threshold, tuple(members))
        elif kind == "quorum":
            if len(args) != 1:
                raise _bad(lineno, "write `quorum <name>` or `quorum none`")
            if quorum_seen:
                raise _bad(lineno, "a second quorum line: a policy has exactly one")
            if args[0] != "none" and args[0] not in names:
                raise _bad(lineno, f"quorum {args[0]!r} is not a witness or group defined above")
            quorum_seen = True
            policy.quorum = args[0]
        else:
            raise _bad(lineno, f"unknown keyword {kind!r}: use log, witness, group or quorum")
    if not quorum_seen:
        raise BadInput("policy has no quorum line: add `quorum <name>` (or `quorum none`)")
    return policy
