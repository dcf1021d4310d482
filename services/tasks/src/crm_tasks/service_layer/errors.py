"""Expected failures of the service layer, reported to GraphQL as userErrors."""

from __future__ import annotations

from crm_common.problems import FieldProblem, Problems


def problem(field: tuple[str, ...], code: str, message: str) -> Problems:
    return Problems([FieldProblem(field, code, message)])


def not_found(field: tuple[str, ...] = ("input", "id"), what: str = "task") -> Problems:
    return problem(field, "NOT_FOUND", f"{what} not found")


def conflict(field: tuple[str, ...] = ("input", "version"), what: str = "task") -> Problems:
    return problem(field, "CONFLICT", f"the {what} was changed by someone else since you read "
                                      "it; reload and try again")


def forbidden(field: tuple[str, ...], message: str) -> Problems:
    return problem(field, "FORBIDDEN", message)
