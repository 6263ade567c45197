"""Statement types of the creative fund: productions, revenue reports, fund terms, statements.

A production (a film or an episode) is registered by its studio and names the generated outputs
it uses and the training runs behind them. Revenue reports carry their canonical rows in the
log itself (so any reader can replay the allocation), keyed by the SHA-256 of those rows, which
makes an import idempotent. Money inside a report is exact decimal text in the currency's ISO
4217 minor unit; it becomes integer minor units in the registry (:mod:`reelrights.core.money`).
A statement to a party is logged as its hash and summary; the document itself is recomputable
from the log (``reelrights fund verify``). See docs/fund.md.
"""

from __future__ import annotations

import base64
import hashlib
import re

from ..core.ids import ID_PATTERNS
from ..core.schema import Int, List, Obj, Ratio, Str
from ..core.statement_types import NAME, PARTY_ID, SHA256, StatementType, collector
from ..evidence.run_types import RUN_ID
from ..rights.types import BUNDLE_ID, DATE, LICENSE_ID, PERCENT

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

__all__ = ["PRODUCTION_ID", "REPORT_ID", "STATEMENT_ID", "UNITS", "derived_id",
           "parse_period", "quarter_of"]

PRODUCTION_ID = Str(pattern=ID_PATTERNS["production"],
                    hint="a production id like prd_k3vq7xw2m4a6c5de", max_len=20)
OUTPUT_ID = Str(pattern=ID_PATTERNS["output"], hint="an output id like out_k3vq7xw2m4a6c5de",
                max_len=20)
REPORT_ID = Str(pattern=r"rev_[a-z2-7]{16}", hint="a revenue report id like rev_k3vq7xw2m4a6c5de",
                max_len=20)
STATEMENT_ID = Str(pattern=r"fst_[a-z2-7]{16}", hint="a statement id like fst_k3vq7xw2m4a6c5de",
                   max_len=20)
CURRENCY = Str(pattern=r"[A-Z]{3}", hint="an ISO 4217 code like USD", min_len=3, max_len=3)
QUARTER = Str(pattern=r"[0-9]{4}-Q[1-4]", hint="a quarter like 2027-Q1", min_len=7, max_len=7)
PERIOD = Str(pattern=r"[0-9]{4}-(Q[1-4]|0[1-9]|1[0-2])",
             hint="a quarter like 2027-Q1 or a month like 2027-03", min_len=7, max_len=7)
DECIMAL = Str(pattern=r"-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,4})?",
              hint="an exact decimal amount like 1234.50", max_len=24)
RATE = Str(pattern=r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?", hint="an exchange rate like 0.9213",
           max_len=25)
UNITS = ("items", "seconds", "frames", "tokens", "images")

register(StatementType(
    "production.registered", 1,
    Obj({"id": PRODUCTION_ID, "studio": PARTY_ID, "title": NAME,
         "kind": Str(choices=("film", "episode")), "currency": CURRENCY},
        {"year": Int(min=1850, max=2200)}),
    actor_field="studio",
    summary="A studio registers a film or episode production and the fund currency its "
            "revenue pools are converted to."))

register(StatementType(
    "production.uses", 1,
    Obj({"production": PRODUCTION_ID,
         "outputs": List(Obj({"output": OUTPUT_ID, "run": RUN_ID},
                             {"weights": List(Obj({"bundle": BUNDLE_ID, "weight": Ratio()}),
                                              min_items=1, max_items=50, unique_by="bundle")}),
                         min_items=1, max_items=500, unique_by="output")}),
    actor_field=None,
    summary="The production's studio records the generated outputs the production uses and "
            "the training run each came from (optionally with attribution weights per bundle)."))

register(StatementType(
    "fund.terms", 1,
    Obj({"license": LICENSE_ID, "licensor": PARTY_ID},
        {"basis": Str(choices=("units", "attribution")), "unit": Str(choices=UNITS),
         "contributors_share": PERCENT}),
    actor_field="licensor",
    summary="The licensor sets how the fund splits a license's money: the usage basis "
            "(licensed units or attribution weights) and the contributors' share.",
    sealed=("basis", "unit", "contributors_share")))

register(StatementType(
    "revenue.reported", 1,
    Obj({"id": REPORT_ID, "reporter": PARTY_ID, "period": QUARTER, "rows_sha256": SHA256,
         "rows": List(Obj({"production": PRODUCTION_ID, "period": PERIOD,
                           "territory": Str(pattern=r"[A-Z]{2}|WORLD",
                                            hint="an ISO 3166 alpha-2 code or WORLD", max_len=5),
                           "currency": CURRENCY, "gross": DECIMAL, "deductions": DECIMAL}),
                      min_items=1, max_items=400),
         "rates": List(Obj({"from": CURRENCY, "to": CURRENCY, "rate": RATE,
                            "source": Str(max_len=200), "date": DATE}),
                       max_items=50)},
        {"supersedes": REPORT_ID, "file": Str(max_len=300)}),
    actor_field="reporter",
    summary="A studio (or the fund) reports one production revenue report, booked in a "
            "quarter; a correction names the report it supersedes.",
    sealed=("rows_sha256", "rows", "rates", "file"), sealed_rows=("rows",)))

register(StatementType(
    "fund.statement", 1,
    Obj({"id": STATEMENT_ID, "fund": PARTY_ID, "party": PARTY_ID, "period": QUARTER,
         "as_of": Int(), "sha256": SHA256, "inputs_sha256": SHA256, "threshold": DECIMAL,
         "totals": List(Obj({"currency": CURRENCY, "earned": DECIMAL, "adjustments": DECIMAL,
                             "carried_in": DECIMAL, "paid": DECIMAL,
                             "carried_forward": DECIMAL}), max_items=50)}),
    actor_field="fund",
    summary="The fund operator issues a party's statement for a quarter: the SHA-256 of the "
            "canonical document, the hash of its inputs and its totals.",
    sealed=("sha256", "inputs_sha256", "threshold", "totals"), sealed_rows=("totals",)))


_B32 = base64.b32encode


def derived_id(prefix: str, *parts: str) -> str:
    """A deterministic id (prefix + 80 bits of SHA-256 in base32) from its defining parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return f"{prefix}_{_B32(digest[:10]).decode('ascii').lower()}"


_PERIOD_RE = re.compile(r"([0-9]{4})-(?:Q([1-4])|(0[1-9]|1[0-2]))")


def parse_period(text: str) -> tuple[int, int, int]:
    """``2027-Q1`` -> (2027, 1, 3); ``2027-03`` -> (2027, 3, 3): year, first and last month."""
    m = _PERIOD_RE.fullmatch(text or "")
    if m is None:
        raise ValueError(f"{text!r} is not a period like 2027-Q1 or 2027-03")
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        return year, 3 * q - 2, 3 * q
    month = int(m.group(3))
    return year, month, month


def quarter_of(text: str) -> str:
    """The quarter a period falls in (``2027-03`` -> ``2027-Q1``; a quarter is itself)."""
    year, first, _ = parse_period(text)
    return f"{year}-Q{(first - 1) // 3 + 1}"
