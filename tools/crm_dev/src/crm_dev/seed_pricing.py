"""The demo pricing policy ``./crm seed`` creates through the API (after the clients): a few
rules of the kinds docs/pricing.md works through, on the ERP simulator's product groups, active
from the first of the year. A rule whose code exists already is left as it is."""

from __future__ import annotations

from typing import Any

import httpx

CREATE_RULE = """
mutation SeedRule($input: CreatePricingRuleInput!) {
  createPricingRule(input: $input) {
    pricingRule { code version }
    userErrors { field message code }
  }
}
"""


def _tiers(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"threshold": t, "effect": {"kind": "PERCENT_OFF", "value": p}} for t, p in pairs]


#: the policy: beer by quarterly turnover, ten cases of any soft drink, early payment, loyal
#: payers' coffee
RULES: list[dict[str, Any]] = [
    {"code": "BIR-Q", "name": "Бира: тримесечен оборот",
     "scope": {"kind": "PRODUCT_GROUP", "code": "BIR"}, "audience": {"kind": "ALL"},
     "priority": 10, "stacking": "EXCLUSIVE",
     "conditions": [{"kind": "TURNOVER", "window": "QUARTER", "productGroup": "BIR",
                     "tiers": _tiers(("1000", "3"), ("3000", "5"), ("6000", "7"))}]},
    {"code": "NAP-10", "name": "10 каси безалкохолни",
     "scope": {"kind": "PRODUCT_GROUP", "code": "NAP"}, "audience": {"kind": "ALL"},
     "priority": 5, "stacking": "EXCLUSIVE",
     "conditions": [{"kind": "ORDER", "metric": "QUANTITY",
                     "tiers": _tiers(("10", "4"), ("50", "6"))}]},
    {"code": "EARLY-PAY", "name": "Плащане до 10 дни", "scope": {"kind": "ALL"},
     "audience": {"kind": "ALL"}, "priority": 0, "stacking": "CUMULATIVE",
     "effect": {"kind": "PERCENT_OFF", "value": "2"},
     "conditions": [{"kind": "PAYMENT_TERM", "maxDays": 10}]},
    {"code": "KAF-LOYAL", "name": "Кафе за коректни платци",
     "scope": {"kind": "PRODUCT_GROUP", "code": "KAF"}, "audience": {"kind": "ALL"},
     "priority": 0, "stacking": "EXCLUSIVE", "effect": {"kind": "PERCENT_OFF", "value": "5"},
     "conditions": [{"kind": "PAYMENT_BEHAVIOUR", "minShareWithinTerm": "0.9"}]},
]


def seed_rules(http: httpx.Client, url: str, year: int) -> list[str]:
    """Create the rules (active from 1 January of ``year``); the lines to print."""
    out = []
    for rule in RULES:
        variables = {"input": {**rule, "status": "ACTIVE", "validFrom": f"{year}-01-01"}}
        body = http.post(url, json={"query": CREATE_RULE, "variables": variables}).json()
        payload = (body.get("data") or {}).get("createPricingRule") or {}
        errors = payload.get("userErrors") or body.get("errors") or []
        if payload.get("pricingRule"):
            out.append(f"  rule     {rule['code']}  {rule['name']}")
        elif errors and errors[0].get("code") == "DUPLICATE":
            out.append(f"  exists   rule {rule['code']}")
        else:
            out.append(f"  FAILED   rule {rule['code']}: {errors}")
    return out
