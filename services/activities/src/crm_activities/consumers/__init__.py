"""What the activities service consumes: the shared client-access projections (clients and their
owners, employees, meeting grants — crm_common.client_access)."""

from __future__ import annotations

from crm_activities.adapters.tables import access
from crm_common.client_access import register_client_access
from crm_common.messaging.consumer import ConsumerRunner
from crm_common.service import Runtime


def setup_consumers(runner: ConsumerRunner, _runtime: Runtime) -> None:
    """Queues ``<prefix>activities.access-clients``, ``.access-meetings``, ``.access-employees``.

    The meeting queue brings back this service's own meeting events; their grants were already
    written with the meeting (service_layer/meeting.py), so those upserts change nothing."""
    register_client_access(runner, access)
