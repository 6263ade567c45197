"""The compiled fast paths (``reelrights.core._native``) answer exactly as the pure-Python code
they stand in for, on the files and proofs an attacker would write.

* ``split_proof`` (reading a proof file): for every changed, inserted or deleted character of
  real proof files (each base64 phase of the extra line), as text and as bytes, the C path
  gives the general parser's result or defers to it (None); never another answer.
* ``walk_inclusion``: the same accept or refuse as the pure-Python walk, and the same remembered
  nodes, for good proofs and every changed hash, index, size and length.
* ``may_hold_float``: never says "no float" of JSON text that holds one.
* ``frozen_new`` and ``leaf_hash``: the same objects and hashes as the classes and hashlib.
* With ``REELRIGHTS_PURE_PYTHON=1`` nothing native loads and proof files verify the same.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelrights.core import _accel
from reelrights.core._accel import fast_constructor, native_enabled
from reelrights.core.canonical import canonical_bytes
from reelrights.core.merkle import MemoryTree, leaf_hash
from reelrights.core.statements import SignedStatement
from reelrights.errors import BadInput, ProofError
from reelrights.verify import (
    LogTrust,
    ProvenEntry,
    TlogProof,
    VerifiedEntry,
    VerifiedProof,
    Verifier,
    tlog_proof,
)
from reelrights.verify.inclusion import NodeMemo
from test_verify_fast import _general, _log

native = _accel.native
needs_native = pytest.mark.skipif(native is None, reason="REELRIGHTS_PURE_PYTHON is set")


def test_the_native_module_is_built_and_used() -> None:
    """`pip install -e .` builds it (setup.py); only the switch turns it off."""
    if os.environ.get("REELRIGHTS_PURE_PYTHON", "") not in ("", "0"):
        assert not native_enabled()
        return
    assert native_enabled(), "reelrights.core._native did not build: is libssl-dev installed?"
    assert tlog_proof.native is native


def _agrees(data: str | bytes) -> bool:
    """Whether the C path gave an answer (and assert it is the general parser's)."""
    got = tlog_proof._parse_native(data)
    if got is None:
        return False
    assert got == _general(data), data
    return True


@needs_native
def test_every_changed_character_gives_the_general_answer_or_defers() -> None:
    proofs, _, _ = _log(n_subjects=3)
    for p in proofs:  # three entry lengths: the three phases of the extra line's base64
        text = p.format()
        assert tlog_proof._parse_native(text) == tlog_proof._parse_native(text.encode()) == p
    text = proofs[0].format()
    answered = 0
    for pos in range(len(text)):
        for ch in {"A", "=", "\n", "x", "/", "é"} - {text[pos]}:
            changed = text[:pos] + ch + text[pos + 1:]
            answered += _agrees(changed)
            answered += _agrees(changed.encode("utf-8"))
    # a changed character of the note (after the blank line) still reads: the checkpoint's
    # signature is the verifier's to refuse
    assert answered > 0
    for pos in range(0, len(text), 3):
        for changed in (text[:pos] + text[pos + 1:], text[:pos] + "A" + text[pos:],  # deleted,
                        text[:pos] + "=" + text[pos:]):  # inserted
            answered += _agrees(changed)
            py_fast = tlog_proof._parse_fast(changed)  # the pure-Python one too
            assert py_fast is None or py_fast == _general(changed), pos
        answered += _agrees(text[:pos].encode() + b"\xff" + text[pos:].encode())  # not UTF-8
        answered += _agrees(text[:pos] + "\ud800" + text[pos:])  # not encodable


@needs_native
@given(st.data())
def test_random_cuts_and_splices_give_the_general_answer_or_defer(data) -> None:
    proofs, _, _ = _log(n_subjects=3)
    texts = [p.format() for p in proofs]
    a = data.draw(st.sampled_from(texts))
    b = data.draw(st.sampled_from(texts))
    i = data.draw(st.integers(0, len(a)))
    j = data.draw(st.integers(0, len(b)))
    junk = data.draw(st.text(alphabet="AQgw+/=\n \"{}:,0129éx", max_size=8))
    spliced = a[:i] + junk + b[j:]
    _agrees(spliced)
    _agrees(spliced.encode("utf-8"))


def _with_extra(text: str, change) -> str:
    """The proof file with its extra JSON changed by ``change(bytes) -> bytes``."""
    lines = text.split("\n")
    raw = base64.b64decode(lines[1][len("extra "):])
    lines[1] = "extra " + base64.b64encode(change(raw)).decode()
    return "\n".join(lines)


@needs_native
def test_a_second_entry_key_after_related_is_read_as_the_general_parser_reads_it() -> None:
    """json.loads keeps the last of two "entry" keys: the fast paths, which read the first,
    must defer (the related part is then not JSON alone), never answer with the first."""
    proofs, _, _ = _log(n_subjects=3)
    other = base64.b64encode(proofs[1].subject.entry).decode().encode()
    for p in proofs:
        text = _with_extra(p.format(), lambda raw: raw[:-1] + b',"entry":"' + other + b'"}')
        general = _general(text)
        assert TlogProof.parse(text) == general
        assert tlog_proof._parse_native(text) is None
        assert tlog_proof._parse_fast(text) is None
        if not isinstance(general, tuple):
            assert general.subject.entry == proofs[1].subject.entry


def test_a_stray_pad_after_the_known_head_is_refused_as_the_general_parser_refuses_it() -> None:
    """Found by fuzzing: with the related part's text known from an earlier file, an "=" put
    before it passed strict base64 in the pure-Python fast path; the whole extra line is not
    base64, so both fast paths must defer and the general parser refuse it."""
    proofs, _, _ = _log(n_subjects=3)
    for p in proofs:
        text = p.format()
        assert TlogProof.parse(text) == p  # the related part's text is now known
        extra = text.split("\n")[1]
        for k in range(len("extra ") + 4, len(extra) - 4, 4):  # at each group boundary
            changed = text.replace(extra, extra[:k] + "=" + extra[k:], 1)
            general = _general(changed)
            assert isinstance(general, tuple), k
            assert tlog_proof._parse_fast(changed) is None
            if native is not None:
                assert tlog_proof._parse_native(changed) is None
            with pytest.raises(BadInput):
                TlogProof.parse(changed)


def test_text_with_a_lone_surrogate_is_bad_input_not_a_crash() -> None:
    proofs, _, _ = _log(n_subjects=1)
    text = proofs[0].format() + "\ud800\n"  # in the note
    with pytest.raises(BadInput, match="not UTF-8"):
        TlogProof.parse(text)


@needs_native
def test_a_bytes_subclass_does_not_mix_the_text_and_bytes_caches() -> None:
    class Raw(bytes):
        pass

    proofs, _, _ = _log(n_subjects=1)
    text = proofs[0].format()
    assert TlogProof.parse(Raw(text.encode())) == proofs[0]
    assert TlogProof.parse(text) == proofs[0]
    assert TlogProof.parse(text.encode()) == proofs[0]


@needs_native
def test_a_non_ascii_byte_before_the_note_defers_and_the_note_is_kept_byte_for_byte() -> None:
    proofs, vkey, _ = _log(n_subjects=1)
    text = proofs[0].format()
    assert "—" in text  # the note's signature lines: offsets differ in text and in UTF-8
    data = text.encode("utf-8")
    got = tlog_proof._parse_native(data)
    assert got is not None and got.checkpoint == proofs[0].checkpoint
    assert Verifier(LogTrust(vkey)).verify(TlogProof.parse(data)).subject.index == \
        proofs[0].subject.index
    head, _, note = text.partition("\n\n")
    assert tlog_proof._parse_native(head.replace("index", "indéx") + "\n\n" + note) is None


def _walks(size: int, index: int, leaf: bytes, proof: tuple[bytes, ...], root: bytes,
           c_memo: NodeMemo, py_memo: NodeMemo) -> bool:
    """Both walks on their own memo: the same answer, the same remembered nodes after."""
    c_ok = py_ok = True
    try:
        c_memo.verify(leaf, index, proof)
    except ProofError:
        c_ok = False
    try:
        py_memo._verify_python(leaf, index, proof)
    except ProofError:
        py_ok = False
    assert c_ok == py_ok, (size, index)
    assert c_memo.nodes == py_memo.nodes
    return c_ok


@needs_native
@given(st.integers(1, 300), st.data())
def test_the_c_walk_is_the_python_walk(size: int, data) -> None:
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    root = tree.root()
    c_memo, py_memo = NodeMemo(size, root), NodeMemo(size, root)
    for _ in range(6):
        i = data.draw(st.integers(0, size - 1))
        lh, proof = leaf_hash(i.to_bytes(4, "big")), tuple(tree.inclusion_proof(i))
        assert _walks(size, i, lh, proof, root, c_memo, py_memo)
        assert _walks(size, i, lh, proof, root, c_memo, py_memo)  # through the memo
        for j in range(len(proof)):  # each hash changed: refused by both, nothing remembered
            bad = proof[:j] + (bytes([proof[j][0] ^ 1]) + proof[j][1:],) + proof[j + 1:]
            assert not _walks(size, i, lh, bad, root, c_memo, py_memo)
        for other in (i ^ 1, i + 1, size, -1, 2**64 + i):
            _walks(size, other, lh, proof, root, c_memo, py_memo)
        if proof:  # not exactly bytes: the C walk defers to the Python one
            assert _walks(size, i, lh, (bytearray(proof[0]), *proof[1:]), root, c_memo,
                          py_memo)
        assert not _walks(size, i, leaf_hash(b"x"), proof, root, c_memo, py_memo)
        if proof:
            assert not _walks(size, i, lh, proof[:-1], root, c_memo, py_memo)
        assert not _walks(size, i, lh, proof + (root,), root, c_memo, py_memo)
        assert not _walks(size, i, lh[:31], proof, root, c_memo, py_memo)


@needs_native
def test_the_c_walk_refuses_other_sizes_and_roots_and_defers_beyond_64_bits() -> None:
    size = 77
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    lh, proof = leaf_hash((5).to_bytes(4, "big")), tuple(tree.inclusion_proof(5))
    assert native.walk_inclusion({}, lh, 5, size, proof, tree.root(), 10) is True
    assert native.walk_inclusion({}, lh, 5, size + 64, proof, tree.root(), 10) is False
    assert native.walk_inclusion({}, lh, 5, size, proof, bytes(32), 10) is False
    assert native.walk_inclusion({}, lh, 5, 2**64, proof, tree.root(), 10) is None
    assert native.walk_inclusion({}, lh, -1, size, proof, tree.root(), 10) is None
    nodes: dict = {}
    assert native.walk_inclusion(nodes, lh, 5, size, proof, tree.root(), 2) is True
    assert len(nodes) == 2  # no more than the bound


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from(list('ae.E"\\1-+ x\u00e9\n')), max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet="ae.E1\"\\", max_size=4), inner, max_size=4),
    max_leaves=12)


