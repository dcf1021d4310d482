"""Schema extensions every subgraph runs: depth, alias and token limits; error masking."""

from __future__ import annotations

import logging
from collections.abc import Callable

from graphql.error import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from crm_common.correlation import correlation_id
from crm_common.settings import Settings

log = logging.getLogger("crm.graphql")

# Errors raised on purpose for malformed requests keep their message; anything else is a fault.
SAFE_CODES = frozenset({"BAD_USER_INPUT", "UNAUTHENTICATED", "GRAPHQL_VALIDATION_FAILED"})


def _is_fault(error: GraphQLError) -> bool:
    if error.original_error is None:
        return False  # parse/validation errors: about the request, safe to show
    code = (error.extensions or {}).get("code")
    return code not in SAFE_CODES


class TraceMaskErrors(MaskErrors):
    """Masks faults as 'Internal error' plus the correlation id as a trace id; logs the original."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_fault)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        trace = correlation_id.get() or "-"
        log.error(
            "masked GraphQL fault: %s",
            error.message,
            exc_info=error.original_error,
            extra={"trace_id": trace},
        )
        return GraphQLError(
            message="Internal error.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "traceId": trace},
        )


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories, so that each request gets fresh extension instances."""
    extensions: list[Callable[[], SchemaExtension]] = [
        # Strawberry counts the root field as depth 0, the gateway (graphql-armor) as 1: subtract
        # one so that the same number means the same limit in both places.
        lambda: QueryDepthLimiter(max_depth=settings.max_depth - 1),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
    ]
    if not settings.development:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
        extensions.append(TraceMaskErrors)
    return extensions
