"""Schema extensions every subgraph runs: depth, alias and token limits; error masking."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from graphql.error import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from crm_common.correlation import correlation_id
from crm_common.graphql.errors import InputErrorCodes
from crm_common.settings import Settings

log = logging.getLogger("crm.graphql")

# distinct documents kept parsed and validated; clients send a bounded set of operations
CACHE_SIZE = 1024

# Errors raised on purpose for malformed requests keep their message; anything else is a fault.
SAFE_CODES = frozenset({"BAD_USER_INPUT", "UNAUTHENTICATED", "GRAPHQL_VALIDATION_FAILED"})


def _is_fault(error: GraphQLError) -> bool:
    """A fault is an exception our code did not mean to raise. Parse, validation and variable
    coercion errors (GraphQLErrors, with or without an original) are about the request."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    code = (error.extensions or {}).get("code")
    return code not in SAFE_CODES


class TraceMaskErrors(MaskErrors):
    """Masks faults as 'Unexpected error.' (code INTERNAL_SERVER_ERROR, as the gateway does) with
    the correlation id as a trace id; logs the original."""

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
            message="Unexpected error.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "traceId": trace},
        )


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories, so that each request gets fresh extension instances.

    The validation rules are built once: a rule class made per request would defeat the
    validation cache (it is keyed by document and rules). Parsing and validation are cached
    (bounded LRU) because they were ~45 % of a dossier request's CPU (docs/benchmarks.md)."""
    rules: list[Any] = [
        # Strawberry counts the root field as depth 0, the gateway (graphql-armor) as 1: subtract
        # one so that the same number means the same limit in both places.
        *QueryDepthLimiter(max_depth=settings.max_depth - 1).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.development:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        InputErrorCodes,
    ]
    if not settings.development:
        extensions.append(TraceMaskErrors)
    return extensions
