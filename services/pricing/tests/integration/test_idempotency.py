"""Issue 14 in the pricing service: a price list created over a dropped database connection
and retried with its Idempotency-Key exists once."""

from __future__ import annotations

import uuid

import pytest

from crm_common.testing import lost_and_retried

from .conftest import Service
from .test_price_lists import CREATE

pytestmark = pytest.mark.integration


async def test_a_price_list_created_over_a_dropped_connection_and_retried_exists_once(
        service: Service) -> None:
    manager = service.token("manager")
    code = f"IDEM-{uuid.uuid4().hex[:6].upper()}"
    variables = {"input": {"code": code, "name": "Есенна листа"}}
    second, third = await lost_and_retried(service, manager, CREATE, variables,
                                           "createPriceList")
    assert second["priceList"]["id"] == third["priceList"]["id"]
    assert second["priceList"]["code"] == code
    assert await service.sql("SELECT count(*) AS n FROM price_lists WHERE code = :c",
                             c=code) == [{"n": 1}]


async def test_a_retried_update_is_not_refused_as_a_conflict(service: Service) -> None:
    """The retry carries the version the first attempt consumed; under its key it is answered
    from the stored outcome instead of CONFLICT."""
    manager = service.token("manager")
    code = f"IDEM-{uuid.uuid4().hex[:6].upper()}"
    created = (await service.data(manager, CREATE, {"input": {"code": code, "name": "Листа"}})
               )["createPriceList"]["priceList"]
    update = """mutation($input: UpdatePriceListInput!) { updatePriceList(input: $input) {
      priceList { id name version } userErrors { field code message } } }"""
    variables = {"input": {"id": created["id"], "version": created["version"],
                           "name": "Преименувана"}}
    key = str(uuid.uuid4())
    answers = [(await service.gql(manager, update, variables, headers={"idempotency-key": key})
                ).json()["data"]["updatePriceList"] for _ in range(2)]
    assert [a["userErrors"] for a in answers] == [[], []]
    assert [a["priceList"]["version"] for a in answers] == [created["version"] + 1] * 2
