"""The service's own tier sweep (``RUN_SCHEDULER``, ``TIER_SWEEP_INTERVAL_SECONDS``): a rule
activated without any new turnover still moves the clients it covers, and publishes the move."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from crm_common.testing import CaughtEvents
from crm_pricing.domain.turnover import Basis, Window, basis_period

from .conftest import Publisher, Service, wait_until
from .test_quotes import definition, put_rule


@pytest.fixture(scope="module")
def pricing_overrides() -> dict[str, Any]:
    return {"tier_sweep_interval": dt.timedelta(seconds=0.3)}


async def test_a_rule_activated_moves_the_tiers_it_covers_without_new_turnover(
        service: Service, publisher: Publisher, tap: CaughtEvents) -> None:
    client = uuid.uuid4()
    await publisher.client(client, owner=uuid.uuid4())
    today = dt.datetime.now(dt.UTC).date()
    months = basis_period(Window.QUARTER, Basis.PREVIOUS_CLOSED, today).months
    await publisher.turnover(client, 1, [{"month": m.strftime("%Y-%m"), "invoicedNet": "20000"}
                                         for m in months])

    async def stored() -> bool:
        return bool(await service.sql("SELECT 1 FROM client_turnover WHERE client_id = :c",
                                      c=client))
    await wait_until(stored)
    assert tap.of_type("crm.pricing.client_tier.changed", str(client)) == []  # no rule yet
    rule_id = await put_rule(service, definition(
        "SWEEP-Q", effect={"kind": "percent_off", "value": "3"},
        conditions=[{"kind": "turnover", "window": "quarter", "tiers": [
            {"threshold": "10000"}, {"threshold": "100000"}]}]))
    events = await tap.wait_for(lambda e: e["type"] == "crm.pricing.client_tier.changed"
                                and e["subject"] == str(client))
    data = events[0]["data"]
    assert data["rule"] == {"id": str(rule_id), "code": "SWEEP-Q", "version": 1}
    assert data["tier"] == 1 and data["previousTier"] is None and data["reached"] == "60000.00"
