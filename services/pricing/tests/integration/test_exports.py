"""The client's price list as a CSV or XLSX file, through a short-lived signed URL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
import uuid
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from crm_common.auth import Principal
from crm_pricing.config import PricingConfig
from crm_pricing.http.exports import signed_url

from .conftest import EXPORT_SECRET, Publisher, Service, wait_until

pytestmark = pytest.mark.integration

REP = uuid.uuid4()
EXPORT = """query($reps: [_Any!]!, $format: PriceListFormat!, $date: Date) {
  _entities(representations: $reps) { ... on Client {
    priceListExport(format: $format, date: $date) { url expiresAt format } } } }"""


@pytest.fixture(scope="module")
async def shop(service: Service, publisher: Publisher) -> dict[str, Any]:
    """250 products with ERP prices (two groups), a rule on one group, a client of REP."""
    await service.sql("INSERT INTO product_groups (code, name) VALUES ('BEV', 'Напитки'), "
                      "('CONF', 'Сладкарски изделия')")
    await service.sql(
        "INSERT INTO products (code, name, group_code, unit, vat_rate, active, version) "
        "SELECT 'P' || lpad(i::text, 4, '0'), 'Продукт „Ябълка“ ' || i, "
        "CASE WHEN i % 2 = 0 THEN 'BEV' ELSE 'CONF' END, 'бр.', 20, i <> 7, 1 "
        "FROM generate_series(1, 250) i")
    await service.sql(
        "INSERT INTO price_list_items (price_list_id, product_code, price) "
        "SELECT '00000000-0000-4000-8000-00000000e4b0', code, 2.5 FROM products")
    await service.sql(
        "INSERT INTO pricing_rules (id, code, name, status, stacking, priority, scope_kind, "
        "scope_code, audience_kind, definition) VALUES (gen_random_uuid(), 'BEV-10', "
        "'Напитки −10 %', 'active', 'exclusive', 0, 'product_group', 'BEV', 'all', "
        "CAST(:d AS jsonb))", d='{"code": "BEV-10", "name": "Напитки −10 %", "scope": '
        '{"kind": "product_group", "code": "BEV"}, "audience": {"kind": "all"}, "effect": '
        '{"kind": "percent_off", "value": "10"}}')
    client = uuid.uuid4()
    await publisher.client(client, owner=REP, name="Бакалия Иванови ООД")

    async def known() -> bool:
        return bool(await service.sql("SELECT 1 FROM access_clients WHERE client_id = :c",
                                      c=client))
    await wait_until(known)
    return {"client": client}


async def _url(service: Service, client: uuid.UUID, fmt: str, role: str = "sales_rep",
               subject: uuid.UUID = REP) -> str | None:
    data = await service.data(service.token(role, subject), EXPORT, {
        "reps": [{"__typename": "Client", "id": str(client)}], "format": fmt,
        "date": "2026-12-01"})
    found = data["_entities"][0]["priceListExport"]
    return None if found is None else str(found["url"])


async def test_csv_export_lists_every_active_product_with_its_client_price(
        service: Service, shop: dict[str, Any]) -> None:
    url = await _url(service, shop["client"], "CSV")
    assert url is not None and url.startswith(service.url + "/exports/price-lists/")
    response = await service.client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "Product code" and header[6] == "Client price (EUR)"
    assert len(body) == 249  # P0007 is inactive
    by_code = {r[0]: r for r in body}
    assert by_code["P0002"][6] == "2.25" and by_code["P0002"][8] == "BEV-10"
    assert by_code["P0001"][6] == "2.50" and by_code["P0001"][8] == ""
    assert by_code["P0001"][1] == "Продукт „Ябълка“ 1"
    assert [r[0] for r in body] == sorted(r[0] for r in body)
    assert "P0007" not in by_code


def _sheet_cells(content: bytes) -> tuple[str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        names = z.namelist()
    return sheet, names


async def test_xlsx_export_is_a_workbook_with_a_frozen_header(service: Service,
                                                              shop: dict[str, Any]) -> None:
    url = await _url(service, shop["client"], "XLSX")
    assert url is not None
    response = await service.client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet, names = _sheet_cells(response.content)
    assert "xl/worksheets/sheet1.xml" in names
    assert 'state="frozen"' in sheet
    # title, header and 249 products: the last row is 252
    rows = [int(n) for n in re.findall(r'<row r="(\d+)"', sheet)]
    assert rows[0] == 1 and rows[-1] == 252
    assert "<v>2.25</v>" in sheet and "<v>2.5</v>" in sheet


async def test_the_url_is_bound_to_what_it_names_and_expires(service: Service,
                                                             shop: dict[str, Any]) -> None:
    url = await _url(service, shop["client"], "CSV")
    assert url is not None
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    async def status(path: str, **changes: str) -> int:
        q = urlencode({**query, **changes})
        return (await service.client.get(f"{service.url}{path}?{q}")).status_code

    assert await status(parts.path) == 200
    assert await status(parts.path, date="2026-11-30") == 403
    assert await status(parts.path, roles="manager") == 403
    assert await status(parts.path, by=str(uuid.uuid4())) == 403
    assert await status(parts.path, sig="0" * 64) == 403
    assert await status(parts.path, sig="short") == 403
    assert await status(parts.path, exp="99999999999999999999") == 403
    assert await status(parts.path.replace(".csv", ".xlsx")) == 403
    assert await status(parts.path.replace(".csv", ".pdf")) == 404
    assert await status("/exports/price-lists/not-a-uuid.csv") == 404
    assert (await service.client.get(f"{service.url}{parts.path}")).status_code == 403
    config = PricingConfig(url_secret=EXPORT_SECRET, public_base_url=service.url)
    old = signed_url(config, Principal(REP, frozenset({"sales_rep"})), shop["client"],
                     dt.date(2026, 12, 1), "csv", now=time.time() - 3600)
    response = await service.client.get(old.url)
    assert response.status_code == 403 and "expired" in response.text


async def test_a_rep_gets_no_url_for_a_client_they_may_not_see_nor_after_losing_it(
        service: Service, publisher: Publisher, shop: dict[str, Any]) -> None:
    assert await _url(service, shop["client"], "CSV", subject=uuid.uuid4()) is None
    client = uuid.uuid4()
    await publisher.client(client, owner=REP, name="Временен клиент")

    async def known() -> bool:
        return bool(await service.sql("SELECT 1 FROM access_clients WHERE client_id = :c",
                                      c=client))
    await wait_until(known)
    url = await _url(service, client, "CSV")
    assert url is not None
    await publisher.client(client, owner=uuid.uuid4(), version=2, name="Временен клиент")

    async def moved() -> bool:
        rows = await service.sql("SELECT version FROM access_clients WHERE client_id = :c",
                                 c=client)
        return bool(rows and rows[0]["version"] == 2)
    await wait_until(moved)
    assert (await service.client.get(url)).status_code == 404
    manager_url = await _url(service, client, "CSV", role="manager", subject=uuid.uuid4())
    assert manager_url is not None
    assert (await service.client.get(manager_url)).status_code == 200
