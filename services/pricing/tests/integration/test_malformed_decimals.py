"""Issue 14: a malformed decimal (``"12500,50"``) in any decimal input is a userError naming
the field, as ``"NaN"`` is; never a request error (``DOWNSTREAM_SERVICE_ERROR`` at the gateway).
The cases come from a walk over the schema (``crm_common.testing_arguments``); each gets an
input that is otherwise valid (a rule of the condition kind the field belongs to), so that the
rule of the field is what answers."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from crm_common.testing_arguments import (
    ArgumentCase,
    argument_cases,
    row_counts,
    user_error_problem,
)
from crm_pricing.graphql.schema import build_schema

from .conftest import Service
from .test_rules_api import created, rule_input

DECIMAL = frozenset({"Decimal"})
EVERY = {
    "quote": {"input.lines.0.quantity"},
    "setPrices": {"input.prices.0.price"},
    "createPricingRule": {"input.effect.value", "input.conditions.0.tiers.0.threshold",
                          "input.conditions.0.tiers.0.effect.value",
                          "input.conditions.0.minimum", "input.conditions.0.minShareWithinTerm",
                          "input.conditions.0.maxAverageDaysLate"},
}
CONDITIONS: dict[str, dict[str, Any]] = {
    "tiers": {"kind": "TURNOVER", "window": "QUARTER", "tiers": [
        {"threshold": "40000", "effect": {"kind": "PERCENT_OFF", "value": "5"}}]},
    "minimum": {"kind": "GROUP_PURCHASE", "window": "QUARTER", "productGroup": "bev",
                "minimum": "1000"},
    "minShareWithinTerm": {"kind": "PAYMENT_BEHAVIOUR", "minShareWithinTerm": "0.9"},
    "maxAverageDaysLate": {"kind": "PAYMENT_BEHAVIOUR", "maxAverageDaysLate": "5"},
}


def rule_fields(path: tuple[str, ...]) -> dict[str, Any]:
    """A valid rule whose condition (if the path goes into one) is of the path's kind."""
    fields: dict[str, Any] = {"effect": {"kind": "PERCENT_OFF", "value": "5"}}
    if "conditions" in path:
        key = path[path.index("conditions") + 2]
        fields["conditions"] = [copy.deepcopy(CONDITIONS[key])]
        if key == "tiers":
            fields["effect"] = None
    return fields


def put(data: Any, path: tuple[str, ...], value: str) -> None:
    for key in path[:-1]:
        data = data[int(key)] if isinstance(data, list) else data[key]
    data[path[-1]] = value


def request(case: ArgumentCase, rule: dict[str, Any], malformed: str) -> dict[str, Any]:
    """The variables of ``case``: a valid input with ``malformed`` at the case's path."""
    path = case.path[1:]
    if case.field == "createPricingRule":
        data = {**rule_input(f"D{uuid.uuid4().hex[:8]}"), **rule_fields(path)}
    elif case.field == "updatePricingRule":
        data = {"id": rule["id"], "version": rule["version"], **rule_fields(path)}
    elif case.field == "simulatePricingRule" and path[0] == "rule":
        data = {"rule": {**rule_input("SIM"), **rule_fields(path[1:])}}
    elif case.field == "simulatePricingRule":
        data = {"id": rule["id"], "changes": rule_fields(path[1:])}
    else:
        return case.variables
    put(data, path, malformed)
    return {"input": data}


@pytest.mark.parametrize("malformed", ["12500,50", "12.5%", "1e", "€12", " ", "1" * 5000, "NaN"])
async def test_a_malformed_decimal_is_a_user_error_naming_the_field(
        service: Service, database_url: str, malformed: str) -> None:
    cases = argument_cases(build_schema(), malformed, kinds=DECIMAL)
    for field, paths in EVERY.items():
        assert {".".join(c.path) for c in cases if c.field == field} >= paths
    rule = await created(service, rule_input(f"BASE{uuid.uuid4().hex[:6]}"))
    token = service.token("admin")
    before = await row_counts(database_url)
    problems = []
    for case in cases:
        response = await service.gql(token, case.document, request(case, rule, malformed))
        problem = user_error_problem(case, response.status_code, response.json())
        if problem:
            problems.append(problem)
    assert problems == [], "\n".join(problems)
    assert await row_counts(database_url) == before
