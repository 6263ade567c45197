"""Interop: an independent C2SP client reads our log from a plain static web server.

`tlog-scales` (PyPI, Apache-2.0) is a separate implementation of tlog-tiles, tlog-checkpoint
and signed notes. Here it fetches our published folder over HTTP from Python's stock
``http.server``. It verifies the checkpoint signature with our verifier key, recomputes the
root from the tiles, and computes inclusion and consistency proofs from the tiles. Those proofs
must be byte-identical to the ones our database serves, and must verify.
"""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
from tlog_scales.backend import HttpBackend
from tlog_scales.reader import TilesReader
from tlog_scales.signing import Vkey

from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.registry.parties import register_party


@pytest.fixture
def served_log(home, ledger):
    """A log of 600 entries in uneven batches (full tiles, partial tiles, level 1), served.

    Its registry.established entry (size 1) and the party's registration (size 2) come first."""
    party = register_party(home, ledger, "studio", "Interop Pictures").details["id"]
    key = home.party_key(party)
    sizes = [7, 255, 2, 256, 78]  # crosses tile boundaries in awkward places
    for n in sizes:
        entries = []
        for _ in range(n):
            wid = new_id("work")
            body = {"id": wid, "kind": "image", "title": f"still {wid}", "owner": party,
                    "assets": [{"sha256": (wid.encode().hex() * 4)[:64], "size": 10,
                                "media_type": "image/png", "category": "image", "name": "a.png"}]}
            entries.append(sign_statement(ledger.new_statement("work.registered", party, body), key))
        ledger.submit(entries)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(home.log_dir))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with ledger.db.read() as conn:
            assert ledger.log.checkpoint_sizes(conn) == [1, 2, 9, 264, 266, 522, 600]
        yield f"http://127.0.0.1:{server.server_address[1]}", 2 + sum(sizes)
    finally:
        server.shutdown()
        server.server_close()


def test_independent_client_verifies_checkpoint_root_and_proofs(served_log, home, ledger) -> None:
    url, size = served_log
    with ledger.db.read() as conn:
        from reelrights.cli.log_cmd import log_vkey

        vkey = log_vkey(home)
        reader = TilesReader(HttpBackend(url))
        cp = reader.get_checkpoint()
        assert cp.size == size and cp.origin == home.origin
        cp.verify(Vkey.from_string(vkey))  # raises if our signature does not verify for them
        root = reader.calculate_root_hash()
        assert root == cp.root_hash == ledger.log.head(conn)[1]

        for index in (0, 1, 255, 256, 257, 511, 512, size - 1):
            theirs = reader.get_inclusion_proof(index, size)
            ours = ledger.log.inclusion(conn, index)
            assert [h.hex() for h in theirs.node_hashes] == ours["proof"]
            theirs.check(bytes.fromhex(ours["leaf_hash"]), root)
            assert reader.get_entry(index) == ledger.log.entry(conn, index)

        for old in (1, 2, 9, 264, 266, 522):  # the sizes that have checkpoints
            theirs = reader.get_consistency_proof(old, size)
            ours = ledger.log.consistency(conn, old)
            assert [h.hex() for h in theirs.node_hashes] == ours["proof"]
            old_root = _root_at(ledger, conn, old)
            theirs.check(old_root, root)


def test_independent_client_rejects_an_altered_checkpoint(served_log, home) -> None:
    import dataclasses

    from reelrights.cli.log_cmd import log_vkey

    url, _ = served_log
    cp = TilesReader(HttpBackend(url)).get_checkpoint()
    forged = dataclasses.replace(cp, root_hash=bytes(32))
    with pytest.raises(Exception):  # noqa: B017 - tlog-scales raises cryptography's InvalidSignature
        forged.verify(Vkey.from_string(log_vkey(home)))


def _root_at(ledger, conn, size: int) -> bytes:  # type: ignore[no-untyped-def]
    from reelrights.core.checkpoint import Checkpoint

    note = ledger.log.checkpoint(conn, size)
    text = note.decode().rpartition("\n\n")[0] + "\n"
    return Checkpoint.parse(text).root
