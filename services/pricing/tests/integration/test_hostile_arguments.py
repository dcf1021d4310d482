"""Issue 14: a control character (NUL) in any string argument of any query or mutation is a
``BAD_USER_INPUT`` error naming the argument (queries) or a ``CONTROL_CHARACTERS`` userError at
its path (mutations); never a database error, never SQL text, and nothing stored changes. The
cases come from a walk over the schema (``crm_common.testing_arguments``), so a new argument is
covered without touching this test."""

from __future__ import annotations

from crm_common.testing_arguments import argument_cases, refusal_problem, row_counts
from crm_pricing.graphql.schema import build_schema

from .conftest import Service


async def test_a_nul_in_any_string_argument_is_refused_and_changes_nothing(
        service: Service, database_url: str) -> None:
    cases = argument_cases(build_schema())
    assert len(cases) >= 40  # the walk found the schema's text arguments
    token = service.token("admin")
    before = await row_counts(database_url)
    problems = []
    for case in cases:
        response = await service.gql(token, case.document, case.variables)
        problem = refusal_problem(case, response.status_code, response.json(), response.text)
        if problem:
            problems.append(problem)
    assert problems == [], "\n".join(problems)
    assert await row_counts(database_url) == before


async def test_deeply_nested_json_is_a_400_not_a_server_error(service: Service) -> None:
    """5,000 nested arrays in the variables overflow the JSON decoder's recursion: a clear 400
    (the kit's GraphQL app), and the service goes on serving."""
    body = ('{"query": "{ __typename }", "variables": {"x": ' + "[" * 5000 + "]" * 5000
            + "}}").encode()
    token = service.token("manager")
    response = await service.client.post(
        f"{service.url}/graphql", content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.text
    assert (await service.gql(token, "{ __typename }")).status_code == 200
