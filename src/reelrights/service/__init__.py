"""The service's write path, outside the HTTP front door (``reelrights.api`` holds no SQL).

* :mod:`.intake`: what a request carries before the ledger sees it (the signing key's id, the
  lines of a batch);
* :mod:`.limits`: token buckets per signing key and per client address;
* :mod:`.allowlist`: the operator's allowlist of signing keys (``reelrights service allow``);
* :mod:`.coalesce`: group commit: concurrent single submissions share one batch, each refused
  entry answered alone while the rest commit;
* :mod:`.dedupe`: a statement submitted again gets its original receipt;
* :mod:`.writer`: :class:`~.writer.WritePath`, what ``POST /v1/statements`` calls.

docs/service.md ("Writing statements", "Limits and abuse") describes the behaviour.
"""
