"""A real pricing service for the integration tests: its own database (created and dropped), its
own platform and ERP exchanges and queue prefix, real PostgreSQL and RabbitMQ, served by uvicorn
on a free port, one per test module. The tests publish what the clients service, analytics and
the ERP would, onto the run's exchanges; every event the service publishes is checked against
the catalogue."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aio_pika
import pytest

from crm_common import testing
from crm_common import testing_fixtures as fixtures
from crm_common.settings import Settings
from crm_common.testing import CaughtEvents, RunPublisher, ServiceUnderTest
from crm_common.testing import wait_until as _wait_until
from crm_dev import procs
from crm_pricing.app import create_app
from crm_pricing.cli import migrate
from crm_pricing.config import PricingConfig

RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."
QUEUES = fixtures.queue_names(QUEUE_PREFIX, "pricing", (
    "erp-catalog", "turnover", "clients", "client-groups", "contracts", "access-meetings",
    "access-employees"))

pytestmark = pytest.mark.integration

#: the export URLs' key in tests (so that a test can sign an expired or altered URL)
EXPORT_SECRET = b"pricing-export-secret-of-the-tests-0123456789"

keys = fixtures.keys()
#: a database, an exchange and a service for each test module
database_url = fixtures.database("pricing", migrate, scope="module")
exchange_name = fixtures.exchange(QUEUES, scope="module")
erp_exchange_name = fixtures.exchange(name="erp_exchange_name", prefix="erp.events",
                                      scope="module")
tap = fixtures.tap("crm.pricing.#", scope="module")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Publisher(RunPublisher):
    """Publishes what the clients service, analytics and the ERP would."""

    erp_routing_key = "erp.catalog.product.upserted"

    def __init__(self, platform: aio_pika.abc.AbstractExchange,
                 erp: aio_pika.abc.AbstractExchange) -> None:
        super().__init__(platform, erp)
        self._erp_versions: dict[str, int] = {}

    async def unchecked(self, type_: str, subject: str, data: dict[str, Any],
                        source: str = "crm/analytics") -> None:
        """An event that breaks the catalogue (as a faulty producer might send it)."""
        envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
                    "type": type_, "time": _now(), "subject": subject,
                    "datacontenttype": "application/json", "data": data}
        await self.platform.publish(aio_pika.Message(
            json.dumps(envelope).encode(), message_id=envelope["id"],
            content_type="application/cloudevents+json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=type_)

    async def client(self, client_id: uuid.UUID, *, owner: uuid.UUID | None = None,
                     group: uuid.UUID | None = None, version: int = 1,
                     name: str = "Тракия Дистрибуция АД", term: int | None = 30,
                     status: str = "active") -> dict[str, Any]:
        snapshot = testing.client_snapshot(client_id, owner=owner, version=version, name=name,
                                           status=status, group=group, payment_term_days=term)
        type_ = "crm.clients.client.created" if version == 1 else "crm.clients.client.updated"
        data: dict[str, Any] = {"client": snapshot}
        if version > 1:
            data["changed"] = ["groupId"]
        return await self.event(type_, str(client_id), data)

    async def group(self, group_id: uuid.UUID, code: str, name: str, *, version: int = 1,
                    archived: bool = False) -> dict[str, Any]:
        now = _now()
        snapshot = {"id": str(group_id), "code": code, "name": name, "description": None,
                    "version": version, "createdAt": now, "updatedAt": now,
                    "archivedAt": now if archived else None}
        type_ = "crm.clients.group.archived" if archived else (
            "crm.clients.group.created" if version == 1 else "crm.clients.group.updated")
        data: dict[str, Any] = {"group": snapshot}
        if type_ == "crm.clients.group.updated":
            data["changed"] = ["name"]
        return await self.event(type_, str(group_id), data)

    async def contract(self, contract_id: uuid.UUID, client_id: uuid.UUID, number: str, *,
                       status: str = "active", valid_from: str = "2026-01-01",
                       valid_until: str | None = "2026-12-31", version: int = 1,
                       discounts: list[dict[str, Any]] | None = None,
                       type_: str = "crm.clients.contract.updated") -> dict[str, Any]:
        now = _now()
        state = {
            "id": str(contract_id), "clientId": str(client_id), "number": number,
            "kind": "sales", "title": f"Договор {number}", "status": status, "signedOn": None,
            "validFrom": valid_from, "validUntil": valid_until, "paymentTermDays": 30,
            "currency": "EUR", "priceTerms": None, "otherTerms": None, "autoRenew": False,
            "renewalTermMonths": 12, "noticePeriodDays": 30, "clientSignatory": None,
            "ourSignatoryId": None, "activatedOn": None, "terminatedOn": None,
            "terminationReason": None, "version": version, "createdAt": now, "updatedAt": now,
            "discounts": [{"id": str(uuid.uuid4()), "productGroupCode": d.get("productGroupCode"),
                           "productCode": d.get("productCode"), "percent": d["percent"],
                           "validFrom": d.get("validFrom"), "validUntil": d.get("validUntil")}
                          for d in discounts or []],
        }
        data: dict[str, Any] = {"contract": state}
        if type_ == "crm.clients.contract.updated":
            data["changed"] = ["discounts"]
        elif type_ != "crm.clients.contract.created":
            data.update(previousStatus="draft", reason=None)
        return await self.event(type_, str(contract_id), data)

    async def turnover(self, client_id: uuid.UUID, version: int,
                       months: list[dict[str, Any]], *, as_of: str | None = None,
                       payments: dict[str, Any] | None = None) -> dict[str, Any]:
        """A valid ``client.turnover.updated``: the month of ``as_of`` (default now) and the 24
        before it; ``months`` gives the figures of some of them: [{"month": "2026-09",
        "invoicedNet": "1000", "byProductGroup": [{"productGroupCode": "BEV", "invoicedNet":
        "600"}]}] — every other figure is zero."""
        moment = dt.datetime.fromisoformat((as_of or _now()).replace("Z", "+00:00"))
        given = {m["month"]: m for m in months}

        def figures(raw: dict[str, Any]) -> dict[str, Any]:
            def amount(key: str) -> str:
                return f"{Decimal(str(raw.get(key, '0'))):.2f}"

            def quantity(key: str) -> str:
                return f"{Decimal(str(raw.get(key, '0'))):.3f}"
            return {"invoicedNet": amount("invoicedNet"), "creditedNet": "0.00",
                    "invoicedQuantity": quantity("invoicedQuantity"),
                    "orderedNet": amount("orderedNet"),
                    "orderedQuantity": quantity("orderedQuantity")}
        series = []
        for back in range(24, -1, -1):
            index = moment.year * 12 + moment.month - 1 - back
            label = f"{index // 12:04d}-{index % 12 + 1:02d}"
            raw = given.get(label, {})
            series.append({"month": label, **figures(raw), "invoices": 0, "creditNotes": 0,
                           "orders": 0, "byProductGroup": [
                {"productGroupCode": g["productGroupCode"], **figures(g)}
                for g in raw.get("byProductGroup", [])]})
        data = {
            "clientId": str(client_id), "version": version,
            "asOf": moment.isoformat().replace("+00:00", "Z"), "currency": "EUR",
            "months": series,
            "payments": payments or {"windowMonths": 12, "invoicesDue": 0, "paidWithinTerm": 0,
                                     "overdueInvoices": 0, "averageDaysLate": "0.0",
                                     "maxDaysLate": 0, "overdueAmount": "0.00"},
        }
        return await self.event("crm.analytics.client.turnover.updated", str(client_id), data,
                                source="crm/analytics")

    async def product(self, code: str, group: str, *, name: str | None = None,
                      group_name: str | None = None, price: str | None = "10.00",
                      currency: str = "EUR", active: bool = True,
                      version: int | None = None) -> dict[str, Any]:
        version = version or self._erp_versions.get(code, 0) + 1
        self._erp_versions[code] = max(version, self._erp_versions.get(code, 0))
        data: dict[str, Any] = {
            "code": code, "name": name or f"Продукт {code}",
            "productGroup": {"code": group, "name": group_name or f"Група {group}"},
            "unit": "pcs", "vatRate": "20.00", "active": active, "version": version}
        if price is not None:
            data["basePrice"] = {"amount": price, "currency": currency}
        envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "erp/test",
                    "type": "erp.catalog.product.upserted", "time": _now(), "subject": code,
                    "datacontenttype": "application/json", "data": data}
        await self.erp_raw(json.dumps(envelope, ensure_ascii=False).encode(),
                           "erp.catalog.product.upserted", envelope["id"])
        return envelope


@pytest.fixture(scope="module")
async def publisher(exchange_name: str, erp_exchange_name: str) -> AsyncIterator[Publisher]:
    async with fixtures.declared_exchanges(exchange_name, erp_exchange_name) as (platform, erp):
        yield Publisher(platform, erp)


class Service(ServiceUnderTest):
    """The running pricing service (``sql`` runs a statement on its database)."""


@pytest.fixture(scope="module")
def pricing_overrides() -> dict[str, Any]:
    """``PricingConfig`` fields a test module sets for its service (a module overrides this)."""
    return {}


@pytest.fixture(scope="module")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  erp_exchange_name: str, tap: CaughtEvents,
                  pricing_overrides: dict[str, Any]) -> AsyncIterator[Service]:
    private, public = keys
    port = procs.free_port()
    settings = Settings.from_env("pricing", port, environ=testing.service_environ(
        port, database_url, exchange_name, public, QUEUE_PREFIX))
    config = PricingConfig(erp_exchange=erp_exchange_name, url_secret=EXPORT_SECRET,
                           public_base_url=f"http://127.0.0.1:{port}", **pricing_overrides)
    async with testing.running_service(Service, "pricing", private, settings,
                                       lambda: create_app(settings, config),
                                       request_timeout=60) as svc:
        yield svc


async def wait_until(check: Any, within: float = 30.0) -> Any:
    return await _wait_until(check, within=within, interval=0.1)
