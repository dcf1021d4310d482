"""Pricing as a rep and a manager use it, through the gateway, every service a process of its
own: the ERP publishes two products with base prices, a manager sets a rule, a rep quotes for a
client they own and downloads its price list through the signed URL; another rep's quote for
that client is refused as if it did not exist."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import aio_pika
import httpx
import pytest

from .conftest import Platform

pytestmark = pytest.mark.e2e

ERRORS = "userErrors { field code message }"
CREATE_CLIENT = f"""mutation($input: CreateClientInput!) {{ createClient(input: $input) {{
  client {{ id }} {ERRORS} }} }}"""
CREATE_RULE = f"""mutation($input: CreatePricingRuleInput!) {{
  createPricingRule(input: $input) {{ pricingRule {{ code version status }} {ERRORS} }} }}"""
QUOTE = f"""query($input: QuoteInput!) {{ quote(input: $input) {{
  quote {{ total {{ amount }} rules {{ code version }}
          lines {{ product {{ code }} unitPrice {{ amount }} steps {{ ruleCode message }} }} }}
  {ERRORS} }} }}"""
EXPORT = """query($id: ID!) { client(id: $id) { legalName
  priceListExport(format: CSV) { url } } }"""


def _eventually(check: Callable[[], Any], what: str, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {within} s: {what}")
        time.sleep(0.3)


def _publish_products(exchange: str, products: list[tuple[str, str, str]]) -> None:
    async def main() -> None:
        conn = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with conn:
            channel = await conn.channel(publisher_confirms=True)
            erp = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC,
                                                 durable=True)
            for code, group, price in products:
                envelope = {
                    "specversion": "1.0", "id": str(uuid.uuid4()), "source": "erp/e2e",
                    "type": "erp.catalog.product.upserted", "subject": code,
                    "time": dt.datetime.now(dt.UTC).isoformat(),
                    "datacontenttype": "application/json",
                    "data": {"code": code, "name": f"Продукт {code}",
                             "productGroup": {"code": group, "name": "Бира"}, "unit": "бр.",
                             "vatRate": "20.00", "active": True, "version": 1,
                             "basePrice": {"amount": price, "currency": "EUR"}}}
                await erp.publish(aio_pika.Message(
                    json.dumps(envelope).encode(), message_id=envelope["id"],
                    content_type="application/cloudevents+json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key="erp.catalog.product.upserted")
    asyncio.run(main())


def test_a_rep_quotes_with_a_managers_rule_and_downloads_the_price_list(
        platform: Platform) -> None:
    suffix = uuid.uuid4().hex[:6].upper()
    group = f"E2E{suffix}"
    beer, can = f"BEER-{suffix}", f"CAN-{suffix}"
    _publish_products(platform.erp_exchange, [(beer, group, "1.20"), (can, group, "0.90")])
    rep_id, other_id = platform.employee("sales_rep"), platform.employee("sales_rep")
    manager = platform.token("manager")
    rep, other = platform.token("sales_rep", rep_id), platform.token("sales_rep", other_id)
    client = platform.data(manager, CREATE_CLIENT, {"input": {
        "kind": "COMPANY", "legalName": "Бирария Дунав ООД", "status": "PROSPECT",
        "ownerId": str(rep_id)}})["createClient"]
    assert client["userErrors"] == [], client
    client_id = client["client"]["id"]
    rule = platform.data(manager, CREATE_RULE, {"input": {
        "code": f"E2E-{suffix}", "name": "Бира −10 %", "status": "ACTIVE",
        "scope": {"kind": "PRODUCT_GROUP", "code": group}, "audience": {"kind": "ALL"},
        "effect": {"kind": "PERCENT_OFF", "value": "10"}}})["createPricingRule"]
    assert rule["userErrors"] == [] and rule["pricingRule"]["status"] == "ACTIVE", rule
    variables = {"input": {"clientId": client_id, "lines": [
        {"productCode": beer, "quantity": "24"}, {"productCode": can, "quantity": "10"}]}}

    def quoted() -> Any:
        """Retried until pricing has the products (ERP) and knows the rep owns the client."""
        payload = platform.data(rep, QUOTE, variables)["quote"]
        return payload["quote"]
    quote = _eventually(quoted, "pricing has the catalogue and the client")
    lines = {line["product"]["code"]: line for line in quote["lines"]}
    assert lines[beer]["unitPrice"]["amount"] == "1.08"
    assert lines[can]["unitPrice"]["amount"] == "0.81"
    assert lines[beer]["steps"][1]["ruleCode"] == f"E2E-{suffix}"
    assert quote["total"]["amount"] == "34.02"  # 24 × 1.08 + 10 × 0.81
    assert {"code": f"E2E-{suffix}", "version": 1} in quote["rules"]
    refused = platform.data(other, QUOTE, variables)["quote"]
    assert refused["quote"] is None
    assert refused["userErrors"][0]["code"] == "NOT_FOUND"

    url = platform.data(rep, EXPORT, {"id": client_id})["client"]["priceListExport"]["url"]
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    prices = {r[0]: r[6] for r in rows[1:]}
    assert prices[beer] == "1.08" and prices[can] == "0.81"
    assert platform.data(other, EXPORT, {"id": client_id})["client"] is None
