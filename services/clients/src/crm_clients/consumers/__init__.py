"""Events the clients service consumes.

``access-meetings``: ``crm.activities.meeting.*`` from the activities service feed the meeting
grant store (``access_meeting_grants``), through which a rep sees the dossier of a client they
have a meeting with (DESIGN §6; rule in ``service_layer/visibility.py``).
"""

from __future__ import annotations

from crm_clients.adapters.tables import access
from crm_common.client_access import register_client_access
from crm_common.messaging.consumer import ConsumerRunner
from crm_common.service import Runtime


def setup_consumers(runner: ConsumerRunner, _runtime: Runtime) -> None:
    # clients and employees are owned here: only the meeting grants are a projection
    register_client_access(runner, access, clients=False, employees=False)
