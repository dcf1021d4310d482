"""simulatePricingRule against numbers worked out by hand (docs/pricing.md, "Managing rules").

The world, on 1 December 2026 (the previous closed quarter is July–September 2026):

- products of the group SIMBEV: SIM-BEER at €1.20, SIM-WATER at €0.80 (the ERP's prices);
  SIM-OLD (inactive) and SIM-NOPRICE (no price) are left out; SIM-CHIPS is another group's;
- clients with turnover in SIMBEV over the quarter: A €41,000, B €65,000, C €10,000, and D
  €65,000, D being in the client group G;
- one active rule: HORECA-SIM, 10 % on SIMBEV for the group G, priority 100, exclusive.

The draft SIM-Q: 5 % at €40,000, 7 % at €60,000 of quarterly SIMBEV turnover, priority 10.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from crm_pricing.service_layer import rule_simulation

from .conftest import Publisher, Service, wait_until
from .test_rules_api import (
    ACTIVATE,
    add_product,
    change,
    created,
    manager,
    rule_input,
)

pytestmark = pytest.mark.integration

SIMULATE = """query($input: SimulatePricingRuleInput!, $date: Date) {
  simulatePricingRule(input: $input, date: $date) {
    simulation { date clientsWithTurnover clientsSimulated clientsPriced productsInScope
      complete averageChangePercent clientsChangingTier
      rule { code status version conditions { ... on PricingRuleTurnoverCondition {
        tiers { threshold effect { value } } } } }
      clients { clientId tierBefore tierAfter turnoverReached productsPriced
                averageChangePercent largestChangePercent } }
    userErrors { field code message } } }"""

DAY = "2026-12-01"
A, B, C, D, G = (uuid.UUID(f"00000000-0000-4000-8000-5100000000{n:02d}") for n in range(1, 6))


def sim_q(tiers: tuple[tuple[str, str], ...] = (("40000", "5"), ("60000", "7")),
          code: str = "SIM-Q", **kw: Any) -> dict[str, Any]:
    return rule_input(code, scope={"kind": "PRODUCT_GROUP", "code": "SIMBEV"}, effect=None,
                      conditions=[{"kind": "TURNOVER", "window": "QUARTER",
                                   "productGroup": "SIMBEV",
                                   "tiers": [{"threshold": t, "effect": {"kind": "PERCENT_OFF",
                                                                         "value": v}}
                                             for t, v in tiers]}], **kw)


def figures(amount: str) -> dict[str, Any]:
    return {"invoicedNet": f"{Decimal(amount):.2f}", "creditedNet": "0.00",
            "invoicedQuantity": "0", "orderedNet": "0.00", "orderedQuantity": "0"}


def quarter(jul: str, aug: str, sep: str) -> list[dict[str, Any]]:
    """December 2026 and the 24 months before it, as analytics sends them (the catalogue's
    ClientTurnoverEvent), zero but for July–September 2026."""
    amounts = {"2026-07": jul, "2026-08": aug, "2026-09": sep}
    months = [f"{2024 + (11 + i) // 12}-{(11 + i) % 12 + 1:02d}" for i in range(25)]
    assert months[0] == "2024-12" and months[-1] == "2026-12"
    return [{"month": m, **figures(amounts.get(m, "0")), "invoices": 1, "creditNotes": 0,
             "orders": 0, "byProductGroup": [{"productGroupCode": "SIMBEV",
                                              **figures(amounts.get(m, "0"))}]}
            for m in months]


async def publish_turnover(publisher: Publisher, client: uuid.UUID,
                           months: list[dict[str, Any]]) -> None:
    await publisher.event("crm.analytics.client.turnover.updated", str(client), {
        "clientId": str(client), "version": 1, "asOf": "2026-12-01T06:00:00+00:00",
        "currency": "EUR", "months": months,
        "payments": {"windowMonths": 12, "invoicesDue": 0, "paidWithinTerm": 0,
                     "overdueInvoices": 0, "averageDaysLate": "0.0", "maxDaysLate": 0,
                     "overdueAmount": "0.00"}}, source="crm/analytics")


@pytest.fixture(scope="module")
async def world(service: Service, publisher: Publisher) -> None:
    for code, group, price in (("SIM-BEER", "SIMBEV", "1.20"), ("SIM-WATER", "SIMBEV", "0.80"),
                               ("SIM-CHIPS", "SIMSNK", "2.00")):
        await add_product(service, code, group, price)
    await add_product(service, "SIM-OLD", "SIMBEV", "5.00")
    await service.sql("UPDATE products SET active = false WHERE code = 'SIM-OLD'")
    await service.sql("INSERT INTO products (code, name, group_code, unit, vat_rate, active, "
                      "version) VALUES ('SIM-NOPRICE', 'x', 'SIMBEV', 'pcs', 20, true, 1)")
    await publisher.group(G, "G", "HoReCa")
    await publisher.client(D, group=G)
    for client, months in ((A, quarter("12000", "14000", "15000")),
                           (B, quarter("20000", "20000", "25000")),
                           (C, quarter("3000", "3000", "4000")),
                           (D, quarter("20000", "20000", "25000"))):
        await publish_turnover(publisher, client, months)
    await wait_until(lambda: service.sql("SELECT 1 FROM client_profiles WHERE client_id = :d "
                                         "AND group_id IS NOT NULL", d=D))

    async def all_turnover() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM client_turnover")
        return bool(rows[0]["n"] == 4)
    await wait_until(all_turnover)
    await created(service, rule_input("HORECA-SIM", scope={"kind": "PRODUCT_GROUP",
                                                           "code": "SIMBEV"},
                                      audience={"kind": "CLIENT_GROUP", "id": str(G)},
                                      effect={"kind": "PERCENT_OFF", "value": "10"},
                                      priority=100, status="ACTIVE"))


async def simulate(service: Service, data: dict[str, Any], token: str | None = None,
                   date: str | None = DAY) -> dict[str, Any]:
    body = await service.data(token or manager(service), SIMULATE,
                              {"input": data, "date": date})
    result: dict[str, Any] = body["simulatePricingRule"]
    return result


def by_client(simulation: dict[str, Any]) -> dict[uuid.UUID, tuple[Any, ...]]:
    return {uuid.UUID(c["clientId"]): (c["tierBefore"], c["tierAfter"],
                                       c["averageChangePercent"], c["largestChangePercent"])
            for c in simulation["clients"]}


async def test_a_draft_rule(service: Service, world: None) -> None:
    rules_before = await service.sql("SELECT count(*) AS n FROM pricing_rules")
    result = await simulate(service, {"rule": sim_q()})
    assert result["userErrors"] == []
    sim = result["simulation"]
    assert (sim["date"], sim["clientsWithTurnover"], sim["clientsSimulated"],
            sim["clientsPriced"], sim["productsInScope"], sim["complete"]) == (
        DAY, 4, 4, 4, 2, True)
    assert sim["rule"]["code"] == "SIM-Q" and sim["rule"]["status"] == "ACTIVE"
    # A: 5 % → €1.14 and €0.76, −5 % each. B: 7 % → €1.116 → €1.12 (−6.67 %) and €0.744 →
    # €0.74 (−7.5 %), mean −7.08 %. D: the group's 10 % (priority 100) still wins: no change,
    # but D reaches tier 2 of the new rule. C: below every tier, not listed.
    assert by_client(sim) == {
        B: (None, 2, "-7.08", "-7.50"),
        A: (None, 1, "-5.00", "-5.00"),
        D: (None, 2, "0.00", "0.00"),
    }
    assert [uuid.UUID(c["clientId"]) for c in sim["clients"]] == [B, A, D]  # largest drop first
    assert sim["clients"][0]["turnoverReached"] == "65000.00"
    assert sim["clientsChangingTier"] == 3
    # over the four clients priced: (−5 − 7.0833 + 0 + 0) / 4 = −3.02
    assert sim["averageChangePercent"] == "-3.02"
    assert await service.sql("SELECT count(*) AS n FROM pricing_rules") == rules_before


async def test_changes_to_an_active_rule(service: Service, world: None) -> None:
    rule = await created(service, sim_q())
    assert (await change(service, ACTIVATE, {"id": rule["id"], "version": 1}))[
        "userErrors"] == []
    result = await simulate(service, {"id": rule["id"], "changes": {"conditions": sim_q(
        tiers=(("45000", "5"), ("60000", "10")))["conditions"]}})
    assert result["userErrors"] == []
    sim = result["simulation"]
    assert sim["rule"]["version"] == 3
    # A falls below the new first tier: €1.14 → €1.20 and €0.76 → €0.80, +5.26 % each.
    # B: 10 % → €1.08 (from €1.12, −3.57 %) and €0.72 (from €0.74, −2.70 %), mean −3.14 %.
    # D: the group's rule still wins, tier 2 → 2: not listed.
    assert by_client(sim) == {
        B: (2, 2, "-3.14", "-3.57"),
        A: (1, None, "5.26", "5.26"),
    }
    assert sim["clientsChangingTier"] == 1
    # (5.2632 − 3.1371 + 0 + 0) / 4 = 0.53
    assert sim["averageChangePercent"] == "0.53"
    stored = await service.sql("SELECT version, definition FROM pricing_rules WHERE id = :id",
                               id=uuid.UUID(rule["id"]))
    assert stored[0]["version"] == 2  # nothing stored
    assert stored[0]["definition"]["conditions"][0]["tiers"][0]["threshold"] == "40000"


async def test_a_bound_cuts_and_says_so(service: Service, world: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rule_simulation, "MAX_PAIRS", 5)  # 2 products: 2 clients priced
    sim = (await simulate(service, {"rule": sim_q(code="SIM-BOUND")}))["simulation"]
    assert (sim["clientsSimulated"], sim["clientsPriced"], sim["complete"]) == (4, 2, False)
    assert sum(c["productsPriced"] for c in sim["clients"]) <= 4


async def test_bad_simulations(service: Service, world: None) -> None:
    rep = await simulate(service, {"rule": sim_q()}, token=service.token("sales_rep"))
    assert [(e["field"], e["code"]) for e in rep["userErrors"]] == [(["input"], "FORBIDDEN")]
    bad = await simulate(service, {"rule": sim_q(tiers=(("-1", "5"),))})
    assert [(".".join(e["field"]), e["code"]) for e in bad["userErrors"]] == [
        ("input.rule.conditions.0.tiers.0.threshold", "NEGATIVE")]
    neither = await simulate(service, {})
    assert [e["code"] for e in neither["userErrors"]] == ["REQUIRED"]
    both = await simulate(service, {"rule": sim_q(), "id": str(uuid.uuid4())})
    assert [e["code"] for e in both["userErrors"]] == ["REQUIRED"]
    unknown = await simulate(service, {"id": str(uuid.uuid4())})
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
    not_an_id = await simulate(service, {"id": "x"})
    assert [e["code"] for e in not_an_id["userErrors"]] == ["INVALID_ID"]
    far = await simulate(service, {"rule": sim_q()}, date="9999-12-31")
    assert [(e["field"], e["code"]) for e in far["userErrors"]] == [(["date"], "INVALID_VALUE")]
    changed = await simulate(service, {"id": str(uuid.uuid4()), "changes": {"priority": 5000}})
    assert [e["code"] for e in changed["userErrors"]] == ["NOT_FOUND"]


def test_the_hand_numbers() -> None:
    """The percentages above, from their definition."""
    def pct(before: str, after: str) -> Decimal:
        return (Decimal(after) - Decimal(before)) / Decimal(before) * 100
    b = (pct("1.20", "1.12") + pct("0.80", "0.74")) / 2
    assert round(b, 2) == Decimal("-7.08")
    assert round((Decimal(-5) + b) / 4, 2) == Decimal("-3.02")
    b2 = (pct("1.12", "1.08") + pct("0.74", "0.72")) / 2
    assert round(b2, 2) == Decimal("-3.14")
    assert round((pct("1.14", "1.20") + b2) / 4, 2) == Decimal("0.53")
