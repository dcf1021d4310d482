"""Expected failures as values the domain and service layer raise (no GraphQL needed there);
the GraphQL layer turns them into ``userErrors`` (``crm_common.graphql.errors.user_errors``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One problem: the input field path at fault (snake_case), a code and a message."""

    field: tuple[str, ...]
    code: str
    message: str


class Problems(Exception):
    """Aborts a unit of work with every problem found at once."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{'.'.join(p.field)}: {p.message}" for p in problems))
        self.problems = problems


def camel(name: str) -> str:
    """snake_case → camelCase, as GraphQL field names and event payloads spell them."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
