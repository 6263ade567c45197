"""One table (errors.PROBLEM_TYPES) says how each error is told over HTTP: the service's
problem_for and the client's error_from_problem agree on every row, both ways."""

from __future__ import annotations

import json

import pytest

from reelrights.api.problems import problem_for
from reelrights.client.problems import ServiceError, error_from_problem
from reelrights.errors import (
    PROBLEM_TYPES,
    DiskFull,
    ForkRefused,
    InvalidStatement,
    KeyNotAllowed,
    ReelrightsError,
    SignatureError,
    Unavailable,
    WritesFrozen,
)


def _instance(cls: type[ReelrightsError]) -> ReelrightsError:
    if cls is DiskFull:
        return DiskFull("the database")
    if cls is KeyNotAllowed:
        return KeyNotAllowed("key ed25519:AAAA is not allowed", "ed25519:AAAA")
    return cls(f"statement 3 of 5: a {cls.__name__} happened")


@pytest.mark.parametrize("cls,status,slug,title", PROBLEM_TYPES,
                         ids=[row[2] for row in PROBLEM_TYPES])
def test_each_row_round_trips(cls, status, slug, title) -> None:
    exc = _instance(cls)
    problem = problem_for(exc)
    assert (problem.status, problem.slug, problem.title) == (status, slug, title)
    body = json.loads(problem.response().body)
    back = error_from_problem(status, body, "http://127.0.0.1/v1/statements")
    # The server's full disk is a fault of the service, not the client's own DiskFull.
    assert type(back) is (ServiceError if cls is DiskFull else cls)
    assert str(back) == str(exc) and back.exit_code == exc.exit_code
    if "statement 3 of 5" in str(exc):
        assert body["position"] == 2 and back.position == 2


@pytest.mark.parametrize("exc,slug", [
    (InvalidStatement("bad field", "/statement/body"), "invalid-statement"),
    (SignatureError("does not verify"), "verification-failed"),
    (WritesFrozen("frozen by the operator"), "unavailable"),
    (ForkRefused("behind the published checkpoint"), "unavailable"),
])
def test_subclasses_take_their_nearest_row(exc, slug) -> None:
    problem = problem_for(exc)
    assert problem.slug == slug
    if isinstance(exc, Unavailable):
        assert int(problem.headers["Retry-After"]) == exc.retry_after


def test_an_error_outside_the_tree_is_an_internal_problem() -> None:
    class Odd(ReelrightsError):
        pass
    assert (problem_for(Odd("odd")).status, problem_for(Odd("odd")).slug) == (500, "internal")
