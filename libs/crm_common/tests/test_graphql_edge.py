"""The API's edge conventions, as every subgraph applies them: the page size cap is refused with
BAD_USER_INPUT, the limits answer with the gateway's codes, numbers and messages, and expected
failures are logged quietly (faults loudly, with their traceback). No server needed."""

from __future__ import annotations

import logging

import pytest
import strawberry

from crm_common.correlation import correlation_id
from crm_common.devkeys import generate_key_pair
from crm_common.graphql.connections import requested_page_size
from crm_common.graphql.errors import bad_input
from crm_common.graphql.limits import schema_extensions
from crm_common.graphql.schema import FederationSchema
from crm_common.settings import Settings

_, PUBLIC = generate_key_pair()


class Context:
    max_page_size = 100


@strawberry.type
class Node:
    level: int = 1

    @strawberry.field
    def child(self) -> Node:
        return Node(level=self.level + 1)


@strawberry.type
class Query:
    @strawberry.field
    def node(self) -> Node:
        return Node()

    @strawberry.field
    def clients(self, info: strawberry.Info, first: int | None = None) -> int:
        return requested_page_size(info, first)

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("database password is hunter2")

    @strawberry.field
    def refused(self) -> str:
        raise bad_input("after: malformed cursor")


def schema(**env: str) -> FederationSchema:
    settings = Settings.from_env("demo", 9000, environ={"JWT_PUBLIC_KEY": PUBLIC, **env})
    return FederationSchema(query=Query, extensions=schema_extensions(settings),
                            federation_version="2.7")


async def run(document: str, **env: str) -> strawberry.types.ExecutionResult:
    return await schema(**env).execute(document, context_value=Context())


def deep(depth: int) -> str:
    inner = "level"
    for _ in range(depth - 2):
        inner = f"child {{ {inner} }}"
    return f"{{ node {{ {inner} }} }}"


# --- page size ------------------------------------------------------------------------------

async def test_first_above_the_cap_is_bad_user_input_naming_the_cap() -> None:
    assert (await run("{ clients }")).data == {"clients": 20}
    assert (await run("{ clients(first: 100) }")).data == {"clients": 100}
    result = await run("{ clients(first: 500) }")
    assert result.errors and result.errors[0].message == (
        "Requesting 500 records on the `clients` connection exceeds the `first` limit of "
        "100 records.")
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}
    zero = await run("{ clients(first: 0) }")
    assert zero.errors and zero.errors[0].extensions == {"code": "BAD_USER_INPUT"}
    assert "`clients`" in zero.errors[0].message


# --- limits: the gateway's numbers, codes and messages --------------------------------------

async def test_depth_limit_is_the_setting_itself() -> None:
    assert (await run(deep(10))).errors is None  # the default, as the gateway's
    result = await run(deep(14))
    assert result.errors and len(result.errors) == 1
    assert result.errors[0].message == "Query depth limit of 10 exceeded, found 14."
    assert result.errors[0].extensions == {"code": "MAX_DEPTH_EXCEEDED"}


async def test_depth_counts_through_fragments_without_blowing_up() -> None:
    spread = "fragment F on Node { child { child { level } } }"
    ok = await run("{ node { child { ...F } } } " + spread, GRAPHQL_MAX_DEPTH="5")
    assert ok.errors is None
    over = await run("{ node { child { child { ...F } } } } " + spread, GRAPHQL_MAX_DEPTH="5")
    assert over.errors and over.errors[0].message == "Query depth limit of 5 exceeded, found 6."
    # a chain of fragments each spread twice: measured once each, not 2^n times
    chain = " ".join(f"fragment F{i} on Node {{ child {{ ...F{i + 1} }} ...F{i + 1} }}"
                     for i in range(40))
    result = await run("{ node { ...F0 } } " + chain + " fragment F40 on Node { level }",
                       GRAPHQL_MAX_TOKENS="5000", GRAPHQL_MAX_DEPTH="100")
    assert result.errors is None or all(
        e.extensions and e.extensions.get("code") != "MAX_DEPTH_EXCEEDED" for e in result.errors)


