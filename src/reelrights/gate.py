"""``reelrights.gate``: the training-time gate (public API; see
:mod:`reelrights.evidence.gate` and docs/runs.md, "The training gate")."""

from .evidence.gate import TrainingGate, describe_mapping

__all__ = ["TrainingGate", "describe_mapping"]
