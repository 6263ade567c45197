"""Statement types of sealed bodies: the erasure of one (crypto-shredding; docs/sealed.md)."""

from __future__ import annotations

from ..core.schema import Obj, Str
from ..core.statement_types import StatementType, collector

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

STATEMENT_REF = Str(pattern=r"stm_[a-z2-7]{16}", hint="a statement id like stm_k3vq7xw2m4a6c5de",
                    min_len=20, max_len=20)

register(StatementType(
    "sealed.erased", 1,
    Obj({"statement": STATEMENT_REF, "reason": Str(max_len=2000)}),
    actor_field=None,
    summary="A party a sealed statement names has its private fields and salts deleted "
            "(crypto-shredding): the root stays in the log, the body is gone everywhere the "
            "registry kept it."))