async def test_alias_and_token_limits_speak_as_the_gateway() -> None:
    aliased = "{ " + " ".join(f"a{i}: node {{ level }}" for i in range(16)) + " }"
    result = await run(aliased)
    assert result.errors and result.errors[0].message == "Aliases limit of 15 exceeded, found 16."
    assert result.errors[0].extensions == {"code": "MAX_ALIASES_EXCEEDED"}
    assert (await run("{ " + " ".join(f"a{i}: node {{ level }}" for i in range(15)) + " }")
            ).errors is None
    long_doc = await run("{ " + "__typename " * 2100 + "}")
    assert long_doc.errors and long_doc.errors[0].message == "Token limit of 2000 exceeded."
    assert long_doc.errors[0].extensions == {"code": "MAX_TOKENS_EXCEEDED"}


# --- logging --------------------------------------------------------------------------------

def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("crm.graphql", "strawberry"))]


@pytest.mark.parametrize("document", [
    "{ refused }", "{ clients(first: 500) }", "{ nope }", "{ node { ", deep(14),
    "{ " + "__typename " * 2100 + "}",
])
async def test_expected_failures_are_one_info_line_without_traceback(
        caplog: pytest.LogCaptureFixture, document: str) -> None:
    caplog.set_level(logging.DEBUG)
    result = await run(document)
    assert result.errors
    records = _records(caplog)
    assert records, "the refusal is still logged"
    assert all(r.levelno <= logging.INFO and r.exc_info is None for r in records), [
        (r.name, r.levelname, r.getMessage()) for r in records]


@pytest.mark.parametrize("env", ["production", "development"])
async def test_faults_are_logged_once_at_error_with_traceback_and_trace_id(
        caplog: pytest.LogCaptureFixture, env: str) -> None:
    caplog.set_level(logging.DEBUG)
    token = correlation_id.set("trace-7")
    try:
        result = await run("{ boom }", CRM_ENV=env)
    finally:
        correlation_id.reset(token)
    assert result.errors
    if env == "production":
        assert result.errors[0].message == "Unexpected error."
        assert result.errors[0].extensions == {"code": "INTERNAL_SERVER_ERROR",
                                               "traceId": "trace-7"}
    [record] = _records(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "hunter2" in record.getMessage() and record.__dict__["trace_id"] == "trace-7"


# --- userErrors in the API's names ------------------------------------------------------------

def test_user_errors_speak_the_api_names() -> None:
    from crm_common.graphql.errors import api_message, user_errors
    from crm_common.problems import FieldProblem

    [error] = user_errors([FieldProblem(("input", "client_id"), "INVALID_ID",
                                        "client_id must be a client id")], "demo")
    assert error.field == ["input", "clientId"]
    assert error.message == "clientId must be a client id"
    assert api_message("INVALID_DATE_RANGE", "valid_until cannot be before valid_from") == (
        "validUntil cannot be before validFrom")
    assert api_message("INVALID_ID", "badly formed hexadecimal UUID string") == (
        "This is not a valid id.")
    assert api_message("INVALID_DATE", "Invalid isoformat string: '2026-13-01'") == (
        "This is not a valid date (YYYY-MM-DD).")
    assert api_message("DUPLICATE", 'ivan_petrov@firm.bg is taken; tag "key_account" too') == (
        'ivan_petrov@firm.bg is taken; tag "key_account" too')
    assert api_message("X", "(no valid_until) see https://x.bg/a_b") == (
        "(no validUntil) see https://x.bg/a_b")
    assert api_message("BAD_USER_INPUT", "employees: badly formed hexadecimal UUID string") == (
        "employees: this value is not valid.")
    assert bad_input("filter.due_before: month must be in 1..12").message == (
        "filter.dueBefore: this value is not valid.")
    assert api_message("TOO_LONG", "At most 200 characters are allowed; this has 201.") == (
        "At most 200 characters are allowed; this has 201.")


def test_filter_id_is_none_an_id_or_bad_user_input() -> None:
    import uuid

    from graphql import GraphQLError

    from crm_common.graphql.inputs import filter_id

    ident = uuid.uuid4()
    assert filter_id(None, "clientId") is None
    assert filter_id(str(ident), "clientId") == ident
    with pytest.raises(GraphQLError) as exc:
        filter_id("12\x00", "clientId")
    assert exc.value.extensions == {"code": "BAD_USER_INPUT"}
    assert exc.value.message == "filter.clientId is not a valid id"
