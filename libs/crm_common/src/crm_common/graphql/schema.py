"""The subgraphs' schema class: a federation schema that logs expected failures quietly.

Strawberry's ``Schema.process_errors`` logs every GraphQL error at level error with its
traceback, so each refused cursor, page size or limit wrote ~100 lines at level error. Here an
error about the request (a parse, validation or coercion error, a ``BAD_USER_INPUT``, a limit) is
one line at level info without a traceback; a fault (an exception the code did not mean to
raise, see ``limits.is_fault``) is logged at level error with its traceback and the trace id the
caller is given in the masked error. Errors are logged before masking, so the log keeps the
original.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Final

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from crm_common.correlation import correlation_id
from crm_common.graphql.decimals import SCALAR_OVERRIDES
from crm_common.graphql.limits import is_fault

log = logging.getLogger("crm.graphql")


def log_errors(errors: list[GraphQLError]) -> None:
    """One line per error: faults at error with the traceback, the rest at info without."""
    trace = correlation_id.get() or "-"
    for error in errors:
        path = ".".join(str(p) for p in error.path) if error.path else None
        if is_fault(error):
            log.error("GraphQL fault at %s: %s", path or "-", error.message,
                      exc_info=error.original_error, extra={"trace_id": trace})
        else:
            code = (error.extensions or {}).get("code") or "-"
            log.info("GraphQL request refused (%s)%s: %s", code, f" at {path}" if path else "",
                     error.message)


class FederationSchema(strawberry.federation.Schema):
    """``strawberry.federation.Schema`` with the logging above; every service's
    ``build_schema`` uses it."""

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


#: the highest federation version @theguild/federation-composition composes
FEDERATION_VERSION: Final = "2.7"

Extensions = Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]]


def subgraph_schema(*, query: type, mutation: type | None = None, types: Sequence[type] = (),
                    extensions: Extensions | None = None) -> strawberry.Schema:
    """A service's subgraph schema: its root types, the entity types it extends, and the request
    extensions (``limits.schema_extensions(settings)``; none when only the SDL is wanted). Its
    ``Decimal`` is the kit's (``graphql.decimals``): a malformed one reaches the field's rule."""
    return FederationSchema(query=query, mutation=mutation, types=list(types),
                            extensions=list(extensions or []),
                            federation_version=FEDERATION_VERSION,
                            scalar_overrides=dict(SCALAR_OVERRIDES))
