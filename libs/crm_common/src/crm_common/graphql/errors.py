"""Expected failures are values: ``userErrors`` with a field path, a message and a code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import strawberry
from graphql import VariableDefinitionNode
from strawberry.extensions import SchemaExtension

from crm_common.metrics import USER_ERRORS
from crm_common.problems import FieldProblem, camel


@strawberry.federation.type(
    shareable=True,
    description="An expected failure of a mutation: validation, conflict, not found.",
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path of the input field at fault, e.g. ['input', 'addresses', '0', 'city']."
    )
    message: str
    code: str = strawberry.field(
        description="Machine-readable code: INVALID_EIK, CONFLICT, NOT_FOUND, FORBIDDEN, ..."
    )


# a snake_case name, not part of an e-mail address, URL or path
_SNAKE = re.compile(r"(?<![\w@/\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/\-]|\.\w)")
# quoted text is the user's own value (a tag, a name) and stays as it is
_QUOTED = re.compile(r"(\"[^\"]*\"|'[^']*'|“[^”]*”|„[^“”]*[“”]|«[^»]*»)")
# What Python (or a library) says, never meant for the API's users: uuid, datetime, int(), ...
_PYTHON_TEXT = re.compile(
    r"hexadecimal UUID|badly formed|isoformat|invalid literal for|could not convert|"
    r"object has no attribute|NoneType|unexpected keyword|not subscriptable|Traceback|"
    r"must be in \d+\.\.\d+|out of range for month",
    re.IGNORECASE)
_PLAIN = {
    "INVALID_ID": "This is not a valid id.",
    "INVALID_DATE": "This is not a valid date (YYYY-MM-DD).",
    "INVALID_TYPE": "This value has the wrong type.",
}


def api_message(code: str, message: str) -> str:
    """A problem's message as the API says it: snake_case names (``client_id``, the domain's
    spelling) in the API's camelCase (``clientId``), and no raw Python or library text (a
    message quoting one is replaced by a plain sentence for its code). The one place where
    messages cross into the API, so that no service can leak its internal names."""
    if _PYTHON_TEXT.search(message):
        plain = _PLAIN.get(code, "This value is not valid.")
        where, sep, _ = message.partition(": ")  # "after: <python text>" keeps its "after: "
        if sep and not _PYTHON_TEXT.search(where):
            return f"{api_message(code, where)}: {plain[0].lower()}{plain[1:]}"
        return plain
    parts = _QUOTED.split(message)  # odd positions: the quoted parts
    return "".join(part if i % 2 else _SNAKE.sub(lambda m: camel(m.group(0)), part)
                   for i, part in enumerate(parts))


def user_errors(problems: Iterable[FieldProblem], service: str) -> list[UserError]:
    """The problems as ``userErrors``: field paths and messages in the API's names (GraphQL's
    camelCase, ``api_message``), each counted in the ``crm_graphql_user_errors_total``
    metric."""
    out = []
    for p in problems:
        USER_ERRORS.labels(service, p.code).inc()
        out.append(UserError(field=[camel(part) for part in p.field],
                             message=api_message(p.code, p.message), code=p.code))
    return out


def bad_input(message: str) -> Exception:
    """A malformed argument (bad cursor, page size): a GraphQL error that is shown as it is,
    never masked, with code BAD_USER_INPUT, worded as ``api_message`` words it. Validation of
    mutation input is a userError instead."""
    from graphql import GraphQLError

    return GraphQLError(api_message("BAD_USER_INPUT", message),
                        extensions={"code": "BAD_USER_INPUT"})


class InputErrorCodes(SchemaExtension):
    """A variable the schema cannot coerce (a ``Date`` that is no date, an ``Int`` given as text)
    is the client's mistake: code BAD_USER_INPUT, as for every other malformed argument (and as
    Apollo and the gateway name it). GraphQL-core reports those errors without a code."""

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            if (error.path is None and error.nodes
                    and isinstance(error.nodes[0], VariableDefinitionNode)
                    and "code" not in (error.extensions or {})):
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
