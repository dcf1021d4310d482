"""A real analytics service for the integration tests: its own database (created and dropped),
its own platform and ERP exchanges and queue prefix, real PostgreSQL and RabbitMQ, served by
uvicorn on a free port — for the tests of one module at a time (module-scoped: its turnover
publisher polls, and other services' tests count every statement of the process). The tests
publish what the clients service and the ERP would, onto the
run's exchanges; every event the service publishes is checked against the catalogue."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import pathlib
import sys
import uuid
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest

from crm_analytics.app import create_app
from crm_analytics.cli import migrate
from crm_analytics.config import AnalyticsConfig
from crm_analytics.reports.files.settings import BUCKET, FileSettings
from crm_common import testing
from crm_common import testing_fixtures as fixtures
from crm_common.attachments import AttachmentStore
from crm_common.attachments.settings import StoreSettings
from crm_common.settings import Settings
from crm_common.testing import CaughtEvents, RunPublisher, ServiceUnderTest
from crm_common.testing import wait_until as _wait_until
from crm_dev import mongo, procs

RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."
QUEUES = fixtures.queue_names(QUEUE_PREFIX, "analytics", (
    "erp-feed", "clients", "access-meetings", "access-employees", "reporting", "pricing-tiers"))

pytestmark = pytest.mark.integration

URL_SECRET = b"report-files-test-secret-0123456789abcdef"
#: the run's caps on the rows of a CSV/XLSX file and of a PDF
ROW_CAP = 5000
PDF_ROW_CAP = 300


def load_reference() -> ModuleType:
    """tests/reference.py, the independent computation (loaded by path: importlib mode)."""
    path = pathlib.Path(__file__).resolve().parents[1] / "reference.py"
    spec = importlib.util.spec_from_file_location("analytics_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def reference() -> ModuleType:
    return load_reference()


keys = fixtures.keys()
database_url = fixtures.database("analytics", migrate, run=RUN)


mongodb_url, mongodb_database = mongo.mongodb_fixtures("analytics", RUN)


def file_settings(mongodb_url: str, mongodb_database: str, port: int) -> FileSettings:
    """The report files' settings of a test service: the run's own MongoDB database, a known
    URL secret, row caps small enough to test, the sweeper driven by the tests alone."""
    return FileSettings(
        store=StoreSettings(mongodb_url=mongodb_url, mongodb_database=mongodb_database,
                            url_secret=URL_SECRET, public_base_url=f"http://127.0.0.1:{port}"),
        max_rows=ROW_CAP, pdf_max_rows=PDF_ROW_CAP, run_sweeper=False)


@pytest.fixture(scope="session")
async def store(mongodb_url: str, mongodb_database: str) -> AsyncIterator[AttachmentStore]:
    """The test's own view of the service's GridFS bucket of report files."""
    s = AttachmentStore.connect(mongodb_url, mongodb_database, bucket=BUCKET)
    yield s
    await s.close()


#: the exchanges and the service are the test module's (the database is the run's)
exchange_name = fixtures.exchange(QUEUES, run=RUN, scope="module")
erp_exchange_name = fixtures.exchange(run=RUN, name="erp_exchange_name", prefix="erp.events",
                                      scope="module")
tap = fixtures.tap("crm.analytics.#", scope="module")


class Publisher(RunPublisher):
    """Publishes what the clients service (client and employee snapshots) and the ERP would."""

    async def client(self, client_id: uuid.UUID, *, owner: uuid.UUID | None = None,
                     eik: str | None = None, group: uuid.UUID | None = None,
                     version: int = 1, name: str = "Тракия Дистрибуция АД",
                     term: int | None = 30) -> dict[str, Any]:
        snapshot = testing.client_snapshot(client_id, owner=owner, version=version, name=name,
                                           eik=eik, group=group, payment_term_days=term)
        type_ = "crm.clients.client.created" if version == 1 else "crm.clients.client.updated"
        data: dict[str, Any] = {"client": snapshot}
        if version > 1:
            data["changed"] = ["eik"]
        return await self.event(type_, str(client_id), data)

    async def erp_envelope(self, envelope: dict[str, Any]) -> None:
        await self.erp_raw(json.dumps(envelope, ensure_ascii=False).encode(),
                           str(envelope.get("type", "erp.unknown")), str(envelope.get("id")))


@pytest.fixture(scope="module")
async def publisher(exchange_name: str, erp_exchange_name: str) -> AsyncIterator[Publisher]:
    async with fixtures.declared_exchanges(exchange_name, erp_exchange_name) as (platform, erp):
        yield Publisher(platform, erp)


class Service(ServiceUnderTest):
    """The running analytics service (``sql`` runs a statement on its database; ``files``:
    its report files' settings)."""

    files: FileSettings


@contextlib.asynccontextmanager
async def serving(database_url: str, keys: tuple[str, str], exchange_name: str,
                  config: AnalyticsConfig, mongodb: tuple[str, str], *,
                  max_rows: int = ROW_CAP,
                  pdf_max_rows: int = PDF_ROW_CAP) -> AsyncIterator[Service]:
    """The service on a free port with ``config`` (a test module may want its own), its report
    files in the run's MongoDB database ``mongodb`` (url, database) with these row caps."""
    private, public = keys
    port = procs.free_port()
    settings = Settings.from_env("analytics", port, environ=testing.service_environ(
        port, database_url, exchange_name, public, QUEUE_PREFIX))
    files = dataclasses.replace(file_settings(*mongodb, port), max_rows=max_rows,
                                pdf_max_rows=pdf_max_rows)
    async with testing.running_service(Service, "analytics", private, settings,
                                       lambda: create_app(settings, config, files),
                                       request_timeout=60) as svc:
        svc.files = files
        yield svc


@pytest.fixture(scope="module")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  erp_exchange_name: str, tap: CaughtEvents, mongodb_url: str,
                  mongodb_database: str) -> AsyncIterator[Service]:
    config = AnalyticsConfig(erp_exchange=erp_exchange_name, turnover_debounce_seconds=0.5)
    async with serving(database_url, keys, exchange_name, config,
                       (mongodb_url, mongodb_database)) as svc:
        yield svc


async def wait_until(check: Any, within: float = 30.0) -> Any:
    """The kit's ``wait_until`` with the longer wait the ERP feed's batches need."""
    return await _wait_until(check, within=within, interval=0.1)
