"""Control characters in any argument are refused before a resolver runs (issue 14), and a
database fault never shows its SQL, in development either."""

from __future__ import annotations

import strawberry
from sqlalchemy.exc import DBAPIError

from crm_common.devkeys import generate_key_pair
from crm_common.graphql.errors import UserError
from crm_common.graphql.limits import schema_extensions
from crm_common.graphql.mutations import mutate
from crm_common.graphql.schema import subgraph_schema
from crm_common.settings import Settings
from crm_common.text import control_character

_, PUBLIC = generate_key_pair()
CALLS: list[str] = []


@strawberry.input
class Filter:
    city: str | None = None
    tags: list[str] | None = None


@strawberry.type
class Item:
    @strawberry.field
    def name(self, suffix: str = "") -> str:
        CALLS.append(suffix)
        return "item" + suffix


@strawberry.type
class Query:
    @strawberry.field
    def items(self, filter: Filter | None = None, search: str | None = None) -> list[Item]:
        CALLS.append("items")
        return [Item()]

    @strawberry.field
    def broken(self) -> str:
        raise DBAPIError("SELECT secret FROM clients WHERE city = $1", ("x",),
                         ValueError("invalid byte sequence for encoding UTF8: 0x00"))

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("a plain bug")


@strawberry.input
class NoteInput:
    text: str
    lines: list[str] | None = None


@strawberry.type
class Payload:
    ok: bool
    user_errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def note(self, info: strawberry.Info, input: NoteInput) -> Payload:
        async def act() -> bool:
            CALLS.append("note")
            return True

        value, errors = await mutate(info, act, service="demo")
        return Payload(ok=bool(value), user_errors=errors)

    @strawberry.mutation
    def touch(self) -> Item:
        return Item()


def schema(env: str = "production") -> strawberry.Schema:
    settings = Settings.from_env("demo", 9000, environ={"JWT_PUBLIC_KEY": PUBLIC,
                                                        "CRM_ENV": env})
    return subgraph_schema(query=Query, mutation=Mutation,
                           extensions=schema_extensions(settings))


def test_the_characters_no_text_may_hold() -> None:
    for refused in ("\x00", "a\x01", "\x1b[31m", "\x7f", "\x85", "\ud800", "x\udfff"):
        assert control_character(refused) is not None, repr(refused)
    for allowed in ("", "Тракийски Мелници", "line\nbreak\ttab\r\n", "👩‍💻", "a\u200db",
                    "€ 12,50"):
        assert control_character(allowed) is None, repr(allowed)


async def test_a_control_character_in_any_query_argument_is_bad_user_input() -> None:
    s = schema()
    requests = [
        ('query($f: Filter) { items(filter: $f) { name } }', {"f": {"city": "So\x00fia"}},
         "items(filter.city)"),
        ('query($f: Filter) { items(filter: $f) { name } }', {"f": {"tags": ["ok", "\x07"]}},
         "items(filter.tags.1)"),
        ('{ items(search: "a\\u0000b") { name } }', None, "items(search)"),
        ('query($s: String = "a\\u0001") { items(search: $s) { name } }', None,
         "items(search)"),
        ('query($x: String) { items { name(suffix: $x) } }', {"x": "\x00"}, "name(suffix)"),
        ('query($x: String) { items { ...F } } fragment F on Item { name(suffix: $x) }',
         {"x": "\x00"}, "name(suffix)"),
    ]
    for document, variables, where in requests:
        CALLS.clear()
        result = await s.execute(document, variable_values=variables)
        assert result.data is None and result.errors, document
        assert [e.extensions for e in result.errors] == [{"code": "BAD_USER_INPUT"}]
        assert where in result.errors[0].message and "U+00" in result.errors[0].message
        assert CALLS == []  # no resolver ran


async def test_plain_text_and_line_breaks_pass() -> None:
    result = await schema().execute(
        'query($f: Filter) { items(filter: $f, search: "a\\tb") { name(suffix: "\\n") } }',
        variable_values={"f": {"city": "Пловдив", "tags": ["a\nb"]}})
    assert result.errors is None and result.data == {"items": [{"name": "item\n"}]}


async def test_a_control_character_in_a_mutation_input_is_a_user_error_at_its_path() -> None:
    s = schema()
    CALLS.clear()
    result = await s.execute(
        "mutation($i: NoteInput!) { note(input: $i) { ok userErrors { field code message } } }",
        variable_values={"i": {"text": "fine", "lines": ["ok", "bad\x00"]}})
    assert result.errors is None and result.data is not None
    payload = result.data["note"]
    assert payload["ok"] is False and CALLS == []
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "lines", "1"], "CONTROL_CHARACTERS")]
    assert "U+0000" in payload["userErrors"][0]["message"]
    literal = await s.execute('mutation { note(input: {text: "x\\u0000"}) { ok userErrors '
                              '{ field code } } }')
    assert literal.data is not None
    assert literal.data["note"]["userErrors"] == [
        {"field": ["input", "text"], "code": "CONTROL_CHARACTERS"}]
    ok = await s.execute('mutation { note(input: {text: "x"}) { ok userErrors { code } } }')
    assert ok.data == {"note": {"ok": True, "userErrors": []}} and CALLS == ["note"]
    # below the root of a mutation, arguments are checked as in a query
    nested = await s.execute('mutation { touch { name(suffix: "\\u0000") } }')
    assert nested.errors and nested.errors[0].extensions == {"code": "BAD_USER_INPUT"}


async def test_a_database_fault_never_shows_its_sql_in_any_mode() -> None:
    for env in ("production", "test", "development"):
        result = await schema(env).execute("{ broken }")
        assert result.errors, env
        text = str(result.errors[0].formatted)
        assert "SELECT" not in text and "secret" not in text and "byte sequence" not in text
        assert result.errors[0].extensions is not None
        assert result.errors[0].extensions["code"] == "INTERNAL_SERVER_ERROR"
    # development still shows a plain bug's message to the developer
    dev = await schema("development").execute("{ boom }")
    assert dev.errors and "a plain bug" in dev.errors[0].message


def test_a_decimal_that_does_not_read_is_handed_on_for_the_fields_rule() -> None:
    from decimal import Decimal

    from crm_common.graphql.decimals import MalformedDecimal, parse_decimal

    assert parse_decimal("12500.50") == Decimal("12500.50")
    assert parse_decimal(12) == Decimal(12) and parse_decimal(1.5) == Decimal("1.5")
    assert parse_decimal("NaN").is_nan()  # reads; the field's rule refuses it
    for malformed in ("12500,50", "12.5%", "", "1e", True, {"a": 1}, [1]):
        parsed = parse_decimal(malformed)
        assert isinstance(parsed, MalformedDecimal), malformed
    huge = parse_decimal("1" * 10_000)
    assert isinstance(huge, MalformedDecimal) and len(huge) == 100
