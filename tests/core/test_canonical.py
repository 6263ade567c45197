"""RFC 8785 (JCS) canonical bytes and the strict canonical parser.

``rfc8785`` (Trail of Bits) is the oracle: for every JSON value it accepts, ``canonical_bytes``
must give the same bytes, whether it takes the ``json`` fast path or not. Known answers come from
RFC 8785 itself: the §3.2.2 example, the §3.2.3 sorting example and the Appendix B number table.
"""

from __future__ import annotations

import json
import math
import struct

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from reelrights.core.canonical import (
    MAX_JSON_DEPTH,
    MAX_SAFE_INTEGER,
    _fast_path_ok,
    canonical_bytes,
    json_depth,
    load_json,
    parse_canonical,
)
from reelrights.errors import BadInput, InvalidStatement

# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

_TRICKY_CHARS = ["\x00", "\x01", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x1f", "\x7f", '"',
                 "\\", "/", "\u0080", "\u00f6", "\u2028", "\u2029", "\u20ac", "\ud7ff", "\ue000",
                 "\ufb33", "\ufeff", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff"]
# Every code point a JSON string can carry (no lone surrogates), weighted towards the tricky ones.
_chars = st.one_of(st.characters(codec="utf-8"), st.sampled_from(_TRICKY_CHARS))
_text = st.text(_chars, max_size=12)
_ascii_text = st.text(st.characters(codec="ascii"), max_size=12)

_ints = st.one_of(
    st.integers(),  # unbounded: many beyond 2**53
    st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER),
    st.sampled_from([0, -1, 2**53 - 1, -(2**53 - 1), 2**53, -(2**53), 2**53 + 1, 2**64, -(2**63)]),
)
_safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5e-324, 1e21, 1e-7, 1e-6, 9007199254740992.0, 1.7976931348623157e308]),
)
_scalars = st.one_of(st.none(), st.booleans(), _ints, _floats, _text)
json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(_text, inner, max_size=5)),
    max_leaves=25,
)
# The fast path's domain: no floats, safe integers, ASCII keys (values may be any Unicode).
fast_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _safe_ints, _text),
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(_ascii_text, inner, max_size=5)),
    max_leaves=25,
)


# ---------------------------------------------------------------------------------------------
# canonical_bytes agrees with rfc8785
# ---------------------------------------------------------------------------------------------

@settings(max_examples=examples(300), deadline=None)
@given(json_values)
@example({"\ue000": 1, "\U0001f600": 2})  # UTF-16 order differs from code point order here
@example({"a": 2**53})
@example(["\x00\x1f\x7f\u2028"])
@example({"\U0001f600": {"\ud7ff": [1.5, -0.0, None]}})
def test_canonical_bytes_matches_rfc8785(value) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(InvalidStatement):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


@settings(max_examples=examples(300), deadline=None)
@given(fast_values)
@example({"b": "\x00", "a": ["\u20ac", "\U0001f600", "\x7f", "\\\"/"]})
@example({"n": MAX_SAFE_INTEGER, "m": -MAX_SAFE_INTEGER})
def test_fast_path_is_taken_and_agrees(value) -> None:
    assert _fast_path_ok(value)
    out = canonical_bytes(value)
    assert out == rfc8785.dumps(value)
    # and the canonical parser accepts its own output, returning an equal value
    assert parse_canonical(out) == value


@pytest.mark.parametrize("value", [
    1.5, [0.5], {"a": 1.0}, 2**53, -(2**53), [2**64], {"é": 1}, {"\U0001f600": "x"}, {1: "x"},
])
def test_fast_path_declines_floats_big_ints_and_non_ascii_keys(value) -> None:
    assert not _fast_path_ok(value)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: not (f.is_integer() and abs(f) > MAX_SAFE_INTEGER)), max_size=6))
def test_float_round_trip_through_parse_canonical(values) -> None:
    out = canonical_bytes(values)
    assert out == rfc8785.dumps(values)
    back = parse_canonical(out)
    assert back == values  # the shortest round-trip form reads back as the same doubles


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), float("-inf"), [float("nan")], {"a": float("inf")},
    2**53, -(2**53), [2**64], {"a": {"b": 10**30}},
    "\ud800", ["\udfff"], {"\ud83d": 1},  # lone surrogates: not Unicode scalar values
    {1: "int key"}, {None: 1}, b"bytes", 1 + 2j, {1, 2}, object(),
])
def test_values_outside_json_are_invalid_statements(value) -> None:
    with pytest.raises(InvalidStatement) as info:
        canonical_bytes(value)
    assert "RFC 8785" in str(info.value)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# Known answers from RFC 8785
