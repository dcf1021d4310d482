"""Expected failures are values: ``userErrors`` with a field path, a message and a code."""

from __future__ import annotations

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


def user_errors(problems: Iterable[FieldProblem], service: str) -> list[UserError]:
    """The problems as ``userErrors``: field paths in GraphQL's camelCase, each counted in the
    ``crm_graphql_user_errors_total`` metric."""
    out = []
    for p in problems:
        USER_ERRORS.labels(service, p.code).inc()
        out.append(UserError(field=[camel(part) for part in p.field], message=p.message,
                             code=p.code))
    return out


def bad_input(message: str) -> Exception:
    """A malformed argument (bad cursor, page size): a GraphQL error that is shown as it is,
    never masked, with code BAD_USER_INPUT. Validation of mutation input is a userError instead."""
    from graphql import GraphQLError

    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


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
