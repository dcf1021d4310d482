"""The Idempotency-Key header through the gateway (issue 14): the gateway forwards it to every
subgraph, whose mutation helper answers a retry from the stored outcome."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .conftest import Platform

pytestmark = pytest.mark.e2e

CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id legalName } userErrors { field code message } } }"""
CREATE_PRICE_LIST = """mutation($input: CreatePriceListInput!) { createPriceList(input: $input) {
  priceList { id code } userErrors { field code message } } }"""
FIND = """query($s: String!) { clients(first: 20, filter: {search: $s}) {
  edges { node { id legalName } } } }"""


def _post(platform: Platform, token: str, query: str, variables: dict[str, Any],
          key: str | None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"}
    if key is not None:
        headers["idempotency-key"] = key
    response = httpx.post(platform.gateway, json={"query": query, "variables": variables},
                          headers=headers, timeout=30)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def test_a_retried_create_through_the_gateway_is_done_once(platform: Platform) -> None:
    manager = platform.token("manager")
    key = str(uuid.uuid4())
    name = f"Мобилен опит {uuid.uuid4().hex[:6]} ООД"
    variables = {"input": {"kind": "COMPANY", "legalName": name, "status": "PROSPECT"}}
    first, second = (_post(platform, manager, CREATE_CLIENT, variables, key)["createClient"]
                     for _ in range(2))
    assert first["userErrors"] == [] and second["userErrors"] == []
    assert first["client"]["id"] == second["client"]["id"]
    found = _post(platform, manager, FIND, {"s": name}, None)["clients"]["edges"]
    assert [e["node"]["id"] for e in found if e["node"]["legalName"] == name] == \
        [first["client"]["id"]]

    other = {"input": {**variables["input"], "legalName": name + " 2"}}
    reused = _post(platform, manager, CREATE_CLIENT, other, key)["createClient"]
    assert reused["client"] is None
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]


def test_the_header_reaches_another_subgraph_and_is_checked_there(platform: Platform) -> None:
    manager = platform.token("manager")
    key = str(uuid.uuid4())
    variables = {"input": {"code": f"E2E-{uuid.uuid4().hex[:6].upper()}", "name": "Листа"}}
    first, second = (_post(platform, manager, CREATE_PRICE_LIST, variables, key)
                     ["createPriceList"] for _ in range(2))
    assert first["priceList"]["id"] == second["priceList"]["id"]
    bad = _post(platform, manager, CREATE_PRICE_LIST, variables, "x" * 300)["createPriceList"]
    assert [e["code"] for e in bad["userErrors"]] == ["INVALID_IDEMPOTENCY_KEY"]


def test_browsers_may_send_the_header(platform: Platform) -> None:
    response = httpx.options(platform.gateway, headers={
        "origin": "https://app.example", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key"},
        timeout=30)
    assert response.status_code in (200, 204)
    allowed = response.headers.get("access-control-allow-headers", "").lower()
    assert "idempotency-key" in allowed
