"""Who sees what: signed reads (RFC 9421) and the visibility matrix (docs/visibility.md).

``matrix`` is the data (record kind x role -> visible fields); ``roles`` computes a reader's
roles from the registry; ``visibility.read_visible`` is the one function every read route calls.
``http_signing`` is the RFC 9421 profile (the client signs with it, the service verifies with
it); ``request_signatures`` adds the registry's keys and the database's nonces. This module
imports nothing, so the client can use ``http_signing`` without the database layer.
"""
