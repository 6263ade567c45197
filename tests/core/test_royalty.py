"""Royalty arithmetic: exact money, largest-remainder allocation, share trees, thresholds."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from reelrights.core.money import convert, exponent, format_amount, parse_amount, parse_rate
from reelrights.core.royalty import Split, allocate, apply_threshold, flatten
from reelrights.errors import BadInput

# -- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code,exp", [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0),
                                      ("BHD", 3), ("KWD", 3), ("CLF", 4), ("gbp", 2)])
def test_iso4217_exponents(code: str, exp: int) -> None:
    assert exponent(code) == exp


@pytest.mark.parametrize("code", ["XAU", "XTS", "ABC", "US", ""])
def test_unpayable_or_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(BadInput, match="ISO 4217"):
        exponent(code)


@pytest.mark.parametrize("text,cur,minor", [("1234.50", "USD", 123450), ("-0.01", "USD", -1),
                                            ("1200", "JPY", 1200), ("1.5", "BHD", 1500),
                                            ("7.000", "USD", 700), ("+3", "EUR", 300)])
def test_parse_amount_exact(text: str, cur: str, minor: int) -> None:
    assert parse_amount(text, cur) == minor


@pytest.mark.parametrize("text,cur", [("1.005", "USD"), ("12.5", "JPY"), ("1,000.00", "USD"),
                                      ("1e3", "USD"), ("", "USD"), ("NaN", "EUR")])
def test_parse_amount_refuses_what_it_cannot_represent(text: str, cur: str) -> None:
    with pytest.raises(BadInput):
        parse_amount(text, cur)


@given(st.integers(-10**15, 10**15), st.sampled_from(["USD", "JPY", "BHD", "CLF"]))
def test_format_parse_round_trip(minor: int, cur: str) -> None:
    assert parse_amount(format_amount(minor, cur), cur) == minor


def test_convert_rounds_half_away_from_zero_and_mirrors() -> None:
    # 1.25 USD at 0.5 EUR/USD = 0.625 EUR -> 0.63; the refund mirrors it exactly.
    assert convert(125, "USD", "EUR", Fraction(1, 2)) == 63
    assert convert(-125, "USD", "EUR", Fraction(1, 2)) == -63
    # Across exponents: 1000 JPY at 0.0067 USD/JPY = 6.70 USD.
    assert convert(1000, "JPY", "USD", parse_rate("0.0067")) == 670
    assert convert(100, "USD", "BHD", parse_rate("0.376")) == 376


def test_parse_rate_refuses_nonpositive() -> None:
    with pytest.raises(BadInput):
        parse_rate("0")
    with pytest.raises(BadInput):
        parse_rate("abc")


# -- allocation -------------------------------------------------------------------------------


def test_three_way_split_of_one_hundred_cents() -> None:
    # Exact thirds: 33.33.. each; the one left-over cent goes to the smallest key on a tie.
    assert allocate(100, {"b": Fraction(1, 3), "a": Fraction(1, 3), "c": Fraction(1, 3)}) == \
        {"a": 34, "b": 33, "c": 33}


def test_largest_remainder_beats_key_order() -> None:
    # 10 units by 0.26/0.35/0.39: exact 2.6/3.5/3.9 -> floors 2/3/3, two left: .9 then .6.
    got = allocate(10, {"a": Fraction(26, 100), "b": Fraction(35, 100), "z": Fraction(39, 100)})
    assert got == {"a": 3, "b": 3, "z": 4}


def test_guild_streaming_bonus_75_25() -> None:
    shares = flatten(Split(((3, "pty_performers"), (1, "pty_guild_fund"))))
    assert allocate(1001, shares) == {"pty_performers": 751, "pty_guild_fund": 250}


money = st.integers(-10**12, 10**12)
weights = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=6),
                          st.fractions(min_value=0, max_value=1000, max_denominator=997),
                          min_size=1, max_size=40).filter(lambda d: sum(d.values()) > 0)


@settings(max_examples=examples(300))
@given(money, weights)
def test_every_pool_sums_exactly_and_each_line_is_within_one_unit(total: int, shares) -> None:
    got = allocate(total, shares)
    assert sum(got.values()) == total
    whole = sum(shares.values())
    for key, amount in got.items():
        exact = Fraction(total) * shares[key] / whole
        assert abs(amount - exact) < 1


@settings(max_examples=examples(200))
@given(money, weights, st.randoms())
def test_input_order_never_changes_a_payout(total: int, shares, rnd: random.Random) -> None:
    items = list(shares.items())
    rnd.shuffle(items)
    assert allocate(total, dict(items)) == allocate(total, shares)


@given(money, weights)
def test_negative_pool_mirrors_positive(total: int, shares) -> None:
    pos = allocate(abs(total), shares)
    assert allocate(-abs(total), shares) == {k: -v for k, v in pos.items()}


def test_flatten_multiplies_levels_exactly() -> None:
    tree = Split((
        (3600, Split(((1, "studio"), (1, Split(((Fraction(1, 4), "writer"),
                                                (Fraction(3, 4), "actor"))))))),
        (1200, "other-studio"),
    ))
    shares = flatten(tree)
    assert shares == {"studio": Fraction(3, 8), "writer": Fraction(3, 32),
                      "actor": Fraction(9, 32), "other-studio": Fraction(1, 4)}
    assert sum(shares.values()) == 1


def test_flatten_adds_a_payee_reached_twice() -> None:
    shares = flatten(Split(((1, "a"), (1, Split(((1, "a"), (1, "b")))))))
    assert shares == {"a": Fraction(3, 4), "b": Fraction(1, 4)}


@pytest.mark.parametrize("parts", [(), ((0, "a"),), ((-1, "a"),), ((0.5, "a"),)])
def test_bad_splits_are_refused(parts) -> None:
    with pytest.raises(BadInput):
        Split(parts, label="bundle bnd_x")


def test_threshold_carries_small_balances_forward() -> None:
    payouts, forward = apply_threshold({"a": 1500, "b": 400, "c": 0}, 1000, {"b": 700, "d": 5})
    assert payouts == {"a": 1500, "b": 1100}
    assert forward == {"d": 5}
    payouts, forward = apply_threshold({"a": 999}, 1000)
    assert payouts == {} and forward == {"a": 999}
