#!/usr/bin/env python
"""Verify offline proof files (c2sp.org/tlog-proof) on one core, beside raw Ed25519 verifies.

    python benchmarks/verify_bundles.py                  # a 262,144-leaf log, 20,000 proofs
    python benchmarks/verify_bundles.py --size 1048576 --bundles 50000 --seconds 5

Set-up (not timed): a log of ``--size`` leaves, of which ``--bundles`` are real v2 statements
(``work.registered``, each signed by one of 100 parties, each with its own microsecond time as
``utc_now`` writes it) at random indices and the rest filler leaves; each party's
``party.registered`` statement in the log; one signed checkpoint. Each statement's proof file
carries its entry, its inclusion proof, its signer's key statement (with its own proof) and the
checkpoint, formatted as text, as ``reelrights log proof`` writes it.

Timed, on one core, in CPU seconds of this process (a shared machine deschedules it; CPU time
still counts only the work), in ``--rounds`` interleaved rounds whose medians are printed, so
the three meet the same machine:

1. **raw Ed25519**: ``crypto_sign_open`` (libsodium) of the statements' own signed messages:
   the ceiling for anything that checks one signature per statement;
2. **bundles**: :class:`reelrights.verify.Verifier` over the proof files' bytes (as
   ``reelrights verify`` reads a file): parse the tlog-proof and its extra, hash the leaves,
   check both inclusion proofs, decode the statement and check its signature under the
   signer's key. The checkpoint's signature is checked once and cached by the note's bytes,
   and so is the signer's key statement (the same few in every file), as a verifier of many
   proofs does; a file whose related entries
   (the same text, parsed once) verified with an earlier file has only its subject checked; it
   also remembers the inclusion proofs' nodes it computed (:mod:`reelrights.verify.inclusion`:
   the upper levels are shared), a fresh verifier per pass;
3. **proof only**: the leaf hash and its RFC 9162 inclusion proof against the (verified)
   checkpoint's root, per proof.

The byte work (reading the file, walking the proofs, building the decoded objects) runs in C
where ``reelrights.core._native`` was built (``pip install -e .``); the run then repeats itself
with ``REELRIGHTS_PURE_PYTHON=1`` in a second process, so the pure-Python paths' figures print
beside (``--no-pure-python`` skips that).

Target (issue 14): bundles >= 0.6 x raw Ed25519 in the same run; proof only >= 20,000/s. It
prints the figures and the ratio; it never asserts.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nacl.bindings import crypto_sign_open  # noqa: E402

from reelrights.core._accel import native_enabled  # noqa: E402
from reelrights.core.checkpoint import Checkpoint, sign_checkpoint  # noqa: E402
from reelrights.core.ids import new_id  # noqa: E402
from reelrights.core.merkle import MemoryTree, leaf_hash, verify_inclusion  # noqa: E402
from reelrights.core.note import NoteSigner  # noqa: E402
from reelrights.core.statements import decode_entry, make_leaf, make_statement, sign_statement  # noqa: E402
from reelrights.keys import PartyKey  # noqa: E402
from reelrights.verify import LogTrust, ProvenEntry, TlogProof, Verifier  # noqa: E402

REGISTRY = "bench.example/registry"
LOG_TIME = "2026-12-01T12:00:00.000000Z"
TIME = "2026-12-01T11:59:00Z"


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[-1]})


def build(size: int, bundles: int, seed: int = 7) -> tuple[list[bytes], str, list[bytes]]:
    rng = random.Random(seed)
    parties = []
    leaves: dict[int, bytes] = {}
    for k in range(100):
        key = PartyKey(rng.randbytes(32))
        pid = new_id("party")
        body = {"id": pid, "kind": "studio", "name": f"Studio {k}",
                "public_key": base64.b64encode(key.public_key_bytes).decode()}
        leaves[k] = make_leaf(sign_statement(make_statement("party.registered", pid, body, TIME,
                                                            registry=REGISTRY), key), LOG_TIME)
        parties.append((k, pid, key))
    spots = rng.sample(range(100, size), bundles)
    subjects = []
    for i in spots:
        k, pid, key = parties[rng.randrange(100)]
        body = {"id": new_id("work"), "kind": "film", "title": f"Film {i}", "owner": pid,
                "year": 2026, "assets": [{"sha256": rng.randbytes(32).hex(), "size": 1000,
                                          "media_type": "video/mp4", "category": "video",
                                          "name": "film.mp4"}]}
        when = f"{TIME[:-3]}{rng.randrange(60):02d}.{rng.randrange(10**6):06d}Z"  # as utc_now()
        leaves[i] = make_leaf(sign_statement(make_statement("work.registered", pid, body, when,
                                                            registry=REGISTRY), key), LOG_TIME)
        subjects.append((i, k))
    tree = MemoryTree(leaf_hash(leaves[i]) if i in leaves else leaf_hash(i.to_bytes(8, "big"))
                      for i in range(size))
    signer = NoteSigner("bench.example/log", rng.randbytes(32))
    note = sign_checkpoint(Checkpoint("bench.example/log", size, tree.root()), signer)
    texts = []
    for i, k in subjects:
        key_entry = ProvenEntry(k, leaves[k], tuple(tree.inclusion_proof(k)))
        texts.append(TlogProof(ProvenEntry(i, leaves[i], tuple(tree.inclusion_proof(i))), note,
                               (key_entry,)).format().encode("utf-8"))
    return texts, signer.vkey, [leaves[i] for i, _ in subjects]


def rate(fn, items: list, seconds: float, fresh=None) -> float:
    """Items per CPU-second of this process over whole passes (CPU time, not wall time: on a
    shared machine the process is descheduled, which says nothing of the code). ``fresh()``
    runs before each pass (a new verifier, so no proof file is verified twice by one)."""
    n, start = 0, time.process_time()
    while True:
        if fresh is not None:
            fresh()
        for it in items:
            fn(it)
        n += len(items)
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=1 << 18, help="log size (leaves)")
    ap.add_argument("--bundles", type=int, default=20_000, help="proof files to verify")
    ap.add_argument("--seconds", type=float, default=6.0,
                    help="CPU seconds per measurement, split over the rounds")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians)")
    ap.add_argument("--no-pure-python", action="store_true",
                    help="skip the second run with the C fast paths off (REELRIGHTS_PURE_PYTHON=1)")
    args = ap.parse_args()
    if not native_enabled():
        print("C fast paths (reelrights.core._native): OFF, the pure-Python paths")
    else:
        print("C fast paths (reelrights.core._native): on")
    _pin_one_core()
    t = time.perf_counter()
    texts, vkey, entries = build(args.size, args.bundles)
    print(f"set-up: {args.bundles:,} proof files in a log of {args.size:,} leaves "
          f"({len(texts[0]):,} bytes each), {time.perf_counter() - t:.1f} s; one core")
    signed = [decode_entry(e) for e in entries]
    keys = {s.actor: None for s in signed}
    messages = [s.signed_message() for s in signed]
    pk_of = {}
    for text in texts[:2000]:
        p = TlogProof.parse(text)
        k = decode_entry(p.related[0].entry)
        pk_of[k.actor] = base64.b64decode(k.body["public_key"])
    pks = [pk_of.get(s.actor) for s in signed]
    pairs = [(m, pk) for m, pk in zip(messages, pks) if pk is not None]
    del keys

    trust = LogTrust(vkey)  # caches the opened checkpoint by the note's bytes
    current = [Verifier(trust)]

    def fresh() -> None:  # remembers only the 100 key statements between proof files
        current[0] = Verifier(trust)

    cp = trust.open(TlogProof.parse(texts[0]).checkpoint).checkpoint
    parsed = [TlogProof.parse(text).subject for text in texts]
    # Interleaved rounds, medians: the three meet the same machine.
    rounds: list[tuple[float, float, float]] = []
    for _ in range(args.rounds):
        slice_s = args.seconds / args.rounds
        raw_r = rate(lambda mp: crypto_sign_open(mp[0], mp[1]), pairs, slice_s)
        full_r = rate(lambda text: current[0].verify(TlogProof.parse(text)), texts, slice_s,
                      fresh)
        proof_r = rate(lambda e: verify_inclusion(leaf_hash(e.entry), e.index, cp.size,
                                                  e.proof, cp.root), parsed, slice_s)
        rounds.append((raw_r, full_r, proof_r))
    raw = statistics.median(r[0] for r in rounds)
    full = statistics.median(r[1] for r in rounds)
    proof_only = statistics.median(r[2] for r in rounds)
    ratio = statistics.median(r[1] / r[0] for r in rounds)
    print(f"median of {args.rounds} interleaved rounds, per CPU-second of one core:")
    print(f"raw Ed25519 verify:                      {raw:>10,.0f}/s")
    print(f"proof files (signature checked, checkpoint and key statement cached): "
          f"{full:>10,.0f}/s  = {ratio:.2f} x raw Ed25519 (target >= 0.60: "
          f"{'met' if ratio >= 0.6 else 'NOT met'})")
    print(f"proof only (leaf hash + inclusion, depth {len(parsed[0].proof)}): "
          f"{proof_only:>10,.0f}/s (target >= 20,000/s: "
          f"{'met' if proof_only >= 20_000 else 'NOT met'})")
    if native_enabled() and not args.no_pure_python:
        # The same measurements with the C fast paths off, in a second process of this run.
        print("\nthe same with REELRIGHTS_PURE_PYTHON=1 (the pure-Python paths):", flush=True)
        subprocess.run([sys.executable, __file__, "--size", str(args.size), "--bundles",
                        str(args.bundles), "--seconds", str(args.seconds), "--rounds",
                        str(args.rounds), "--no-pure-python"],
                       env={**os.environ, "REELRIGHTS_PURE_PYTHON": "1"}, check=True)


if __name__ == "__main__":
    main()
