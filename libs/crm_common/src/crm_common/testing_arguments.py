"""A walk over a subgraph's schema that builds, for every string argument of every query and
mutation, a request carrying a hostile value there and plausible values everywhere else (imported
by tests, not by services).

Each service's ``tests/integration/test_control_characters.py`` sends every case to the running
service and checks the answer (issue 14: a NUL in any string argument is a userError or
``BAD_USER_INPUT``, never a database error).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)

#: named types whose values are text, and so can carry a control character
TEXT_TYPES = frozenset({"String", "ID", "JSON"})

#: a value of each scalar the subgraphs use that passes the schema's coercion
PLAIN_VALUES: dict[str, Any] = {
    "String": "x", "Int": 1, "Float": 1.0, "Boolean": True, "Date": "2026-01-15",
    "DateTime": "2026-01-15T10:00:00+00:00", "Decimal": "1", "JSON": {},
}

Path = tuple[str, ...]


@dataclass(frozen=True)
class ArgumentCase:
    """One request: ``operation`` (``query`` or ``mutation``) of root ``field`` with the hostile
    value at ``path`` (argument name, then input fields and list indexes, as the API spells
    them)."""

    operation: str
    field: str
    path: Path
    document: str
    variables: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.operation} {self.field}({'.'.join(self.path)})"


def _plain(type_: GraphQLInputType, depth: int = 0) -> Any:
    """A value of ``type_`` the schema accepts: required input fields only."""
    if isinstance(type_, GraphQLNonNull):
        return _plain(type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        return [_plain(type_.of_type, depth)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {name: _plain(f.type, depth + 1) for name, f in type_.fields.items()
                if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined}
    assert isinstance(type_, GraphQLScalarType)
    if type_.name == "ID":
        return str(uuid.uuid4())
    return PLAIN_VALUES.get(type_.name, "x")


def _text_paths(type_: GraphQLInputType, path: Path, depth: int = 0,
                kinds: frozenset[str] = TEXT_TYPES) -> Iterator[Path]:
    """Every place in ``type_`` where a value of the scalars ``kinds`` goes (text, by default;
    input objects to depth 4)."""
    named = get_named_type(type_)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        yield from _text_paths(inner.of_type, (*path, "0"), depth, kinds)
    elif isinstance(named, GraphQLScalarType) and named.name in kinds:
        yield path
    elif isinstance(named, GraphQLInputObjectType) and depth < 4:
        for name, f in named.fields.items():
            yield from _text_paths(f.type, (*path, name), depth + 1, kinds)


def _with(value: Any, type_: GraphQLInputType, path: Path, hostile: str) -> Any:
    """``value`` (a plain value of ``type_``) with ``hostile`` at ``path``."""
    if not path:
        return hostile
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        items = list(value) if isinstance(value, list) and value else [_plain(inner.of_type)]
        items[0] = _with(items[0], inner.of_type, path[1:], hostile)
        return items
    assert isinstance(inner, GraphQLInputObjectType)
    out = dict(value or {})
    field = inner.fields[path[0]]
    out[path[0]] = _with(out.get(path[0], _plain(field.type)), field.type, path[1:], hostile)
    return out


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if isinstance(named, GraphQLObjectType):
        if "userErrors" in named.fields:
            return "{ __typename userErrors { field code message } }"
        return "{ __typename }"
    if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
        return "{ __typename }"
    return ""


def argument_cases(schema: strawberry.Schema, hostile: str = "a\x00b",
                   kinds: frozenset[str] = TEXT_TYPES) -> list[ArgumentCase]:
    """One case per argument path of every root query and mutation field where a value of the
    scalars ``kinds`` (text, by default) goes, with ``hostile`` there (the federation fields
    ``_entities`` and ``_service`` left out)."""
    graphql_schema = schema._schema
    cases = []
    roots = [("query", graphql_schema.query_type), ("mutation", graphql_schema.mutation_type)]
    for operation, root in roots:
        if root is None:
            continue
        for name, field in root.fields.items():
            if name.startswith("_"):
                continue
            plain = {arg: _plain(a.type) for arg, a in field.args.items()
                     if isinstance(a.type, GraphQLNonNull)}
            declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
            passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
            document = (f"{operation}{f'({declared})' if declared else ''} "
                        f"{{ {name}{f'({passed})' if passed else ''} {_selection(field)} }}")
            for arg, argument in field.args.items():
                for path in _text_paths(argument.type, (arg,), kinds=kinds):
                    variables = dict(plain)
                    variables[arg] = _with(plain.get(arg), argument.type, path[1:], hostile)
                    cases.append(ArgumentCase(operation, name, path, document, variables))
    return cases


#: what only a database error says; none of it may reach a caller
SQL_TEXT = ("SELECT ", "INSERT ", "UPDATE ", "[SQL", "sqlalchemy", "asyncpg", "psycopg",
            "invalid byte sequence", "\\u0000")


def refusal_problem(case: ArgumentCase, status: int, body: dict[str, Any], text: str) -> str | None:
    """Why the answer to ``case`` is not the refusal it must be (``None`` when it is): a query
    gets one ``BAD_USER_INPUT`` error naming the argument, a mutation a ``CONTROL_CHARACTERS``
    userError at the path (or that error); never a fault, never SQL text."""
    leaked = [s for s in SQL_TEXT if s in text]
    if leaked:
        return f"{case}: the answer quotes {leaked}: {text[:300]}"
    if status != 200:
        return f"{case}: HTTP {status}: {text[:300]}"
    errors = body.get("errors") or []
    codes = [(e.get("extensions") or {}).get("code") for e in errors]
    where = ".".join(case.path)
    if errors:
        if codes != ["BAD_USER_INPUT"] or where not in errors[0]["message"]:
            return f"{case}: errors {errors}"
        return None
    if case.operation == "query":
        return f"{case}: answered without an error: {text[:300]}"
    payload = (body.get("data") or {}).get(case.field) or {}
    found = [(e["field"], e["code"]) for e in payload.get("userErrors") or []]
    if found != [(list(case.path), "CONTROL_CHARACTERS")]:
        return f"{case}: userErrors {found}"
    return None


_COUNT_ROWS = """
SELECT table_name::text AS name,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', table_name),
                                              false, true, '')))[1]::text::bigint AS n
FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
ORDER BY table_name"""


async def row_counts(database_url: str) -> dict[str, int]:
    """The number of rows in each table of the database (to show that nothing was stored)."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {r.name: r.n for r in await conn.execute(sa.text(_COUNT_ROWS))}
    finally:
        await engine.dispose()


def user_error_problem(case: ArgumentCase, status: int, body: dict[str, Any]) -> str | None:
    """Why the answer to ``case`` is not a payload whose ``userErrors`` name the field at
    ``case.path`` (``None`` when it is): no request error, no fault."""
    if status != 200 or body.get("errors"):
        return f"{case}: HTTP {status}, errors {body.get('errors')}"
    payload = (body.get("data") or {}).get(case.field) or {}
    fields = [e["field"] for e in payload.get("userErrors") or []]
    if list(case.path) not in fields:
        return f"{case}: userErrors at {fields}"
    return None


async def check_control_characters(service: Any, database_url: str, schema: strawberry.Schema,
                                   *, minimum: int) -> None:
    """Every case of :func:`argument_cases` (a NUL in each text argument), sent to the running
    ``service`` (a test's service fixture: ``token``, ``gql``) as an admin, is refused as
    :func:`refusal_problem` says, and no table of ``database_url`` gains or loses a row.
    ``minimum``: the number of cases the walk must find at least (that it found the schema)."""
    cases = argument_cases(schema)
    assert len(cases) >= minimum, len(cases)
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


async def check_deeply_nested_body(service: Any) -> None:
    """5,000 nested arrays in the variables overflow the JSON decoder's recursion: the running
    ``service`` answers a clear 400 (the kit's GraphQL app), then goes on serving."""
    body = ('{"query": "{ __typename }", "variables": {"x": ' + "[" * 5000 + "]" * 5000
            + "}}").encode()
    token = service.token("manager")
    response = await service.client.post(
        f"{service.url}/graphql", content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.text
    assert (await service.gql(token, "{ __typename }")).status_code == 200


class HostileArguments:
    """Issue 14's checks of a running subgraph, for each service's
    ``tests/integration/test_hostile_arguments.py`` to subclass (as ``TestHostileArguments``,
    naming its ``build_schema`` and the ``minimum`` number of cases its schema must yield):

    - a control character (NUL) in any string argument of any query or mutation is a
      ``BAD_USER_INPUT`` error naming the argument (queries) or a ``CONTROL_CHARACTERS``
      userError at its path (mutations); never a database error, never SQL text, and nothing
      stored changes. The cases come from a walk over the schema (:func:`argument_cases`), so
      a new argument is covered without touching the test;
    - a 5,000-deep JSON body is a 400.

    The tests take the service's ``service`` and ``database_url`` fixtures."""

    build_schema: Callable[[], strawberry.Schema]
    minimum: int

    async def test_a_nul_in_any_string_argument_is_refused_and_changes_nothing(
            self, service: Any, database_url: str) -> None:
        await check_control_characters(service, database_url, self.build_schema(),
                                       minimum=self.minimum)

    async def test_deeply_nested_json_is_a_400_not_a_server_error(self, service: Any) -> None:
        await check_deeply_nested_body(service)
