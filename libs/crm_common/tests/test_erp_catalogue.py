"""``erp.catalog.product.upserted`` read by the kit (crm_common.erp.catalogue), the one reader
pricing and analytics share: good payloads, and every way a payload breaks the contract, each
with a reason that names the field first and never echoes a huge value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_common.client_access import MalformedEvent
from crm_common.erp.catalogue import BasePrice, ErpProduct, parse_product
from crm_common.erp.contract import MAX_VERSION, ContractError


def data(**change: Any) -> dict[str, Any]:
    """A good product's data with ``change`` applied (``...`` removes a field)."""
    base: dict[str, Any] = {
        "code": "BEER-05", "name": "Бира 0.5 л",
        "productGroup": {"code": "BEV", "name": "Напитки"}, "unit": "бр.", "vatRate": "20",
        "active": True, "basePrice": {"amount": "1.20", "currency": "EUR"}, "version": 7}
    base.update(change)
    return {k: v for k, v in base.items() if v is not ...}


def reason(payload: Any, **kwargs: Any) -> str:
    with pytest.raises(ContractError) as caught:
        parse_product(payload, **kwargs)
    return str(caught.value)


def test_a_good_product() -> None:
    assert parse_product(data()) == ErpProduct(
        code="BEER-05", name="Бира 0.5 л", group_code="BEV", group_name="Напитки", unit="бр.",
        vat_rate=Decimal(20), active=True, base_price=BasePrice(Decimal("1.20"), "EUR"),
        version=7)


def test_the_base_price_keeps_what_was_sent_and_converts_exactly() -> None:
    price = parse_product(data(basePrice={"amount": "19558.30", "currency": "BGN"})).base_price
    assert price == BasePrice(Decimal("19558.30"), "BGN")
    assert price is not None and price.eur() == Decimal("10000")
    one = parse_product(data(basePrice={"amount": "1.00", "currency": "BGN"})).base_price
    assert one is not None and one.eur() == Decimal(1) / Decimal("1.95583")  # unrounded
    eur = parse_product(data()).base_price
    assert eur is not None and eur.eur() == Decimal("1.20")


def test_without_a_base_price_and_withdrawn() -> None:
    for value in (..., None):
        assert parse_product(data(basePrice=value)).base_price is None
    assert parse_product(data(active=False)).active is False


@pytest.mark.parametrize(("vat", "expected"), [
    ("20", "20"), ("9", "9"), ("9.5", "9.5"), ("0", "0"), ("99.99", "99.99"),
    (20, "20"), (0, "0"),  # a JSON integer: both former readers took it
])
def test_vat_rates(vat: Any, expected: str) -> None:
    assert parse_product(data(vatRate=vat)).vat_rate == Decimal(expected)


@pytest.mark.parametrize("amount", ["0.00", "12", "12.5", "12.50", "12.500", "12.5000",
                                    "999999999999.99"])
def test_amounts_the_contract_and_both_former_readers_take(amount: str) -> None:
    price = parse_product(data(basePrice={"amount": amount, "currency": "EUR"})).base_price
    assert price is not None and price.amount == Decimal(amount)


def test_texts_are_stripped_and_a_version_may_be_a_bigint() -> None:
    product = parse_product(data(name="  Бира  ", unit=" кг ", version=MAX_VERSION,
                                 productGroup={"code": "BEV", "name": " Напитки\u00a0"}))
    assert (product.name, product.unit, product.group_name, product.version) == \
        ("Бира", "кг", "Напитки", MAX_VERSION)
    longest = parse_product(data(code="C" * 50, name="N" * 300, unit="U" * 20,
                                 productGroup={"code": "G" * 50, "name": "M" * 200}))
    assert (len(longest.code), len(longest.name), len(longest.group_code),
            len(longest.group_name), len(longest.unit)) == (50, 300, 50, 200, 20)


@pytest.mark.parametrize(("change", "field"), [
    ({"version": 0}, "version"),
    ({"version": -1}, "version"),
    ({"version": True}, "version"),
    ({"version": "3"}, "version"),
    ({"version": 3.0}, "version"),
    ({"version": None}, "version"),
    ({"version": MAX_VERSION + 1}, "version"),
    ({"version": ...}, "version"),
    ({"active": "true"}, "active"),
    ({"active": 1}, "active"),
    ({"active": ...}, "active"),
    ({"code": ""}, "code"),
    ({"code": " BEER"}, "code"),
    ({"code": "BEER\t"}, "code"),
    ({"code": 5}, "code"),
    ({"code": ["BEER"]}, "code"),
    ({"code": "A\x00B"}, "code"),
    ({"code": ...}, "code"),
    ({"name": "   "}, "name"),
    ({"name": "a\nb"}, "name"),
    ({"name": "a\x7fb"}, "name"),
    ({"name": "a\ud800b"}, "name"),  # a lone surrogate (JSON "\ud800"): no UTF-8 column holds it
    ({"name": None}, "name"),
    ({"unit": ...}, "unit"),
    ({"unit": ""}, "unit"),
    ({"productGroup": "BEV"}, "productGroup"),
    ({"productGroup": None}, "productGroup"),
    ({"productGroup": ["BEV", "Напитки"]}, "productGroup"),
    ({"productGroup": {"code": "BEV"}}, "productGroup.name"),
    ({"productGroup": {"name": "x"}}, "productGroup.code"),
    ({"productGroup": {"code": " BEV", "name": "x"}}, "productGroup.code"),
    ({"vatRate": "twenty"}, "vatRate"),
    ({"vatRate": "-5"}, "vatRate"),
    ({"vatRate": -5}, "vatRate"),
    ({"vatRate": True}, "vatRate"),
    ({"vatRate": None}, "vatRate"),
    ({"vatRate": ...}, "vatRate"),
    ({"vatRate": "20%"}, "vatRate"),
    ({"vatRate": "9.999"}, "vatRate"),
    ({"basePrice": "1.20"}, "basePrice"),
    ({"basePrice": ["1.20", "EUR"]}, "basePrice"),
    ({"basePrice": {"amount": "1.20"}}, "basePrice.currency"),
    ({"basePrice": {"amount": "1.20", "currency": "USD"}}, "basePrice.currency"),
    ({"basePrice": {"amount": "1.20", "currency": "eur"}}, "basePrice.currency"),
    ({"basePrice": {"amount": "1.20", "currency": ["EUR"]}}, "basePrice.currency"),
    ({"basePrice": {"currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "-1.20", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "NaN", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "Infinity", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1.23456", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1,20", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": ".50", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1.", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1_000.00", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1.20\n", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": None, "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": True, "currency": "EUR"}}, "basePrice.amount"),
])
def test_what_breaks_the_contract(change: dict[str, Any], field: str) -> None:
    assert reason(data(**change)).startswith(field)