# ---------------------------------------------------------------------------------------------

def test_rfc8785_section_3_2_2_example() -> None:
    source = (b'{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
              b'  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
              b'  "literals": [null, true, false]\n}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}').encode("utf-8")
    assert canonical_bytes(json.loads(source)) == expected
    assert parse_canonical(expected) == json.loads(source)


def test_rfc8785_section_3_2_3_sorting_example() -> None:
    source = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16"): "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = ('{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
                '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
                '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
                ).encode("utf-8")
    assert canonical_bytes(source) == expected
    # the RFC's property order, read back from the bytes
    keys = list(json.loads(expected))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert parse_canonical(expected) == source


# RFC 8785 Appendix B: IEEE-754 bit patterns and their serialization (the NaN and Infinity rows
# are errors; JSON cannot carry them).
_APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


@pytest.mark.parametrize(("bits", "text"), _APPENDIX_B, ids=[b for b, _ in _APPENDIX_B])
def test_rfc8785_appendix_b_numbers(bits: str, text: str) -> None:
    value = _double(bits)
    assert canonical_bytes(value) == text.encode("ascii")
    assert canonical_bytes([value, {"n": value}]) == f'[{text},{{"n":{text}}}]'.encode("ascii")


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_rfc8785_appendix_b_nan_and_infinity_are_refused(bits: str) -> None:
    value = _double(bits)
    assert math.isnan(value) or math.isinf(value)
    with pytest.raises(InvalidStatement):
        canonical_bytes({"n": value})


def test_string_escapes_are_the_minimal_jcs_set() -> None:
    value = "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028é\U0001f600'
    out = canonical_bytes(value)
    assert out == rfc8785.dumps(value)
    assert out.startswith(b'"\\u0000\\u0001')
    assert b"\\b\\t\\n\\u000b\\f\\r" in out  # short forms where JSON has them, lowercase hex otherwise
    assert out.endswith('\\"\\\\/\x7f\u2028é\U0001f600"'.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# parse_canonical: only canonical bytes pass
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b'{"a":1,"b":[true,false,null],"c":"\xe2\x82\xac"}',
    b'[]', b'{}', b'"x"', b'0', b'-1', b'9007199254740991', b'1.5', b'1e+30', b'null',
])
def test_parse_canonical_accepts_canonical_bytes(data: bytes) -> None:
    value = parse_canonical(data)
    assert canonical_bytes(value) == data


def _reference_verdict(data: bytes) -> tuple[bool, object]:
    """Canonical iff it is UTF-8 JSON that rfc8785 re-serializes to the very same bytes."""
    try:
        value = json.loads(data.decode("utf-8"))
        return rfc8785.dumps(value) == data, value
    except (ValueError, rfc8785.CanonicalizationError):
        return False, None


_MUTATION_BYTES = [b" ", b"\n", b",", b":", b'"', b"\\", b"0", b"1", b".", b"e", b"-", b"{", b"}",
                   b"[", b"]", b"\xff", b"\xc3", b"\x00", b"\\u00e9", b"NaN", b"a", b""]


@settings(max_examples=examples(400), deadline=None)
@given(json_values, st.data())
def test_parse_canonical_agrees_with_the_reference_on_mutated_bytes(value, data) -> None:
    try:
        doc = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        doc = json.dumps(value, default=str).encode("utf-8", "surrogatepass")
    for _ in range(data.draw(st.integers(0, 2), label="mutations")):
        i = data.draw(st.integers(0, len(doc)), label="at")
        cut = data.draw(st.integers(0, 1), label="replace")
        doc = doc[:i] + data.draw(st.sampled_from(_MUTATION_BYTES), label="with") + doc[i + cut:]
    ok, expected = _reference_verdict(doc)
    if ok:
        assert parse_canonical(doc) == expected
    else:
        with pytest.raises(InvalidStatement):
            parse_canonical(doc)


