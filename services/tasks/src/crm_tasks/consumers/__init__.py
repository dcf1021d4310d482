"""What the tasks service consumes: the shared projection of clients, meeting grants and
employees (``crm_common.client_access``) from the clients and activities services' events."""

from __future__ import annotations

from crm_common.client_access import register_client_access
from crm_common.messaging.consumer import ConsumerRunner
from crm_common.service import Runtime
from crm_tasks.adapters.tables import access


def setup_consumers(runner: ConsumerRunner, _runtime: Runtime) -> None:
    register_client_access(runner, access)