def _has_float(v) -> bool:
    if isinstance(v, float):
        return True
    if isinstance(v, dict):
        return any(_has_float(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_float(x) for x in v)
    return False


@needs_native
@given(_json)
def test_may_hold_float_never_misses_a_float(value) -> None:
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if _has_float(value):
        assert native.may_hold_float(text)
    if not native.may_hold_float(text):
        assert not _has_float(orjson.loads(text))


@needs_native
def test_may_hold_float_reads_strings_and_literals_as_such() -> None:
    assert not native.may_hold_float(b'{"a":"1.5e3","b":"\\"2.5","c":[true,false,null,-0,7]}')
    assert native.may_hold_float(b'{"a":"x\\\\","b":1.5}')  # an escaped backslash ends a string
    assert native.may_hold_float(b"[1e5]") and native.may_hold_float(b"[1E-5]")
    with pytest.raises(TypeError):
        native.may_hold_float("[1]")


@needs_native
@pytest.mark.parametrize("cls, values", [
    (SignedStatement, (b"{}", "work.registered", 1, "pty_a", "2026-01-01T00:00:00Z", {"a": 1},
                       "0123456789abcdef", b"s" * 64, "stm_a", "x.org", None, 0,
                       "2026-01-01T00:00:00.000000Z", None)),
    (ProvenEntry, (7, b"entry", (b"h" * 32,))),
    (TlogProof, (ProvenEntry(1, b"e", ()), b"note\n", ())),
    (VerifiedEntry, (3, b"l" * 32, None)),
    (VerifiedProof, (None, None, {})),
])
def test_frozen_new_builds_what_the_class_builds(cls, values) -> None:
    make = fast_constructor(cls)
    built = make(*values)
    assert type(built) is cls and built == cls(*values) and repr(built) == repr(cls(*values))
    if cls.__hash__ is not None and cls is not VerifiedProof and cls is not SignedStatement:
        assert hash(built) == hash(cls(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.__setattr__(dataclasses.fields(cls)[0].name, None)
    with pytest.raises(TypeError):
        make(*values[:-1])


@needs_native
@pytest.mark.parametrize("cls", [set, dict, type, memoryview, bytes, int])
def test_frozen_new_refuses_classes_object_new_cannot_make(cls) -> None:
    """Found by fuzzing: object.__new__ called from C skipped Python's own "not safe" check,
    and a half-built set crashed the interpreter on its first use."""
    with pytest.raises(TypeError):
        native.frozen_new(cls, ())


def test_fast_constructor_refuses_a_class_it_cannot_build() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True)
    class Derived:
        x: int
        y: int = dataclasses.field(init=False, default=0)

    for cls in (Checked, Derived, dict):
        with pytest.raises(TypeError):
            fast_constructor(cls)


@needs_native
@given(st.binary(max_size=3000))
def test_leaf_hash_is_rfc9162s(entry: bytes) -> None:
    assert native.leaf_hash(entry) == hashlib.sha256(b"\x00" + entry).digest() == \
        leaf_hash(entry)


def _flim(raw: bytes) -> bytes:
    """The extra with one word of the subject entry changed (its proof then fails)."""
    doc = json.loads(raw)
    entry = base64.b64decode(doc["entry"]).replace(b"Film", b"Flim")
    return canonical_bytes({**doc, "entry": base64.b64encode(entry).decode()})


def test_proof_files_verify_the_same_with_the_native_module_turned_off(tmp_path: Path) -> None:
    proofs, vkey, _ = _log(n_subjects=3)
    files = []
    for k, p in enumerate(proofs):
        f = tmp_path / f"{k}.tlog-proof"
        f.write_text(p.format())
        files.append(str(f))
    bad = tmp_path / "bad.tlog-proof"
    bad.write_text(_with_extra(proofs[0].format(), _flim))
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from reelrights.core._accel import native_enabled\n"
        "from reelrights.verify import LogTrust, TlogProof, Verifier\n"
        "v = Verifier(LogTrust(sys.argv[1]))\n"
        "out = [str(native_enabled())]\n"
        "for f in sys.argv[2:]:\n"
        "    try:\n"
        "        out.append(str(v.verify(TlogProof.parse(Path(f).read_bytes())).subject.index))\n"
        "    except Exception as exc:\n"
        "        out.append(type(exc).__name__)\n"
        "print(' '.join(out))\n")
    runs = {}
    for pure in ("1", "0"):
        env = {**os.environ, "REELRIGHTS_PURE_PYTHON": pure}
        got = subprocess.run([sys.executable, "-c", script, vkey, *files, str(bad)], env=env,
                             capture_output=True, text=True, check=True)
        runs[pure] = got.stdout.split()
    assert runs["1"][0] == "False"
    assert runs["0"][0] == "True"  # built by `pip install -e .`
    assert runs["1"][1:] == runs["0"][1:]
    assert runs["0"][1:-1] == [str(p.subject.index) for p in proofs]
    assert runs["0"][-1] == "ProofError"


def test_the_json_dump_of_a_related_part_matches_canonical_bytes() -> None:
    """_related_of's check: canonical_bytes of the parsed related part is the part itself."""
    proofs, _, _ = _log(n_subjects=1)
    raw = base64.b64decode(proofs[0].format().split("\n")[1][len("extra "):])
    start = raw.find(tlog_proof._EXTRA_MID) + len(tlog_proof._EXTRA_MID)
    assert canonical_bytes(json.loads(raw[start:-1])) == raw[start:-1]


@needs_native
def test_a_memo_holding_other_objects_runs_no_python_code_and_is_not_a_hit() -> None:
    """Found by fuzzing: a remembered proof compared with ``==`` could run an object's __eq__,
    which could free the remembered state under the walk. Only bytes are compared now."""
    nodes: dict = {}

    class Evil:
        def __eq__(self, other: object) -> bool:
            nodes.clear()
            return True

        __hash__ = object.__hash__

    leaf = hashlib.sha256(b"\0x").digest()
    nodes[leaf] = (0, 0, 3, (Evil(), bytes(32)))
    assert native.walk_inclusion(nodes, leaf, 0, 4, (bytes(32), bytes(32)), bytes(32), 10) \
        is False
    nodes[leaf] = (True, 0, 3, (bytes(32), bytes(32)))  # a bool is not the level 0
    assert native.walk_inclusion(nodes, leaf, 0, 4, (bytes(32), bytes(32)), bytes(32), 10) \
        is False
