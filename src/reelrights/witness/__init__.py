"""A C2SP tlog-witness: ``POST /add-checkpoint`` checks a log's new checkpoint against the last
one it cosigned for that origin (a consistency proof), records it atomically and returns a
tlog-cosignature v1 line. ``reelrights witness serve`` runs it (docs/witness.md)."""