@pytest.mark.parametrize(("kind", "data"), [
    ("whitespace", b'{"a": 1}'),
    ("whitespace", b' {"a":1}'),
    ("whitespace", b'{"a":1}\n'),
    ("whitespace", b'[1, 2]'),
    ("whitespace", b'{\n"a":1}'),
    ("unsorted keys", b'{"b":1,"a":2}'),
    ("unsorted keys", b'{"a":{"d":1,"c":2}}'),
    ("unsorted keys (UTF-16 order)", '{"\ue000":1,"\U0001f600":2}'.encode("utf-8")),
    ("duplicate keys", b'{"a":1,"a":1}'),
    ("duplicate keys", b'{"a":1,"a":2}'),
    ("duplicate keys", b'{"x":{"a":1,"a":1}}'),
    ("non-UTF-8", b'"\xff"'),
    ("non-UTF-8", b'{"a":"\xc3"}'),
    ("non-UTF-8 (overlong)", b'"\xc0\xaf"'),
    ("non-UTF-8 (encoded surrogate)", b'"\xed\xa0\x80"'),
    ("non-UTF-8 (latin-1)", '{"a":"\u00e9"}'.encode("latin-1")),
    ("BOM", b'\xef\xbb\xbf{}'),
    ("invalid JSON", b""),
    ("invalid JSON", b"{"),
    ("invalid JSON", b"{'a':1}"),
    ("invalid JSON", b"[1,]"),
    ("invalid JSON", b"tru"),
    ("invalid JSON", b'{"a":1}{"b":2}'),
    ("NaN", b"NaN"),
    ("NaN", b'{"a":NaN}'),
    ("Infinity", b"Infinity"),
    ("Infinity", b"[-Infinity]"),
    ("escaped non-ASCII", b'"\\u00e9"'),
    ("unneeded escape", b'"\\/"'),
    ("uppercase hex escape", b'"\\u001F"'),
    ("lone surrogate escape", b'"\\ud800"'),
    ("number form", b"1.0"),
    ("number form", b"1E+30"),
    ("number form", b"1e2"),
    ("number form", b"-0"),
    ("number form", b"0.50"),
    ("unsafe integer", b"9007199254740993"),
])
def test_parse_canonical_rejects(kind: str, data: bytes) -> None:
    with pytest.raises(InvalidStatement) as info:
        parse_canonical(data, what="entries.txt line 7")
    message = str(info.value)
    assert message and "\n" not in message, kind


@pytest.mark.parametrize("data", [b'{"a": 1}', b'{"b":1,"a":2}', b'{"a":1,"a":1}', b"\xff", b"{",
                                  b'"\\u00e9"'])
def test_parse_canonical_names_the_document(data: bytes) -> None:
    with pytest.raises(InvalidStatement, match="upload 12"):
        parse_canonical(data, what="upload 12")


@pytest.mark.parametrize("data", [b"NaN", b'{"a":Infinity}', b"9007199254740993"])
def test_parse_canonical_names_the_document_for_numbers_outside_jcs(data: bytes) -> None:
    with pytest.raises(InvalidStatement, match="upload 12"):
        parse_canonical(data, what="upload 12")


# ---------------------------------------------------------------------------------------------
# Depth: 5,000 nested arrays used to escape as a RecursionError traceback
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 5_000, 100_000])
@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_parse_canonical_refuses_deep_nesting_in_one_line(depth: int, shape: str) -> None:
    data = (b"[" * depth + b"]" * depth if shape == "arrays"
            else b'{"a":' * depth + b"1" + b"}" * depth)
    with pytest.raises(InvalidStatement) as info:
        parse_canonical(data, what="entries.txt line 3")
    message = str(info.value)
    assert "entries.txt line 3" in message and str(MAX_JSON_DEPTH) in message
    assert "\n" not in message


def test_parse_canonical_accepts_nesting_at_the_limit() -> None:
    data = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert json_depth(parse_canonical(data)) == MAX_JSON_DEPTH


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000])
def test_load_json_bounds_depth_and_names_the_file(depth: int) -> None:
    text = '{"k": ' * depth + "null" + "}" * depth
    with pytest.raises(BadInput, match=rf"policy\.json: .*more than {MAX_JSON_DEPTH} levels"):
        load_json(text.encode(), what="policy.json")
    assert load_json('{"k": [1, {"x": 2}]}', what="x") == {"k": [1, {"x": 2}]}


def test_canonical_bytes_refuses_a_value_too_deep_to_serialise() -> None:
    value: list = []
    for _ in range(5_000):
        value = [value]
    with pytest.raises(InvalidStatement, match=str(MAX_JSON_DEPTH)):
        canonical_bytes(value)
