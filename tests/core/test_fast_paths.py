"""The write path's shortcuts give exactly what the general code gives.

* A batch's leaves are built by concatenating canonical bytes (``make_leaves``): they must equal
  the RFC 8785 canonical JSON of ``{"entry": <envelope>, "log": {"time": T}}`` computed by the
  reference implementation (``rfc8785``), for envelopes with escapes and non-ASCII text too.
* ``admission.check_times`` compares signed times with the window's bounds as text: it must
  accept and refuse exactly the times a comparison of parsed instants accepts and refuses,
  whatever the number of fraction digits.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785

from reelrights.admission import Deployment, check_times
from reelrights.core.statements import (
    SignedStatement,
    make_leaf,
    make_leaves,
    make_statement,
    open_leaf,
    parse_time,
    sign_statement,
    utc_now,
)
from reelrights.errors import InvalidStatement, ReelrightsError
from reelrights.keys import PartyKey

REGISTRY = "example.org/films"


def _envelope(title: str) -> bytes:
    key = PartyKey.generate()
    body = {"id": "pty_aaaaaaaaaaaaaaaa", "kind": "studio", "name": title,
            "public_key": "AAAA"}
    return sign_statement(make_statement("party.registered", "pty_aaaaaaaaaaaaaaaa", body,
                                         registry=REGISTRY), key)


@pytest.mark.parametrize("title", ["Northlight", 'quote " and \\ backslash', "tab\there",
                                   "Ünïcödé 東京 😀", "line\nbreak", "\u2028 separator"])
def test_leaves_are_the_reference_jcs(title: str) -> None:
    envelope = _envelope(title)
    log_time = utc_now()
    reference = rfc8785.dumps({"entry": json.loads(envelope), "log": {"time": log_time}})
    leaves = make_leaves([envelope, envelope], log_time)
    assert leaves == [reference, reference]
    assert make_leaf(envelope, log_time) == reference
    assert open_leaf(reference) == (envelope, log_time)


@pytest.mark.parametrize("bad", ["2026-02-30T00:00:00.000000Z", "2026-01-01T00:00:00Z",
                                 "2026-01-01T24:00:00.000000Z", "2026-01-01 00:00:00.000000Z"])
def test_leaves_refuse_a_log_time_that_is_not_one(bad: str) -> None:
    with pytest.raises(ValueError):
        make_leaves([_envelope("x")], bad)


def _statement(time: str) -> SignedStatement:
    return SignedStatement(b"", "work.registered", 1, "pty_aaaaaaaaaaaaaaaa", time, {}, "", b"",
                           "stm_aaaaaaaaaaaaaaaa", REGISTRY)


def _spell(t: datetime, digits: int) -> str:
    """``t`` as a signed time with ``digits`` fraction digits (0: none), truncated."""
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    return base + "Z" if digits == 0 else f"{base}.{t.microsecond:06d}"[:20 + digits] + "Z"


def test_text_comparison_matches_instants() -> None:
    rng = random.Random(7)
    rules = Deployment(REGISTRY, clock_skew_s=300, submission_window_s=72 * 3600)
    log_time = "2026-11-23T12:00:01.250731Z"
    t = parse_time(log_time)
    lo, hi = t - timedelta(seconds=rules.submission_window_s), t + timedelta(seconds=300)
    # Around both bounds (to the microsecond) and anywhere, in every spelling.
    instants = [b + timedelta(microseconds=d) for b in (lo, hi)
                for d in (-1_000_001, -1000, -1, 0, 1, 1000, 1_000_001)]
    instants += [t + timedelta(microseconds=rng.randrange(-400_000_000_000, 400_000_000))
                 for _ in range(2000)]
    checked = 0
    for instant in instants:
        for digits in range(7):
            text = _spell(instant, digits)
            signed = parse_time(text)
            refused: list[ReelrightsError] = []
            check_times([_statement(text)], log_time, rules,
                        lambda p, e, out=refused: out.append(e))
            assert bool(refused) == (not lo <= signed <= hi), text
            checked += 1
    assert checked == len(instants) * 7


# (2026-02-30 is out of the window here: the full parse then refuses it as no real instant.)
@pytest.mark.parametrize("bad", ["2026-11-23T12:00:01.1234567Z", "2026-11-23T12:00:01+00:00",
                                 "2026-11-23t12:00:01Z", "2026-11-23T12:00:01.Z", 20261123,
                                 "2026-11-23T12:00:01Z\n", "2026-02-30T12:00:01Z"])
def test_times_of_another_shape_are_refused_with_the_parse_error(bad) -> None:
    refused: list[ReelrightsError] = []
    rules = Deployment(REGISTRY, clock_skew_s=3600, submission_window_s=30 * 24 * 3600)
    check_times([_statement(bad)], "2026-11-23T12:00:01.250731Z", rules,
                lambda p, e: refused.append(e))
    assert len(refused) == 1 and isinstance(refused[0], InvalidStatement)
    assert refused[0].pointer == "/statement/time"


def test_now_is_inside_the_window() -> None:
    now = datetime.now(UTC)
    refused: list[ReelrightsError] = []
    check_times([_statement(_spell(now, d)) for d in range(7)], utc_now(),
                Deployment(REGISTRY), lambda p, e: refused.append(e))
    assert refused == []
