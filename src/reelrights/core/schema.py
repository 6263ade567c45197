"""A small declarative validator for statement bodies.

Each statement type declares its body as nested :class:`Obj`, :class:`Str`, :class:`Int`,
:class:`Ratio` and :class:`List` specs. :func:`validate` walks a value against a spec and raises
:class:`~reelrights.errors.InvalidStatement` with the RFC 6901 pointer of the first offending
field. Objects are closed: an unknown key is an error, so a typo is never signed into the log.

Every statement the log accepts is walked, so each spec also has :meth:`Spec.ok`, a plain yes
or no that builds no pointers and no messages. :meth:`Obj.check` and :meth:`List.check` ask it
first and walk again, naming the field, only when the answer is no. For an object or a list,
``ok`` is compiled (:func:`compile_ok`): the spec tree is written out once as one Python function
of plain comparisons, so a body of a dozen fields costs one call instead of a call per field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from ..errors import InvalidStatement

__all__ = ["Int", "List", "Obj", "Ratio", "Spec", "Str", "compile_ok", "parse_ratio", "validate"]


class Spec:
    def check(self, value: Any, pointer: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def ok(self, value: Any) -> bool:
        """Whether ``check`` would pass (subclasses answer faster, without building errors)."""
        try:
            self.check(value, "")
        except InvalidStatement:
            return False
        return True


@dataclass(frozen=True)
class Str(Spec):
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    min_len: int = 1
    max_len: int = 1000
    hint: str = ""
    extra: Callable[[str], str | None] | None = None  # returns an error message or None

    def check(self, value: Any, pointer: str) -> None:
        if type(value) is not str:
            raise InvalidStatement("must be a string", pointer)
        if self.choices is not None and value not in self.choices:
            raise InvalidStatement(f"{value!r} is not one of {', '.join(self.choices)}", pointer)
        if not self.min_len <= len(value) <= self.max_len:
            raise InvalidStatement(
                f"must be {self.min_len} to {self.max_len} characters long", pointer)
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise InvalidStatement(f"{value!r} is not {self.hint or 'well formed'}", pointer)
        if self.extra is not None and (msg := self.extra(value)):
            raise InvalidStatement(msg, pointer)

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        return None if self.pattern is None else re.compile(self.pattern)

    def ok(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        if self.choices is not None and value not in self.choices:
            return False
        if not self.min_len <= len(value) <= self.max_len:
            return False
        rx = self._regex
        if rx is not None and rx.fullmatch(value) is None:
            return False
        return self.extra is None or not self.extra(value)


@dataclass(frozen=True)
class Int(Spec):
    min: int = 0
    max: int = 2**53 - 1

    def check(self, value: Any, pointer: str) -> None:
        if type(value) is not int:
            raise InvalidStatement("must be an integer", pointer)
        if not self.min <= value <= self.max:
            raise InvalidStatement(f"must be between {self.min} and {self.max}", pointer)

    def ok(self, value: Any) -> bool:
        return type(value) is int and self.min <= value <= self.max


# ASCII digits only, and the whole string: ``\d`` would admit "0.\u0665" and ``$`` a trailing "\n".
_RATIO_RE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]{1,12})?|(0|[1-9][0-9]*)/[1-9][0-9]*")


def parse_ratio(text: str) -> Fraction:
    """An exact share from a decimal string ("0.25") or a fraction ("1/3")."""
    if type(text) is not str or not _RATIO_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal like 0.25 or a fraction like 1/3")
    return Fraction(text)


@dataclass(frozen=True)
class Ratio(Spec):
    """An exact share in (0, 1], written as a decimal string or a fraction string."""

    def check(self, value: Any, pointer: str) -> None:
        try:
            share = parse_ratio(value)
        except ValueError as exc:
            raise InvalidStatement(str(exc), pointer) from None
        if not 0 < share <= 1:
            raise InvalidStatement(f"{value} must be greater than 0 and at most 1", pointer)


@dataclass(frozen=True)
class List(Spec):
    item: Spec
    min_items: int = 0
    max_items: int = 10_000
    unique_by: str | None = None  # object key that must be unique across items

    @cached_property
    def ok(self) -> Callable[[Any], bool]:
        return compile_ok(self)

    def check(self, value: Any, pointer: str) -> None:
        if self.ok(value):
            return
        if type(value) is not list:
            raise InvalidStatement("must be an array", pointer)
        if not self.min_items <= len(value) <= self.max_items:
            raise InvalidStatement(
                f"must have {self.min_items} to {self.max_items} items", pointer)
        seen: set[Any] = set()
        for i, item in enumerate(value):
            self.item.check(item, f"{pointer}/{i}")
            if self.unique_by is not None:
                key = item[self.unique_by]
                if key in seen:
                    raise InvalidStatement(f"{self.unique_by} {key!r} appears twice",
                                           f"{pointer}/{i}/{self.unique_by}")
                seen.add(key)


@dataclass(frozen=True)
class Obj(Spec):
    required: dict[str, Spec]
    optional: dict[str, Spec] = field(default_factory=dict)

    @cached_property
    def ok(self) -> Callable[[Any], bool]:
        return compile_ok(self)

    def check(self, value: Any, pointer: str) -> None:
        if self.ok(value):
            return
        if type(value) is not dict:
            raise InvalidStatement("must be an object", pointer)
        for name, spec in self.required.items():
            if name not in value:
                raise InvalidStatement(f"missing required field {name!r}", pointer)
            spec.check(value[name], f"{pointer}/{_escape(name)}")
        for name, item in value.items():
            if name in self.required:
                continue
            extra = self.optional.get(name)
            if extra is None:
                allowed = ", ".join(sorted({*self.required, *self.optional}))
                raise InvalidStatement(f"unknown field {name!r} (allowed: {allowed})",
                                       f"{pointer}/{_escape(name)}")
            extra.check(item, f"{pointer}/{_escape(name)}")


def validate(value: Any, spec: Spec, pointer: str = "") -> None:
    spec.check(value, pointer)


def compile_ok(spec: Spec) -> Callable[[Any], bool]:
    """``spec``'s yes-or-no check as one generated function: the same answers as walking the
    spec tree (a test compares them), with every object, list, string and integer check of the
    tree written out inline. Specs of other kinds are called through their own ``ok``."""
    env: dict[str, Any] = {}
    lines = ["def ok(v0):"]
    _emit(spec, "v0", lines, 1, env, [0])
    lines.append("    return True")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<schema {type(spec).__name__}>", "exec"),  # noqa: S102
         env, namespace)
    fn: Callable[[Any], bool] = namespace["ok"]
    return fn


def _emit(spec: Spec, var: str, lines: list[str], depth: int, env: dict[str, Any],
          counter: list[int]) -> None:
    """Lines (at ``depth``) that ``return False`` unless ``var`` fits ``spec``."""
    pad = "    " * depth

    def name(value: Any) -> str:  # a constant of the generated code
        counter[0] += 1
        key = f"c{counter[0]}"
        env[key] = value
        return key

    def fresh() -> str:
        counter[0] += 1
        return f"v{counter[0]}"

    kind = type(spec)
    if kind is Str:
        assert isinstance(spec, Str)
        lines.append(f"{pad}if type({var}) is not str: return False")
        if spec.choices is not None:
            lines.append(f"{pad}if {var} not in {name(frozenset(spec.choices))}: return False")
        lines.append(f"{pad}if not {spec.min_len} <= len({var}) <= {spec.max_len}: return False")
        if spec._regex is not None:
            lines.append(f"{pad}if {name(spec._regex.fullmatch)}({var}) is None: return False")
        if spec.extra is not None:
            lines.append(f"{pad}if {name(spec.extra)}({var}): return False")
    elif kind is Int:
        assert isinstance(spec, Int)
        lines.append(f"{pad}if type({var}) is not int or not {spec.min} <= {var} <= {spec.max}: "
                     "return False")
    elif kind is Obj:
        assert isinstance(spec, Obj)
        lines.append(f"{pad}if type({var}) is not dict: return False")
        for key, item in spec.required.items():
            sub = fresh()
            lines.append(f"{pad}{sub} = {var}.get({key!r}, {name(_MISSING)})")
            lines.append(f"{pad}if {sub} is {name(_MISSING)}: return False")
            _emit(item, sub, lines, depth, env, counter)
        lines.append(f"{pad}if len({var}) > {len(spec.required)}:")
        key_var, item_var = fresh(), fresh()
        lines.append(f"{pad}    for {key_var}, {item_var} in {var}.items():")
        inner = pad + "        "
        lines.append(f"{inner}if {key_var} in {name(frozenset(spec.required))}: continue")
        for i, (key, item) in enumerate(spec.optional.items()):
            lines.append(f"{inner}{'if' if i == 0 else 'elif'} {key_var} == {key!r}:")
            _emit(item, item_var, lines, depth + 3, env, counter)
        lines.append(f"{inner}{'else:' if spec.optional else 'if True:'} return False")
    elif kind is List:
        assert isinstance(spec, List)
        lines.append(f"{pad}if type({var}) is not list or not "
                     f"{spec.min_items} <= len({var}) <= {spec.max_items}: return False")
        item_var = fresh()
        lines.append(f"{pad}for {item_var} in {var}:")
        _emit(spec.item, item_var, lines, depth + 1, env, counter)
        lines.append(f"{pad}    pass")
        if spec.unique_by is not None:
            lines.append(f"{pad}if not {name(_unique_by)}({var}, {spec.unique_by!r}): "
                         "return False")
    else:
        lines.append(f"{pad}if not {name(spec.ok)}({var}): return False")


_MISSING = object()


def _unique_by(items: list[Any], key: str) -> bool:
    keys = [item[key] for item in items]
    return len(set(keys)) == len(keys)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
