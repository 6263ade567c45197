"""Money as integer minor units, per ISO 4217.

Every amount in the creative fund is an ``int`` count of the currency's minor unit (cents for
USD, yen for JPY, fils for BHD). Decimal text is parsed exactly (no float ever touches money) and
refused when it has more decimals than the currency allows. Conversion between currencies
happens once per pool, with an exact rate, rounding half away from zero to the target's minor
unit; the rate and the rounding are both recorded by the caller.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import pycountry

from ..errors import BadInput

__all__ = ["exponent", "format_amount", "parse_amount", "parse_rate", "convert"]

#: ISO 4217 currencies whose minor unit is not 1/100 (list of codes, maintained by SIX Group).
#: Every other active code in pycountry's ISO 4217 table has two decimals.
_EXPONENT_EXCEPTIONS = {
    # no minor unit
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # thousandths
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # ten-thousandths (units of account)
    "CLF": 4, "UYW": 4,
}
#: Codes that are not money one can pay out (precious metals, testing, "no currency").
_NOT_PAYABLE = {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS",
                "XUA", "XXX"}

_AMOUNT_RE = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")  # fullmatch: no exponents, no thousands marks


def exponent(currency: str) -> int:
    """The number of decimals of ``currency``'s minor unit (USD 2, JPY 0, BHD 3)."""
    code = currency.upper() if isinstance(currency, str) else ""
    if code in _NOT_PAYABLE or len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise BadInput(f"currency {currency!r} is not a payable ISO 4217 code; use a code like "
                       "USD, EUR, GBP or JPY")
    return _EXPONENT_EXCEPTIONS.get(code, 2)


def parse_amount(text: str, currency: str, *, what: str = "amount") -> int:
    """Exact decimal text (``"1234.50"``) -> integer minor units of ``currency``."""
    exp = exponent(currency)
    raw = text.strip() if isinstance(text, str) else ""
    if not _AMOUNT_RE.fullmatch(raw):
        raise BadInput(f"{what} {text!r} is not a decimal number; write it like 1234.50 "
                       "(no thousands separators, no exponent)")
    units, _, decimals = raw.lstrip("+-").partition(".")
    if len(decimals) > exp:
        if decimals[exp:].strip("0"):
            raise BadInput(f"{what} {text!r} has more than {exp} decimals, the minor unit of "
                           f"{currency.upper()}; round it in the report")
        decimals = decimals[:exp]
    value: int = int(units) * 10 ** exp + (int(decimals.ljust(exp, "0")) if exp else 0)
    return -value if raw.startswith("-") else value


def format_amount(minor: int, currency: str) -> str:
    """Integer minor units -> exact decimal text (``123450, "USD"`` -> ``"1234.50"``)."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10 ** exp)
    return f"{sign}{whole}.{part:0{exp}d}" if exp else f"{sign}{whole}"


def parse_rate(text: str, *, what: str = "exchange rate") -> Fraction:
    """An exchange rate as an exact positive fraction (decimal text, e.g. ``"0.9213"``)."""
    try:
        rate = Fraction(Decimal(text.strip()))
    except (InvalidOperation, AttributeError, ValueError):
        raise BadInput(f"{what} {text!r} is not a decimal number; write it like 0.9213") from None
    if rate <= 0:
        raise BadInput(f"{what} {text!r} must be positive")
    return rate


def convert(minor: int, source: str, target: str, rate: Fraction) -> int:
    """``minor`` units of ``source`` times ``rate`` (target per source), in ``target`` minor units.

    Rounded half away from zero, so that a negative adjustment converts to exactly the negative
    of the positive one.
    """
    exact = Fraction(minor) * rate * Fraction(10 ** exponent(target), 10 ** exponent(source))
    magnitude = abs(exact)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * rest >= magnitude.denominator:
        whole += 1
    return whole if exact >= 0 else -whole
