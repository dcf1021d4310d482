"""Issue 14 for the analytics subgraph: hostile string arguments and a too-deep JSON body
(crm_common.testing_arguments.HostileArguments)."""

from __future__ import annotations

from crm_analytics.graphql.schema import build_schema
from crm_common.testing_arguments import HostileArguments


class TestHostileArguments(HostileArguments):
    build_schema = staticmethod(build_schema)
    minimum = 5
