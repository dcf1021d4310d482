"""Small pieces every resolver module of the clients subgraph uses."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from crm_common.graphql.errors import UserError, user_errors
from crm_common.problems import FieldProblem, Problems


def parse_id(value: Any, field: tuple[str, ...]) -> uuid.UUID:
    """An id from the input, or a userError INVALID_ID naming ``field``."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Problems([FieldProblem(field, "INVALID_ID", "not a valid id")]) from None


def forget(loader: Any, key: uuid.UUID) -> None:
    """Drop a cached value so that a mutation's payload shows the state after the change."""
    try:
        loader.clear(key)
    except KeyError:  # not loaded in this request yet
        pass


async def run(action: Callable[[], Awaitable[Any]]) -> tuple[Any, list[UserError]]:
    """Run a command; expected failures (``Problems``) become userErrors."""
    try:
        return await action(), []
    except Problems as exc:
        return None, user_errors(exc.problems, "clients")
