"""What the tasks service consumes: the shared projection of clients, meeting grants and
employees (``crm_common.client_access``) from the clients and activities services' events, and
the inventory's audit lines (``crm.clients.asset.audited`` / ``.missing``, queue
``tasks.asset-audits``), each missing or damaged line raising one task for the client's owner
(``service_layer.audit_task``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.client_access import register_client_access
from crm_common.messaging.consumer import ConsumerRunner
from crm_common.service import ConsumerSetup, Runtime
from crm_tasks.adapters.tables import access
from crm_tasks.config import TasksSettings
from crm_tasks.domain.audit_line import EVENT_AUDITED, EVENT_MISSING
from crm_tasks.service_layer.audit_task import raise_audit_task

#: the queue of the audit lines (after QUEUE_PREFIX and the service name)
AUDITS = "asset-audits"


def consumer_setup(cfg: TasksSettings) -> ConsumerSetup:
    """The consumer registrations of a service run with ``cfg``."""

    def setup(runner: ConsumerRunner, runtime: Runtime) -> None:
        register_client_access(runner, access)
        source = runtime.settings.source

        async def audit_line(session: AsyncSession, envelope: dict[str, Any]) -> None:
            await raise_audit_task(session, envelope, tz=cfg.timezone,
                                   due_days=cfg.audit_task_due_days, source=source)

        runner.register(AUDITS, [EVENT_AUDITED, EVENT_MISSING], audit_line)

    return setup
