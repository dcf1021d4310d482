"""Expected failures are values: ``userErrors`` with a field path, a message and a code."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry


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


@dataclass
class Problem:
    """A user error as the service layer reports it (no GraphQL import needed there)."""

    code: str
    message: str
    field: tuple[str, ...] | None = None

    def to_graphql(self) -> UserError:
        return UserError(
            field=list(self.field) if self.field is not None else None,
            message=self.message,
            code=self.code,
        )


class ProblemsError(Exception):
    """Raised inside the service layer to abort a unit of work with user errors."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def bad_input(message: str) -> Exception:
    """A malformed argument (bad cursor, page size): a GraphQL error that is shown as it is,
    never masked, with code BAD_USER_INPUT. Validation of mutation input is a userError instead."""
    from graphql import GraphQLError

    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})
