"""Pure verifiers: check reelrights' artifacts from public material only.

The inputs are the entry bytes, inclusion proofs, a checkpoint, the log's public key
(``log.vkey``) and the witnesses' keys: a c2sp.org/tlog-proof file (:mod:`.tlog_proof`) carries
them all but the keys. Never a home, a private key or a database row. This package imports only
``reelrights.core`` and ``reelrights.errors`` (``tests/test_architecture.py`` holds it to that),
so it runs on a machine that never talked to the service. docs/verify.md says what each
verifier checks.
"""

from __future__ import annotations

from .artifacts import (
    verify_certificate,
    verify_fund_statement,
    verify_license,
    verify_output_record,
    verify_run_usage,
    verify_subject,
)
from .entries import VerifiedEntry, VerifiedProof, Verifier
from .tlog_proof import ProvenEntry, TlogProof
from .trust import LogTrust, TrustedCheckpoint

__all__ = ["LogTrust", "ProvenEntry", "TlogProof", "TrustedCheckpoint", "VerifiedEntry",
           "VerifiedProof", "Verifier", "verify_certificate", "verify_fund_statement",
           "verify_license", "verify_output_record", "verify_run_usage", "verify_subject"]
