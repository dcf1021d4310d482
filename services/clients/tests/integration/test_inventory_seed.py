"""``./crm seed``'s demo inventory against the real clients service: it loads, and a second run
changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from crm_dev.seed_inventory import FRIDGES, seed_inventory

from .conftest import Service
from .inventory_helpers import AUDITS_DUE, new_client

pytestmark = pytest.mark.integration


async def test_the_demo_inventory_loads_once(service: Service) -> None:
    for _ in range(2):
        await new_client(service)
    manager = service.token("manager")
    url = f"{service.url}/graphql"

    def run() -> list[str]:
        with httpx.Client(timeout=30, headers={"authorization": f"Bearer {manager}"}) as http:
            return seed_inventory(http, url, dt.date.today())

    first = await asyncio.to_thread(run)
    assert not [line for line in first if "FAILED" in line], first
    assert sum("asset    " in line for line in first) <= len(FRIDGES)
    second = await asyncio.to_thread(run)
    assert second == [], second  # nothing new the second time
    due = (await service.data(manager, AUDITS_DUE, {"first": 100}))["auditsDue"]["edges"]
    numbers = {e["node"]["protocolNumber"] for e in due}
    assert {f"ПП-{n}" for n, _ in FRIDGES[:2]} <= numbers
