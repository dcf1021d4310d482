"""Issue 14: a control character (NUL) in any string argument of any query or mutation is a
``BAD_USER_INPUT`` error naming the argument (queries) or a ``CONTROL_CHARACTERS`` userError at
its path (mutations); never a database error, never SQL text, and nothing stored changes. The
cases come from a walk over the schema (``crm_common.testing_arguments``), so a new argument is
covered without touching this test. And a 5,000-deep JSON body is a 400."""

from __future__ import annotations

from crm_activities.graphql.schema import build_schema
from crm_common.testing_arguments import check_control_characters, check_deeply_nested_body

from .conftest import Service


async def test_a_nul_in_any_string_argument_is_refused_and_changes_nothing(
        service: Service, database_url: str) -> None:
    await check_control_characters(service, database_url, build_schema(), minimum=50)


async def test_deeply_nested_json_is_a_400_not_a_server_error(service: Service) -> None:
    await check_deeply_nested_body(service)
