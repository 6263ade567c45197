"""Click parameter types that check input where it is typed, naming the option and the fix."""

from __future__ import annotations

from typing import Any

import click

from ..core.ids import check_external_id
from ..core.schema import parse_ratio


class ShareType(click.ParamType):
    name = "SHARE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            share = parse_ratio(str(value))
        except ValueError as exc:
            self.fail(f"{exc}", param, ctx)
        if not 0 < share <= 1:
            self.fail(f"{value} must be greater than 0 and at most 1 (e.g. 0.25)", param, ctx)
        return str(value)


class ExternalIdType(click.ParamType):
    name = "SCHEME:ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        problem = check_external_id(value)
        if problem:
            self.fail(problem, param, ctx)
        return value


class PartyIdType(click.ParamType):
    name = "SCHEME:ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        problem = check_external_id(value, party=True)
        if problem:
            self.fail(problem, param, ctx)
        return value


class LogIndexType(click.ParamType):
    name = "INDEX"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            n = int(value)
        except ValueError:
            self.fail(f"{value!r} is not a whole number", param, ctx)
        if n < 0:
            self.fail(f"{n} is negative; log indices start at 0", param, ctx)
        return n


SHARE = ShareType()
EXTERNAL_ID = ExternalIdType()
PARTY_ID = PartyIdType()
LOG_INDEX = LogIndexType()
