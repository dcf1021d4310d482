"""Issue 14 for the tasks subgraph: hostile string arguments and a too-deep JSON body
(crm_common.testing_arguments.HostileArguments)."""

from __future__ import annotations

from crm_common.testing_arguments import HostileArguments
from crm_tasks.graphql.schema import build_schema


class TestHostileArguments(HostileArguments):
    build_schema = staticmethod(build_schema)
    minimum = 30