# Where pricing's and analytics' former readers disagreed (one took what the other refused), the
# contract (ErpProduct in events/asyncapi.yaml) decides: each case below was taken by analytics'
# reader and refused by pricing's, except where noted; all are refused now.
@pytest.mark.parametrize(("change", "field"), [
    # maxLength 50 / 300 / 50 / 200 / 20 (analytics allowed 64 / 500 / 64 / 500 / 32)
    ({"code": "C" * 51}, "code"),
    ({"name": "N" * 301}, "name"),
    ({"productGroup": {"code": "G" * 51, "name": "x"}}, "productGroup.code"),
    ({"productGroup": {"code": "G", "name": "M" * 201}}, "productGroup.name"),
    ({"unit": "U" * 21}, "unit"),
    # the contract's code has no spaces around it and no control characters (analytics kept both)
    ({"code": "BEER "}, "code"),
    ({"name": "a\tb"}, "name"),
    # vatRate: a string '^[0-9]{1,2}(\.[0-9]{1,2})?$' (analytics read any decimal up to 100)
    ({"vatRate": "100"}, "vatRate"),
    ({"vatRate": 100}, "vatRate"),
    ({"vatRate": 20.5}, "vatRate"),
    ({"vatRate": "20.500"}, "vatRate"),
    ({"vatRate": " 20"}, "vatRate"),
    ({"vatRate": "2e1"}, "vatRate"),
    ({"vatRate": "\u0662\u0660"}, "vatRate"),  # Arabic-Indic digits: Decimal reads them
    # ErpAmount: a string '^[0-9]{1,12}\.[0-9]{2}$' (analytics read JSON numbers, exponents,
    # 16 integer digits, -0; pricing read up to four places, which analytics refused)
    ({"basePrice": {"amount": "1.234", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1.2345", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1.200000", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": 1.2, "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": 12, "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1e3", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "-0.00", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": " 1.20", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "9" * 13 + ".00", "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "\u0661.20", "currency": "EUR"}}, "basePrice.amount"),
])
def test_where_the_former_readers_disagreed_the_contract_decides(change: dict[str, Any],
                                                                field: str) -> None:
    assert reason(data(**change)).startswith(field)


def test_a_version_beyond_what_the_callers_table_keeps() -> None:
    # the contract sets no maximum; analytics keeps INTEGER versions and says so
    assert parse_product(data(version=2**31), max_version=MAX_VERSION).version == 2**31
    assert "2147483647" in reason(data(version=2**31), max_version=2**31 - 1)
    assert parse_product(data(version=2**31 - 1), max_version=2**31 - 1).version == 2**31 - 1


@pytest.mark.parametrize("payload", [None, [], "product", 7, ["code", "BEER-05"]])
def test_data_that_is_no_object(payload: Any) -> None:
    assert reason(payload).startswith("data")


@pytest.mark.parametrize(("change", "field"), [
    ({"vatRate": "9" * 1_000_000}, "vatRate"),
    ({"vatRate": list(range(1_000_000))}, "vatRate"),
    ({"vatRate": {str(n): n for n in range(100_000)}}, "vatRate"),
    ({"code": " " + "A" * 1_000_000}, "code"),
    ({"name": "N" * 1_000_000}, "name"),
    ({"version": 10**5000}, "version"),  # str() of it raises in Python 3.11
    ({"version": -(10**5000)}, "version"),
    ({"basePrice": {"amount": "1" * 1_000_000, "currency": "EUR"}}, "basePrice.amount"),
    ({"basePrice": {"amount": "1.20", "currency": "X" * 1_000_000}}, "basePrice.currency"),
    ({"productGroup": {"code": "G", "name": [[[[["deep"]]]]]}}, "productGroup.name"),
])
def test_huge_and_hostile_values_get_a_short_reason(change: dict[str, Any], field: str) -> None:
    text = reason(data(**change))
    assert text.startswith(field) and len(text) < 200, text


def test_a_contract_error_is_a_malformed_event() -> None:
    # pricing's consumer dead-letters a MalformedEvent; analytics parks a ContractError
    with pytest.raises(MalformedEvent):
        parse_product(data(code=""))
    assert issubclass(ContractError, ValueError)


def test_a_parsed_product_is_a_value() -> None:
    product = parse_product(data())
    assert product == parse_product(data()) and hash(product) == hash(parse_product(data()))
    with pytest.raises(AttributeError):
        product.code = "OTHER"  # type: ignore[misc]
