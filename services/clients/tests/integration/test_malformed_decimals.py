"""Issue 14: a malformed decimal (``"12500,50"``) in any decimal input is a userError naming
the field, as ``"NaN"`` is; never a request error (``DOWNSTREAM_clients_ERROR`` at the gateway).
The cases come from a walk over the schema (``crm_common.testing_arguments``)."""

from __future__ import annotations

import pytest

from crm_clients.graphql.schema import build_schema
from crm_common.testing_arguments import argument_cases, row_counts, user_error_problem

from .conftest import Service

DECIMAL = frozenset({"Decimal"})


@pytest.mark.parametrize("malformed", ["12500,50", "12.5%", "1e", "€12", " ", "1" * 5000, "NaN"])
async def test_a_malformed_decimal_is_a_user_error_naming_the_field(
        service: Service, database_url: str, malformed: str) -> None:
    cases = argument_cases(build_schema(), malformed, kinds=DECIMAL)
    assert {".".join(c.path) for c in cases} >= {"input.creditLimit", "input.discounts.0.percent"}
    token = service.token("admin")
    before = await row_counts(database_url)
    problems = []
    for case in cases:
        response = await service.gql(token, case.document, case.variables)
        problem = user_error_problem(case, response.status_code, response.json())
        if problem:
            problems.append(problem)
    assert problems == [], "\n".join(problems)
    assert await row_counts(database_url) == before
