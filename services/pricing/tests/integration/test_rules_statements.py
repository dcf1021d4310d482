"""The rule list with versions and history costs the same number of SQL statements for 1 rule
as for 20: one statement per kind of row (the rules, their earlier versions, their history)."""

from __future__ import annotations

from typing import Any

import pytest

from crm_common.testing import request_statements, statements_sent

from .conftest import Service
from .test_rules_api import UPDATE, change, created, rule_input

pytestmark = pytest.mark.integration

LIST = """query($search: String) { pricingRules(first: 100, filter: {search: $search}) {
  edges { node { id code conditions { __typename } versions { version name }
                 history(first: 5) { edges { node { operation } } } } } } }"""


async def _statements_for(service: Service, variables: dict[str, Any]) -> tuple[int, int]:
    with statements_sent() as seen:
        data = await service.data(service.token("sales_rep"), LIST, variables)
    return len(request_statements(seen)), len(data["pricingRules"]["edges"])


async def test_statement_count_does_not_grow_with_rules(service: Service) -> None:
    async def rules(prefix: str, n: int) -> None:
        for i in range(n):
            rule = await created(service, rule_input(f"{prefix}-{i:02d}", priority=i))
            await change(service, UPDATE, {"id": rule["id"], "version": 1,
                                           **rule_input(f"{prefix}-{i:02d}", priority=i,
                                                        name="Changed")})

    await rules("STMT1", 1)
    await rules("STMT20", 20)
    small, n_small = await _statements_for(service, {"search": "STMT1-"})
    large, n_large = await _statements_for(service, {"search": "STMT20-"})
    assert (n_small, n_large) == (1, 20)
    assert small == large
    assert small <= 3  # rules, versions, history
