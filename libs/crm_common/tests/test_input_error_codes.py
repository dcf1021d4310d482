"""A variable the schema cannot coerce is BAD_USER_INPUT; errors with a code keep theirs."""

from __future__ import annotations

import datetime as dt

import strawberry

from crm_common.graphql.errors import InputErrorCodes, bad_input


@strawberry.type
class Query:
    @strawberry.field
    def day(self, on: dt.date, at: dt.datetime | None = None) -> str:
        if on.year < 2000:
            raise bad_input("on: the 20th century is closed")
        return on.isoformat()


SCHEMA = strawberry.Schema(query=Query, extensions=[InputErrorCodes])
DAY = "query($on: Date!, $at: DateTime) { day(on: $on, at: $at) }"


async def test_a_malformed_date_variable_is_bad_user_input() -> None:
    for variables in ({"on": "2026-02-30"}, {"on": "tomorrow"}, {"on": 20260101},
                      {"on": "2026-01-01", "at": "noon"}):
        result = await SCHEMA.execute(DAY, variable_values=variables)
        assert result.errors and result.data is None, variables
        assert [e.extensions for e in result.errors] == [{"code": "BAD_USER_INPUT"}], variables


async def test_good_values_and_resolver_errors_are_left_alone() -> None:
    ok = await SCHEMA.execute(DAY, variable_values={"on": "2026-01-01"})
    assert ok.errors is None and ok.data == {"day": "2026-01-01"}
    refused = await SCHEMA.execute(DAY, variable_values={"on": "1999-12-31"})
    assert refused.errors and refused.errors[0].extensions == {"code": "BAD_USER_INPUT"}
    assert refused.errors[0].path == ["day"]
    literal = await SCHEMA.execute('{ day(on: "tomorrow") }')  # a validation error, no variable
    assert literal.errors and "code" not in (literal.errors[0].extensions or {})
