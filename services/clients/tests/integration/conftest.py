"""A real clients service for the integration tests: its own database (created and dropped),
its own events exchange, real PostgreSQL and RabbitMQ, served by uvicorn on a free port."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from crm_clients.app import create_app
from crm_clients.cli import migrate
from crm_common import testing
from crm_common import testing_fixtures as fixtures
from crm_common.settings import Settings
from crm_common.testing import CaughtEvents, ServiceUnderTest
from crm_dev import procs

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."

pytestmark = pytest.mark.integration

CREATE_EMPLOYEE = """
mutation($input: CreateEmployeeInput!) {
  createEmployee(input: $input) { employee { id } userErrors { field code message } }
}"""

keys = fixtures.keys()
database_url = fixtures.database("clients", migrate, run=RUN)
exchange_name = fixtures.exchange(
    fixtures.queue_names(QUEUE_PREFIX, "clients", ("access-meetings",)), run=RUN)
#: every event published on the run's exchange, validated against the catalogue
EventTap = CaughtEvents
tap = fixtures.tap("#")


class Service(ServiceUnderTest):
    """The running clients service (crm_common.testing.ServiceUnderTest), which also makes the
    employees a test needs."""

    async def employee(self, role: str = "sales_rep", name: str | None = None,
                       **extra: Any) -> uuid.UUID:
        """A new active employee of the staff directory (created by an admin)."""
        employee_id = uuid.uuid4()
        payload = (await self.data(self.token("admin"), CREATE_EMPLOYEE, {"input": {
            "id": str(employee_id), "fullName": name or f"Служител {employee_id.hex[:6]}",
            "role": role.upper(), **extra}}))["createEmployee"]
        assert payload["userErrors"] == [], payload
        return employee_id


@pytest.fixture(scope="session")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  tap: EventTap) -> AsyncIterator[Service]:
    private, public = keys
    port = procs.free_port()
    settings = Settings.from_env("clients", port, environ=testing.service_environ(
        port, database_url, exchange_name, public, QUEUE_PREFIX))
    async with testing.running_service(Service, "clients", private, settings,
                                       lambda: create_app(settings)) as svc:
        yield svc
