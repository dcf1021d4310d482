"""The ERP catalogue message as pricing reads it (``domain.catalogue.read_product``, through the
kit's ``crm_common.erp.catalogue``), and the price-list input rules (``domain.price_list``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crm_common.client_access import MalformedEvent
from crm_common.erp.catalogue import BasePrice
from crm_common.problems import Problems
from crm_pricing.domain.catalogue import erp_price_eur, read_product
from crm_pricing.domain.price_list import validate_price_list, validate_prices


def envelope(**data: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": "BEER-05", "name": "Бира 0.5 л", "productGroup": {"code": "BEV",
                                                                  "name": "Напитки"},
        "unit": "бр.", "vatRate": "20", "active": True, "version": 7,
        "basePrice": {"amount": "1.20", "currency": "EUR"}}
    base.update(data)
    return {"type": "erp.catalog.product.upserted", "data": {k: v for k, v in base.items()
                                                            if v is not ...}}


def test_a_good_message() -> None:
    product = read_product(envelope())
    assert (product.code, product.name, product.group_code, product.group_name, product.unit,
            product.vat_rate, product.active, product.version) == \
        ("BEER-05", "Бира 0.5 л", "BEV", "Напитки", "бр.", Decimal(20), True, 7)
    assert product.base_price == BasePrice(Decimal("1.20"), "EUR")
    assert erp_price_eur(product.base_price) == Decimal("1.2000")


@pytest.mark.parametrize(("amount", "eur"), [
    ("1.00", "0.5113"),       # 0.51129…
    ("10.00", "5.1129"),
    ("1.96", "1.0021"),
    ("0.00", "0.0000"),
    ("19558.30", "10000.0000"),
])
def test_bgn_converts_at_the_fixed_rate_to_four_places(amount: str, eur: str) -> None:
    product = read_product(envelope(basePrice={"amount": amount, "currency": "BGN"}))
    assert product.base_price == BasePrice(Decimal(amount), "BGN")
    assert erp_price_eur(product.base_price) == Decimal(eur)


def test_without_a_base_price() -> None:
    for value in (..., None):
        product = read_product(envelope(basePrice=value))
        assert product.base_price is None


@pytest.mark.parametrize(("change", "reason"), [
    ({"version": 0}, "version"),
    ({"version": -1}, "version"),
    ({"version": True}, "version"),
    ({"version": "3"}, "version"),
    ({"version": 2**63}, "version"),
    ({"version": ...}, "version"),
    ({"active": "true"}, "active"),
    ({"active": ...}, "active"),
    ({"code": ""}, "code"),
    ({"code": " BEER"}, "code"),
    ({"code": "A" * 51}, "code"),
    ({"code": 5}, "code"),
    ({"code": "A\x00B"}, "code"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 301}, "name"),
    ({"name": "a\nb"}, "name"),
    ({"unit": ...}, "unit"),
    ({"productGroup": "BEV"}, "productGroup"),
    ({"productGroup": {"code": "BEV"}}, "productGroup.name"),
    ({"productGroup": {"name": "x"}}, "productGroup.code"),
    ({"vatRate": "twenty"}, "vatRate"),
    ({"vatRate": "120"}, "vatRate"),
    ({"vatRate": "-5"}, "vatRate"),
    ({"vatRate": 20.5}, "vatRate"),
    ({"basePrice": "1.20"}, "basePrice"),
    ({"basePrice": {"amount": "1.20"}}, "basePrice.currency"),
    ({"basePrice": {"amount": "1.20", "currency": "USD"}}, "basePrice.currency"),
    ({"basePrice": {"amount": "1.20", "currency": "eur"}}, "basePrice.currency"),
    ({"basePrice": {"amount": "-1.20", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "NaN", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "Infinity", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1e3", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": 1.2, "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1.23456", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "9" * 13, "currency": "EUR"}}, "basePrice.amount"),
    # pricing's own reader took three or four places until the kit's reader replaced it; the
    # contract's ErpAmount has two (analytics refused them already)
    ({"basePrice": {"amount": "1.234", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "0.1234", "currency": "EUR"}}, "basePrice.amount"),
])
def test_what_breaks_the_contract(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        read_product(envelope(**change))
    assert str(caught.value).startswith(reason), caught.value


def test_other_types_and_shapes_break_it() -> None:
    with pytest.raises(MalformedEvent, match="pricing reads only"):
        read_product({**envelope(), "type": "erp.catalog.group.upserted"})
    with pytest.raises(MalformedEvent, match="data"):
        read_product({"type": "erp.catalog.product.upserted", "data": []})


def test_reasons_do_not_echo_huge_values() -> None:
    with pytest.raises(MalformedEvent) as caught:
        read_product(envelope(vatRate="9" * 100000))
    assert len(str(caught.value)) < 200


# --- price-list input ------------------------------------------------------------------------

def codes(exc: pytest.ExceptionInfo[Problems]) -> set[tuple[str, str]]:
    return {(".".join(p.field), p.code) for p in exc.value.problems}


def test_a_price_list_is_created_with_defaults() -> None:
    values = validate_price_list({"code": " horeca-2027 ", "name": " HoReCa "}, creating=True)
    assert values == {"code": "HORECA-2027", "currency": "EUR", "name": "HoReCa",
                      "valid_from": None, "valid_until": None, "is_default": False}


def test_an_update_checks_the_range_against_the_stored_dates() -> None:
    stored = {"valid_from": dt.date(2027, 1, 1), "valid_until": dt.date(2027, 12, 31)}
    with pytest.raises(Problems) as caught:
        validate_price_list({"valid_until": dt.date(2026, 1, 1)}, creating=False, stored=stored)
    assert codes(caught) == {("input.valid_until", "INVALID_DATE_RANGE")}
    assert validate_price_list({"valid_from": None}, creating=False, stored=stored) == \
        {"valid_from": None}


def test_prices() -> None:
    changes = validate_prices([{"product_code": " A ", "price": Decimal("1.5")},
                               {"product_code": "B", "price": None}])
    assert [(c.index, c.product_code, c.price) for c in changes] == \
        [(0, "A", Decimal("1.5000")), (1, "B", None)]
    with pytest.raises(Problems) as caught:
        validate_prices([{"product_code": "A", "price": Decimal("-0")},
                         {"product_code": "B", "price": Decimal("sNaN")},
                         {"product_code": "C", "price": True},
                         {"product_code": None, "price": Decimal(1)},
                         "x"])
    assert codes(caught) == {("input.prices.1.price", "INVALID_VALUE"),
                             ("input.prices.2.price", "INVALID_TYPE"),
                             ("input.prices.3.product_code", "REQUIRED"),
                             ("input.prices.4", "INVALID_TYPE")}
