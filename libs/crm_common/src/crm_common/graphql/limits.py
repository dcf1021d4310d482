"""Schema extensions every subgraph runs: depth, alias and token limits; error masking.

The limits speak as the gateway does (graphql-armor, see gateway/gateway.config.ts): the same
numbers, the same ``extensions.code`` and the same messages, so that a front end sees one answer
whether its request was refused at the gateway or by a subgraph reached directly:

    Query depth limit of 10 exceeded, found 14.      MAX_DEPTH_EXCEEDED
    Aliases limit of 15 exceeded, found 16.          MAX_ALIASES_EXCEEDED
    Token limit of 2000 exceeded.                    MAX_TOKENS_EXCEEDED
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.error import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from crm_common.correlation import correlation_id
from crm_common.graphql.errors import InputErrorCodes
from crm_common.graphql.text_arguments import ControlCharacters
from crm_common.settings import Settings

log = logging.getLogger("crm.graphql")

# distinct documents kept parsed and validated; clients send a bounded set of operations
CACHE_SIZE = 1024

MAX_DEPTH_EXCEEDED = "MAX_DEPTH_EXCEEDED"
MAX_ALIASES_EXCEEDED = "MAX_ALIASES_EXCEEDED"
MAX_TOKENS_EXCEEDED = "MAX_TOKENS_EXCEEDED"
LIMIT_CODES = frozenset({MAX_DEPTH_EXCEEDED, MAX_ALIASES_EXCEEDED, MAX_TOKENS_EXCEEDED})

# Errors raised on purpose for malformed requests keep their message; anything else is a fault.
SAFE_CODES = frozenset({"BAD_USER_INPUT", "UNAUTHENTICATED", "GRAPHQL_VALIDATION_FAILED",
                        *LIMIT_CODES})


def is_fault(error: GraphQLError) -> bool:
    """A fault is an exception our code did not mean to raise. Parse, validation and variable
    coercion errors (GraphQLErrors, with or without an original) are about the request."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    code = (error.extensions or {}).get("code")
    return code not in SAFE_CODES



