"""The compiled yes-or-no check of a spec (core.schema.compile_ok) answers as the spec tree does.

The reference here walks the tree by hand, independently of the generated code; the values are
built from each statement type's spec (mostly valid), mutated one field at a time, and arbitrary
JSON. tests/test_catalogue.py checks every body of a real log that holds every type."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reelrights.catalogue import catalogue
from reelrights.core.schema import Int, List, Obj, Spec, Str, compile_ok


def walk(spec: Spec, value: Any) -> bool:
    """The spec's answer, walked field by field (the reference)."""
    if isinstance(spec, Str):
        return (type(value) is str and (spec.choices is None or value in spec.choices)
                and spec.min_len <= len(value) <= spec.max_len
                and (spec._regex is None or spec._regex.fullmatch(value) is not None)
                and (spec.extra is None or not spec.extra(value)))
    if isinstance(spec, Int):
        return type(value) is int and spec.min <= value <= spec.max
    if isinstance(spec, Obj):
        if type(value) is not dict:
            return False
        if any(k not in value or not walk(s, value[k]) for k, s in spec.required.items()):
            return False
        return all(k in spec.required or (k in spec.optional and walk(spec.optional[k], v))
                   for k, v in value.items())
    if isinstance(spec, List):
        if type(value) is not list or not spec.min_items <= len(value) <= spec.max_items:
            return False
        if not all(walk(spec.item, item) for item in value):
            return False
        if spec.unique_by is not None:
            keys = [item[spec.unique_by] for item in value]
            return len(set(keys)) == len(keys)
        return True
    try:
        spec.check(value, "")
    except Exception:  # noqa: BLE001 - any refusal is a no
        return False
    return True


SPECS = [t.body for t in catalogue().types()]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=5),
    max_leaves=20)


@given(st.sampled_from(SPECS), json_values)
def test_arbitrary_json_answers_as_the_walk(spec: Spec, value: Any) -> None:
    assert compile_ok(spec)(value) is walk(spec, value)


@given(st.sampled_from(SPECS), st.data())
def test_bodies_near_the_spec_answer_as_the_walk(spec: Spec, data: st.DataObject) -> None:
    """Values built from the spec itself (mostly valid), then one field changed or dropped."""
    value = data.draw(_fitting(spec))
    assert compile_ok(spec)(value) is walk(spec, value)
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value) + ["unknown_field"]))
        mutated = dict(value)
        if data.draw(st.booleans()) and key in mutated:
            del mutated[key]
        else:
            mutated[key] = data.draw(json_values)
        assert compile_ok(spec)(mutated) is walk(spec, mutated)


def _fitting(spec: Spec) -> st.SearchStrategy[Any]:
    """Values shaped like ``spec`` (often, not always, valid: patterns are not followed)."""
    if isinstance(spec, Str):
        if spec.choices:
            return st.sampled_from(spec.choices)
        if spec._regex is not None:
            return st.from_regex(spec._regex, fullmatch=True) | st.text(max_size=8)
        return st.text(min_size=spec.min_len, max_size=min(spec.max_len, 20))
    if isinstance(spec, Int):
        return st.integers(spec.min - 1, min(spec.max, spec.min + 10**6) + 1)
    if isinstance(spec, Obj):
        return st.fixed_dictionaries({k: _fitting(s) for k, s in spec.required.items()},
                                     optional={k: _fitting(s) for k, s in spec.optional.items()})
    if isinstance(spec, List):
        return st.lists(_fitting(spec.item), min_size=max(0, spec.min_items - 1),
                        max_size=min(spec.max_items, spec.min_items + 3))
    return json_values
