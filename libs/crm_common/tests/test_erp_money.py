"""What every ERP message shares, read by the kit (crm_common.erp.contract and .money): the
version, the currency, BGN to EUR at the fixed 1.95583, and reasons that quote a value briefly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_common.erp.contract import MAX_VERSION, ContractError, quote, read_version
from crm_common.erp.money import BGN_PER_EUR, read_currency, to_eur, to_eur_cents

D = Decimal


def test_the_fixed_rate() -> None:
    assert BGN_PER_EUR == D("1.95583")


@pytest.mark.parametrize(("amount", "currency", "eur"), [
    ("1.95583", "BGN", "1"),
    ("19558.30", "BGN", "10000"),
    ("10", "EUR", "10"),
    ("0.1234", "EUR", "0.1234"),
    ("10", "eur", "10"),   # stored currencies in any case (pricing's turnover history)
    ("1.95583", "bgn", "1"),
])
def test_to_eur_is_exact(amount: str, currency: str, eur: str) -> None:
    assert to_eur(D(amount), currency) == D(eur)


def test_to_eur_of_bgn_is_not_rounded_on_the_way() -> None:
    assert to_eur(D("1.00"), "BGN") == D(1) / D("1.95583")
    assert to_eur(D("1.00"), "BGN") != D("0.51")


@pytest.mark.parametrize(("amount", "currency", "eur"), [
    ("1.95583", "BGN", "1.00"),
    ("0.01", "BGN", "0.01"),       # 0.00511… rounds half-up to a cent
    ("19.56", "BGN", "10.00"),     # 10.0009…
    ("100.00", "BGN", "51.13"),    # 51.129…
    ("12.3", "EUR", "12.3"),       # two places or fewer: as it is
    ("12", "EUR", "12"),
    ("12.345", "EUR", "12.35"),    # half-up
    ("12.344", "EUR", "12.34"),
    ("12.345", "eur", "12.35"),
])
def test_to_eur_cents_rounds_half_up(amount: str, currency: str, eur: str) -> None:
    got = to_eur_cents(D(amount), currency)
    assert got == D(eur) and str(got) == eur


@pytest.mark.parametrize("currency", ["USD", "", "EURO", "BG N", "X" * 100_000])
def test_no_other_currency_has_a_fixed_rate(currency: str) -> None:
    for convert in (to_eur, to_eur_cents):
        with pytest.raises(ContractError) as caught:
            convert(D(1), currency)
        assert "no fixed rate" in str(caught.value) and len(str(caught.value)) < 120


def test_read_currency_takes_the_contract_spelling_only() -> None:
    assert read_currency("EUR") == "EUR" and read_currency("BGN") == "BGN"
    for raw in ("eur", "Bgn", " EUR", "USD", None, 978, ["EUR"], {"code": "EUR"}, True):
        with pytest.raises(ContractError) as caught:
            read_currency(raw, "basePrice.currency")
        assert str(caught.value).startswith("basePrice.currency ")
    with pytest.raises(ContractError, match="^currency 'USD' has no fixed rate"):
        read_currency("USD")


@pytest.mark.parametrize("raw", [1, 2, 2**31, MAX_VERSION])
def test_versions(raw: int) -> None:
    assert read_version(raw) == raw


@pytest.mark.parametrize("raw", [0, -1, True, False, "1", 1.0, None, [1], {"v": 1},
                                 MAX_VERSION + 1,
                                 pytest.param(10**5000, id="huge"),
                                 pytest.param(-(10**5000), id="huge-negative")])
def test_not_versions(raw: Any) -> None:
    with pytest.raises(ContractError) as caught:
        read_version(raw)
    assert str(caught.value).startswith("version ") and len(str(caught.value)) < 120


def test_a_version_above_the_callers_maximum() -> None:
    assert read_version(2**31 - 1, maximum=2**31 - 1) == 2**31 - 1
    with pytest.raises(ContractError, match="larger than 2147483647"):
        read_version(2**31, maximum=2**31 - 1)


@pytest.mark.parametrize(("raw", "expected"), [
    ("abc", "'abc'"),
    ("x" * 1000, repr("x" * 40)),
    (None, "None"),
    (12, "12"),
    (True, "True"),
    pytest.param(10**5000, "an integer of 16610 bits", id="huge"),
])
def test_quote(raw: Any, expected: str) -> None:
    assert quote(raw) == expected


def test_quote_is_short_for_huge_containers() -> None:
    for raw in (list(range(1_000_000)), {n: n for n in range(100_000)}, [[[[[[1]]]]]],
                b"\x00" * 1_000_000, Decimal("1" * 10_000)):
        assert len(quote(raw)) <= 50
