"""The write path behind :meth:`reelrights.ledger.Ledger.submit`.

:mod:`~reelrights.ledger` states the steps of a batch; these modules hold each step and the
machinery that makes it fast:

* :mod:`.accepted`: what a batch yields (:class:`~.accepted.Accepted`, :class:`~.accepted.Receipt`);
* :mod:`.decode`: step 1, decoding and type-checking entries, and step 2, the signature checks
  (:func:`~reelrights.log.workers.check_signatures`);
* :mod:`.keys`: whose key signs what (the keys known before the lock, those read under it);
* :mod:`.admit`: the log's own rules under the head lock (format, registry, log time, ids);
* :mod:`.apply`: step 4, statements into registry rows (:func:`~.apply.apply_statements`,
  also what a replay runs);
* :mod:`.appender`: the :class:`~.appender.Appender` interface, the two roads a batch can take,
  and :class:`~.appender.SequentialAppender`, the plain reference: one thread, one connection
  per batch, the checks inline, the folder published at once;
* :mod:`.batched`: :class:`~.batched.BatchedAppender`, the fast one the ledger uses: the kept
  SQLite writer connection (:mod:`.connection`), worker processes checking a large batch in full
  while it is applied, publishing in log order across threads (:mod:`.publish`), and no cyclic
  garbage collection during a batch.

Both appenders run the same steps and so give the same receipts, rows, tiles and checkpoints
(``tests/log/test_appenders.py`` compares them byte for byte).
"""