class TraceMaskErrors(MaskErrors):
    """Masks faults as 'Unexpected error.' (code INTERNAL_SERVER_ERROR, as the gateway does) with
    the correlation id as a trace id. The original is logged (with its traceback) by the schema's
    ``process_errors`` (``crm_common.graphql.schema.FederationSchema``), before masking."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_fault)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        trace = correlation_id.get() or "-"
        return GraphQLError(
            message="Unexpected error.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "traceId": trace},
        )


def is_database_fault(error: GraphQLError) -> bool:
    """A fault raised by the database driver or SQLAlchemy: its text carries SQL (statement,
    parameters), which no caller may see in any mode."""
    original = error.original_error
    if not is_fault(error) or original is None:
        return False
    module = type(original).__module__
    return module.startswith(("sqlalchemy", "asyncpg", "psycopg"))


class DatabaseMaskErrors(TraceMaskErrors):
    """Development's masking: a fault keeps its message (for the developer), except one from
    the database, masked as in production (issue 14: no SQL text reaches a caller in any
    mode)."""

    def __init__(self) -> None:
        MaskErrors.__init__(self, should_mask_error=is_database_fault)


# --- depth ----------------------------------------------------------------------------------

_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def operation_depth(operation: OperationDefinitionNode,
                    fragments: dict[str, FragmentDefinitionNode]) -> int:
    """Fields counted from the root, leaf included (``{ a { b } }`` is 2), through fragments, as
    graphql-armor counts them; introspection roots are not counted. Each fragment is measured
    once (a chain of fragments spread twice each would otherwise cost 2ⁿ); a fragment cycle
    (refused by another rule) counts as 0."""
    memo: dict[str, int] = {}

    def selections(node: SelectionSetNode | None) -> int:
        if node is None:
            return 0
        deepest = 0
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                if sel.name.value in _INTROSPECTION_ROOTS:
                    continue
                deepest = max(deepest, 1 + selections(sel.selection_set))
            elif isinstance(sel, InlineFragmentNode):
                deepest = max(deepest, selections(sel.selection_set))
            elif isinstance(sel, FragmentSpreadNode):
                deepest = max(deepest, fragment(sel.name.value))
        return deepest

    def fragment(name: str) -> int:
        if name not in memo:
            memo[name] = 0  # in progress: a cycle ends here
            definition = fragments.get(name)
            memo[name] = selections(definition.selection_set) if definition else 0
        return memo[name]

    return selections(operation.selection_set)


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class MaxDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {d.name.value: d for d in document.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                found = operation_depth(definition, fragments)
                if found > max_depth:
                    context.report_error(GraphQLError(
                        f"Query depth limit of {max_depth} exceeded, found {found}.",
                        [definition], extensions={"code": MAX_DEPTH_EXCEEDED}))

    return MaxDepthRule


def operation_aliases(operation: OperationDefinitionNode,
                      fragments: dict[str, FragmentDefinitionNode]) -> int:
    """Aliased fields of an operation, fragments counted where they are spread (as
    graphql-armor counts). Each fragment is counted once and its count reused: Strawberry's
    counter walks a fragment again at every spread, 2ⁿ steps for a chain of n fragments each
    spread twice (a few hundred bytes of document took minutes)."""
    memo: dict[str, int] = {}

    def selections(node: SelectionSetNode | None) -> int:
        if node is None:
            return 0
        count = 0
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                count += (1 if sel.alias else 0) + selections(sel.selection_set)
            elif isinstance(sel, InlineFragmentNode):
                count += selections(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                count += fragment(sel.name.value)
        return count

    def fragment(name: str) -> int:
        if name not in memo:
            memo[name] = 0  # in progress: a cycle ends here
            definition = fragments.get(name)
            memo[name] = selections(definition.selection_set) if definition else 0
        return memo[name]

    return selections(operation.selection_set)


def aliases_rule(max_aliases: int) -> type[ValidationRule]:
    class MaxAliasesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {d.name.value: d for d in document.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            found = sum(operation_aliases(d, fragments) for d in document.definitions
                        if isinstance(d, OperationDefinitionNode))
            if found > max_aliases:
                context.report_error(GraphQLError(
                    f"Aliases limit of {max_aliases} exceeded, found {found}.",
                    extensions={"code": MAX_ALIASES_EXCEEDED}))

    return MaxAliasesRule


# --- tokens ---------------------------------------------------------------------------------

_TOKENS = re.compile(r"Document contains more than (\d+) tokens")


class TokenLimitErrors(SchemaExtension):
    """graphql-core's parser refuses a long document with "Syntax Error: Document contains more
    than N tokens. Parsing aborted."; this says it as the gateway does, with its code."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:  # a refused parse can arrive here as the exception itself
            rewritten = self._rewrite(error)
            if rewritten is error:
                raise
            raise rewritten from None
        result = self.execution_context.result
        if not isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)):
            return
        if result.errors:
            result.errors = [self._rewrite(e) for e in result.errors]

    @staticmethod
    def _rewrite(error: GraphQLError) -> GraphQLError:
        match = _TOKENS.search(error.message)
        if match is None:
            return error
        return GraphQLError(f"Token limit of {match.group(1)} exceeded.",
                            extensions={"code": MAX_TOKENS_EXCEEDED})


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories, so that each request gets fresh extension instances.

    The validation rules are built once: a rule class made per request would defeat the
    validation cache (it is keyed by document and rules). Parsing and validation are cached
    (bounded LRU) because they were ~45 % of a dossier request's CPU (docs/benchmarks.md)."""
    rules: list[Any] = [depth_rule(settings.max_depth), aliases_rule(settings.max_aliases)]
    if not settings.development:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        TokenLimitErrors,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        InputErrorCodes,
        ControlCharacters,
    ]
    extensions.append(DatabaseMaskErrors if settings.development else TraceMaskErrors)
    return extensions
