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


# The service layer's expected failures, one spelling for every service. ``field`` is always a
# keyword, so that no call site can swap it with ``what`` (the three copies these replace took
# their arguments in two different orders).

def problem(field: tuple[str, ...], code: str, message: str) -> Problems:
    """One problem as a raisable ``Problems``."""
    return Problems([FieldProblem(field, code, message)])


def not_found(what: str, *, field: tuple[str, ...] = ("input", "id")) -> Problems:
    """NOT_FOUND: the same answer for "does not exist" and "you may not see it" (DESIGN §6)."""
    return problem(field, "NOT_FOUND", f"{what} not found")


def conflict(what: str, *, field: tuple[str, ...] = ("input", "version")) -> Problems:
    """CONFLICT: the ``version`` the caller saw is not the stored one (DESIGN §4)."""
    return problem(field, "CONFLICT", f"the {what} was changed by someone else since you read "
                                      "it; reload and try again")


def forbidden(message: str, *, field: tuple[str, ...] = ("input",)) -> Problems:
    """FORBIDDEN: visible, but the caller may not make this change."""
    return problem(field, "FORBIDDEN", message)
