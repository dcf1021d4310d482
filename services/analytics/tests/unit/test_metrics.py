"""The analytics metrics: figures, change and share, trend, ABC, RFM, payment behaviour and
product groups."""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from crm_analytics.domain.metrics import (
    SEGMENTS,
    AbcClass,
    AbcResult,
    Change,
    Figures,
    InvoiceDue,
    PaymentBehaviour,
    Rfm,
    RfmInput,
    Trend,
    abc_classes,
    change,
    fm_score,
    groups_peers_buy,
    payment_behaviour,
    rfm_scores,
    rfm_segment,
    share,
    stopped_groups,
    trend,
    trend_strength,
)

D = Decimal
d = dt.date


def Ds(*values: int | str) -> list[Decimal]:
    return [D(v) for v in values]


# --------------------------------------------------------------------------------------------
# Figures


def test_figures_zero_and_defaults() -> None:
    zero = Figures.zero()
    assert zero == Figures()
    assert zero.turnover == 0 and zero.quantity == 0
    assert (zero.invoices, zero.credit_notes, zero.orders) == (0, 0, 0)
    assert isinstance(zero.invoiced_net, Decimal)


def test_figures_turnover_and_quantity_deduct_credit_notes() -> None:
    f = Figures(invoiced_net=D("1000.50"), credited_net=D("200.25"), invoiced_quantity=D("12"),
                credited_quantity=D("2.500"), invoices=3, credit_notes=1)
    assert f.turnover == D("800.25")
    assert f.quantity == D("9.500")


def test_figures_turnover_negative_after_credit_notes() -> None:
    f = Figures(invoiced_net=D("100.00"), credited_net=D("350.00"), invoiced_quantity=D(1),
                credited_quantity=D(4), credit_notes=2)
    assert f.turnover == D("-250.00")
    assert f.quantity == D(-3)


def test_figures_add_and_sum_of() -> None:
    a = Figures(D("10.00"), D("1.00"), D(2), D(0), D("20.00"), D(3), 1, 1, 2)
    b = Figures(D("5.50"), D("0.50"), D("1.5"), D("0.5"), D(0), D(0), 2, 1, 0)
    total = a + b
    assert total == Figures(D("15.50"), D("1.50"), D("3.5"), D("0.5"), D("20.00"), D(3), 3, 2, 2)
    assert total.turnover == D("14.00")
    assert Figures.sum_of([a, b]) == total
    assert Figures.sum_of(iter([a, b, Figures.zero()])) == total
    assert Figures.sum_of([]) == Figures.zero()
    assert Figures.sum_of([a]) == a
    assert a + Figures.zero() == a


def test_figures_add_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        Figures() + 1


def test_figures_sum_of_many() -> None:
    many = [Figures(invoiced_net=D("0.01"), invoices=1) for _ in range(10_000)]
    total = Figures.sum_of(many)
    assert total.invoiced_net == D("100.00") and total.invoices == 10_000


# --------------------------------------------------------------------------------------------
# Change and share


@pytest.mark.parametrize("current,previous,absolute,percent", [
    ("110", "100", "10", "10.0"),
    ("90", "100", "-10", "-10.0"),
    ("100", "100", "0", "0.0"),
    ("0", "100", "-100", "-100.0"),
    ("100", "0", "100", None),
    ("0", "0", "0", None),
    ("-50", "0", "-50", None),
    ("1", "3", "-2", "-66.7"),
    ("2", "3", "-1", "-33.3"),
    ("100.05", "100", "0.05", "0.1"),    # 0.05 % rounds half-up
    ("100.04", "100", "0.04", "0.0"),
    ("99.95", "100", "-0.05", "-0.1"),   # half-up is away from zero for negatives too
    ("-50", "-100", "50", "50.0"),       # previous negative: divided by |previous|
    ("-150", "-100", "-50", "-50.0"),
    ("50", "-100", "150", "150.0"),
    ("1000000", "1", "999999", "99999900.0"),
])
def test_change(current: str, previous: str, absolute: str, percent: str | None) -> None:
    result = change(D(current), D(previous))
    assert result == Change(D(absolute), None if percent is None else D(percent))
    if result.percent is not None:
        assert result.percent.as_tuple().exponent == -1


@pytest.mark.parametrize("part,total,expected", [
    ("25", "100", "25.00"),
    ("1", "3", "33.33"),
    ("2", "3", "66.67"),
    ("100", "100", "100.00"),
    ("0", "100", "0.00"),
    ("-10", "100", "-10.00"),
    ("150", "100", "150.00"),
    ("1", "8", "12.50"),
    ("1", "80000", "0.00"),
    ("1", "40000", "0.00"),   # 0.0025 → 0.00
    ("3", "40000", "0.01"),   # 0.0075 → 0.01
    ("1", "0", None),
    ("0", "0", None),
    ("5", "-10", None),
])
def test_share(part: str, total: str, expected: str | None) -> None:
    assert share(D(part), D(total)) == (None if expected is None else D(expected))


def test_share_rounds_half_up() -> None:
    assert share(D("0.125"), D(1)) == D("12.50")
    assert share(D("1"), D("200000")) == D("0.00")  # 0.0005
    assert share(D("1"), D("20000")) == D("0.01")   # 0.005 → half-up


# --------------------------------------------------------------------------------------------
# Trend


def linear(a: int, b: int, n: int = 12) -> list[Decimal]:
    return [D(a + b * i) for i in range(n)]


def test_trend_values() -> None:
    assert [t.value for t in Trend] == ["growing", "stable", "declining", "not_enough_data"]


def test_trend_of_a_constant_series_is_stable() -> None:
    monthly = [D("1000.00")] * 12
    assert trend_strength(monthly) == D("0.000")
    assert trend(monthly) is Trend.STABLE


def test_trend_strength_is_slope_times_12_over_mean() -> None:
    # 100, 110, …, 210: slope 10, mean 155 → 120 / 155 = 0.7741…
    monthly = linear(100, 10)
    assert trend_strength(monthly) == D("0.774")
    assert trend(monthly) is Trend.GROWING
    assert trend_strength(list(reversed(monthly))) == D("-0.774")
    assert trend(list(reversed(monthly))) is Trend.DECLINING


def test_trend_at_exactly_the_threshold_is_stable() -> None:
    # 229, 231, …, 251: slope 2, mean 240 → 24 / 240 = 0.1 exactly
    up = linear(229, 2)
    assert trend_strength(up) == D("0.100")
    assert trend(up) is Trend.STABLE
    down = linear(251, -2)
    assert trend_strength(down) == D("-0.100")
    assert trend(down) is Trend.STABLE
    # beyond it on either side
    assert trend(linear(200, 2)) is Trend.GROWING     # 24 / 211 = 0.114
    assert trend(linear(245, -2)) is Trend.DECLINING  # −24 / 234 = −0.103
    assert trend(linear(280, -2)) is Trend.STABLE     # −24 / 269 = −0.089


def test_trend_compares_the_rounded_strength() -> None:
    # 24 / 239.5 = 0.10021 → shown as 0.100, which is not above 0.10: stable
    monthly = [D(v) / 2 for v in linear(457, 4)]   # 228.5, 230.5, … : slope 2, mean 239.5
    assert trend_strength(monthly) == D("0.100")
    assert trend(monthly) is Trend.STABLE
    # 24 / 238 = 0.10084 → 0.101: growing
    assert trend_strength(linear(227, 2)) == D("0.101")
    assert trend(linear(227, 2)) is Trend.GROWING


def test_trend_threshold_is_a_parameter() -> None:
    monthly = linear(200, 2)   # 0.114
    assert trend(monthly) is Trend.GROWING
    assert trend(monthly, threshold=D("0.2")) is Trend.STABLE
    assert trend(monthly, threshold=D(0)) is Trend.GROWING
    assert trend([D(5)] * 6, threshold=D(0)) is Trend.STABLE
    with pytest.raises(ValueError, match="threshold"):
        trend(monthly, threshold=D("-0.1"))


@pytest.mark.parametrize("monthly", [
    [],
    [D(100)],
    Ds(100, 200, 300, 400, 500),          # 5 months < 6
    [D(0)] * 12,                          # mean 0
    Ds(100, -300, 50, 50, 50, 0),         # mean < 0 after credit notes
    Ds(-10, -20, -30, -40, -50, -60),
])
def test_trend_not_enough_data(monthly: list[Decimal]) -> None:
    assert trend(monthly) is Trend.NOT_ENOUGH_DATA
    assert trend_strength(monthly) is None


def test_trend_min_months() -> None:
    monthly = Ds(100, 120, 140)
    assert trend(monthly) is Trend.NOT_ENOUGH_DATA
    assert trend(monthly, min_months=3) is Trend.GROWING
    assert trend_strength(monthly, min_months=3) == D("2.000")  # slope 20 × 12 / 120
    assert trend(Ds(100, 120), min_months=2) is Trend.GROWING
    with pytest.raises(ValueError, match="at least 2"):
        trend(monthly, min_months=1)
    with pytest.raises(ValueError, match="at least 2"):
        trend_strength(monthly, min_months=0)


def test_trend_of_six_months_is_enough() -> None:
    assert trend(Ds(100, 100, 100, 100, 100, 100)) is Trend.STABLE
    assert trend(Ds(100, 110, 120, 130, 140, 150)) is Trend.GROWING


def test_trend_with_a_negative_month_after_credit_notes() -> None:
    # a big credit note in the last month: mean still positive, clearly declining
    monthly = Ds(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, -2000)
    assert trend(monthly) is Trend.DECLINING
    strength = trend_strength(monthly)
    assert strength is not None and strength < D("-0.1")


def test_trend_of_a_seasonal_but_flat_series_is_stable() -> None:
    # a summer peak, the year symmetric about its middle: the line is flat
    monthly = Ds(100, 120, 150, 180, 150, 120, 120, 150, 180, 150, 120, 100)
    assert trend_strength(monthly) == D("0.000")
    assert trend(monthly) is Trend.STABLE


def test_trend_of_compounded_growth_and_decline() -> None:
    growing = [D(1000) * D("1.03") ** i for i in range(12)]
    declining = [D(1000) * D("0.95") ** i for i in range(12)]
    assert trend(growing) is Trend.GROWING
    assert trend(declining) is Trend.DECLINING


def test_trend_accepts_a_tuple_and_more_than_12_months() -> None:
    assert trend(tuple(linear(100, 10, n=24))) is Trend.GROWING


# --------------------------------------------------------------------------------------------
# ABC


def test_abc_classic_example() -> None:
    result = abc_classes({"a": D(50), "b": D(30), "c": D(10), "d": D(6), "e": D(4)})
    assert result == {
        "a": AbcResult(AbcClass.A, D("50.00"), D("50.00"), 1),
        "b": AbcResult(AbcClass.A, D("30.00"), D("80.00"), 2),   # 50 before it: < 80
        "c": AbcResult(AbcClass.B, D("10.00"), D("90.00"), 3),   # 80 before it: not < 80
        "d": AbcResult(AbcClass.B, D("6.00"), D("96.00"), 4),    # 90 before it: < 95
        "e": AbcResult(AbcClass.C, D("4.00"), D("100.00"), 5),   # 96 before it
    }


def test_abc_the_client_crossing_80_is_still_a() -> None:
    result = abc_classes({"a": D(70), "b": D(20), "c": D(10)})
    assert [result[k].abc_class for k in "abc"] == [AbcClass.A, AbcClass.A, AbcClass.B]
    assert result["b"].cumulative_share == D("90.00")


def test_abc_empty() -> None:
    assert abc_classes({}) == {}


def test_abc_one_client() -> None:
    assert abc_classes({7: D("123.45")}) == {7: AbcResult(AbcClass.A, D("100.00"),
                                                          D("100.00"), 1)}


def test_abc_zero_and_negative_turnover_are_c() -> None:
    result = abc_classes({"a": D(100), "zero": D(0), "neg": D("-40.00"), "b": D(100)})
    assert result["a"] == AbcResult(AbcClass.A, D("50.00"), D("50.00"), 1)
    assert result["b"] == AbcResult(AbcClass.A, D("50.00"), D("100.00"), 2)
    assert result["zero"] == AbcResult(AbcClass.C, D("0.00"), D("100.00"), 3)
    assert result["neg"] == AbcResult(AbcClass.C, D("0.00"), D("100.00"), 4)


def test_abc_only_non_positive_clients() -> None:
    result = abc_classes({"x": D(0), "y": D(-5)})
    assert result == {"x": AbcResult(AbcClass.C, D("0.00"), D("0.00"), 1),
                      "y": AbcResult(AbcClass.C, D("0.00"), D("0.00"), 2)}


def test_abc_ties_are_ordered_by_key_text() -> None:
    turnover = {"c": D(10), "a": D(10), "b": D(10), "10": D(10), "9": D(10)}
    result = abc_classes(turnover)
    assert [k for k, _ in sorted(result.items(), key=lambda kv: kv[1].rank)] == [
        "10", "9", "a", "b", "c"]
    # the same whatever the input order
    assert abc_classes(dict(reversed(list(turnover.items())))) == result
    # five equal clients: 0, 20, 40, 60 before → A; 80 before → B
    assert [result[k].abc_class for k in ["10", "9", "a", "b", "c"]] == [
        AbcClass.A, AbcClass.A, AbcClass.A, AbcClass.A, AbcClass.B]


def test_abc_ties_with_integer_keys_use_their_text() -> None:
    result = abc_classes({2: D(5), 10: D(5)})
    assert result[10].rank == 1 and result[2].rank == 2   # "10" < "2"


def test_abc_cutoffs_are_parameters() -> None:
    turnover = {"a": D(50), "b": D(30), "c": D(10), "d": D(6), "e": D(4)}
    result = abc_classes(turnover, a_cutoff=D(50), b_cutoff=D(100))
    assert [result[k].abc_class for k in "abcde"] == [
        AbcClass.A, AbcClass.B, AbcClass.B, AbcClass.B, AbcClass.B]
    result = abc_classes(turnover, a_cutoff=D("0.01"), b_cutoff=D("0.02"))
    assert [result[k].abc_class for k in "abcde"] == [
        AbcClass.A, AbcClass.C, AbcClass.C, AbcClass.C, AbcClass.C]


@pytest.mark.parametrize("a,b", [
    (D(0), D(95)), (D(-1), D(95)), (D(80), D(80)), (D(90), D(80)), (D(80), D("100.01")),
    (D(100), D(100)),
])
def test_abc_refuses_bad_cutoffs(a: Decimal, b: Decimal) -> None:
    with pytest.raises(ValueError, match="0 < a_cutoff < b_cutoff <= 100") as caught:
        abc_classes({"x": D(1)}, a_cutoff=a, b_cutoff=b)
    assert str(a) in str(caught.value) and str(b) in str(caught.value)


def test_abc_decides_on_exact_amounts_not_rounded_shares() -> None:
    # before the third client: 79.996 % (shown 80.00): still < 80 → A
    result = abc_classes({"a": D("79.996"), "b": D("0"), "c": D("20.004")})
    assert result["c"].abc_class is AbcClass.A
    result = abc_classes({"a": D("79996"), "c": D("20004")})
    assert result["a"].cumulative_share == D("80.00")
    assert result["c"].abc_class is AbcClass.A


def test_abc_ten_thousand_clients() -> None:
    rng = random.Random(20260301)
    turnover = {f"client-{i:05d}": D(rng.randint(-500, 1_000_000)) / 100 for i in range(10_000)}
    for i in range(0, 10_000, 97):          # some ties
        turnover[f"client-{i:05d}"] = D("1234.56")
    result = abc_classes(turnover)
    assert len(result) == 10_000
    ranked = sorted(result.items(), key=lambda kv: kv[1].rank)
    assert [r.rank for _, r in ranked] == list(range(1, 10_001))
    values = [turnover[k] for k, _ in ranked]
    assert values == sorted(values, reverse=True)
    for (k1, _), (k2, _) in zip(ranked, ranked[1:], strict=False):
        if turnover[k1] == turnover[k2]:
            assert k1 < k2
    # classes never go back: A…A B…B C…C
    classes = [r.abc_class for _, r in ranked]
    assert classes == sorted(classes, key=lambda c: c.value)
    # the classes follow the definition on exact amounts
    total = sum((v for v in turnover.values() if v > 0), D(0))
    before = D(0)
    for key, r in ranked:
        value = turnover[key]
        if value <= 0:
            assert r.abc_class is AbcClass.C and r.share == 0
            continue
        pct = before / total * 100
        expected = AbcClass.A if pct < 80 else AbcClass.B if pct < 95 else AbcClass.C
        assert r.abc_class is expected, key
        before += value
    positive = [r for k, r in ranked if turnover[k] > 0]
    assert positive[-1].cumulative_share == D("100.00")
    assert abs(sum((r.share for r in positive), D(0)) - 100) < D("0.01") * len(positive)


# --------------------------------------------------------------------------------------------
# RFM: the segment grid


EXPECTED_GRID = {
    # R: FM 1 … 5
    5: ["New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"],
    4: ["Promising", "Potential loyalists", "Potential loyalists", "Loyal customers",
        "Champions"],
    3: ["About to sleep", "Needs attention", "Needs attention", "Loyal customers",
        "Loyal customers"],
    2: ["Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"],
    1: ["Lost", "Lost", "At risk", "At risk", "Can't lose them"],
}


@pytest.mark.parametrize("r,fm", [(r, fm) for r in range(1, 6) for fm in range(1, 6)])
def test_rfm_segment_grid_all_25(r: int, fm: int) -> None:
    assert rfm_segment(r, fm) == EXPECTED_GRID[r][fm - 1]


def test_rfm_segment_grid_uses_every_segment() -> None:
    used = {rfm_segment(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert used == set(SEGMENTS)
    assert len(SEGMENTS) == 11


@pytest.mark.parametrize("r,fm", [(0, 3), (6, 3), (3, 0), (3, 6)])
def test_rfm_segment_refuses_scores_out_of_range(r: int, fm: int) -> None:
    with pytest.raises(ValueError, match="1-5"):
        rfm_segment(r, fm)


@pytest.mark.parametrize("f,m,fm", [
    (1, 1, 1), (1, 2, 2), (2, 1, 2), (2, 3, 3), (3, 4, 4), (4, 5, 5), (5, 5, 5), (1, 5, 3),
    (5, 1, 3), (2, 2, 2), (4, 3, 4),
])
def test_fm_score_rounds_half_up(f: int, m: int, fm: int) -> None:
    assert fm_score(f, m) == fm


# --------------------------------------------------------------------------------------------
# RFM: scores


TODAY = d(2026, 3, 31)


def inp(days_ago: int | None, invoices: int, turnover: int | str) -> RfmInput:
    last = None if days_ago is None else TODAY - dt.timedelta(days=days_ago)
    return RfmInput(last, invoices, D(turnover))


def test_rfm_empty() -> None:
    assert rfm_scores({}, TODAY) == {}


def test_rfm_one_client_scores_555() -> None:
    assert rfm_scores({"x": inp(40, 3, 900)}, TODAY) == {
        "x": Rfm(5, 5, 5, "555", "Champions", 40)}


def test_rfm_unscored_clients() -> None:
    result = rfm_scores({
        "never": inp(None, 0, 0),
        "never-but-turnover": inp(None, 0, 100),     # no invoice at all
        "dormant": inp(500, 0, 0),                    # nothing in the window
        "dormant-credited": inp(500, 0, "-20.00"),    # only a credit note in the window
        "fully-credited": inp(20, 2, 0),              # invoices in the window: scored
        "active": inp(5, 4, 1000),
    }, TODAY)
    assert result["never"] is None
    assert result["never-but-turnover"] is None
    assert result["dormant"] is None
    assert result["dormant-credited"] is None
    assert result["fully-credited"] is not None
    assert result["active"] is not None
    # the two scored clients are ranked among themselves only
    assert result["active"] == Rfm(5, 5, 5, "555", "Champions", 5)
    assert result["fully-credited"] == Rfm(3, 3, 3, "333", "Needs attention", 20)


def test_rfm_only_unscored_clients() -> None:
    assert rfm_scores({"a": inp(None, 0, 0), "b": inp(400, 0, 0)}, TODAY) == {
        "a": None, "b": None}


def test_rfm_keeps_every_key_in_input_order() -> None:
    inputs = {k: inp(i, i, i * 10) for i, k in enumerate(["q", "a", "m"], start=1)}
    assert list(rfm_scores(inputs, TODAY)) == ["q", "a", "m"]


def test_rfm_five_clients_one_per_quintile() -> None:
    inputs = {
        "a": inp(1, 50, 5000),
        "b": inp(10, 40, 4000),
        "c": inp(20, 30, 3000),
        "d": inp(30, 20, 2000),
        "e": inp(40, 10, 1000),
    }
    result = rfm_scores(inputs, TODAY)
    assert {k: r.score for k, r in result.items() if r} == {
        "a": "555", "b": "444", "c": "333", "d": "222", "e": "111"}
    assert {k: r.segment for k, r in result.items() if r} == {
        "a": "Champions", "b": "Loyal customers", "c": "Needs attention", "d": "Hibernating",
        "e": "Lost"}


def test_rfm_ten_clients_two_per_quintile() -> None:
    inputs = {f"c{i}": inp(i, 100 - i, 1000 - i) for i in range(10)}
    result = rfm_scores(inputs, TODAY)
    expected = [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    for i in range(10):
        r = result[f"c{i}"]
        assert r is not None
        assert (r.recency, r.frequency, r.monetary) == (expected[i],) * 3
        assert r.days_since_last_invoice == i


@pytest.mark.parametrize("n,expected", [
    (1, [5]),
    (2, [5, 3]),
    (3, [5, 4, 2]),
    (4, [5, 4, 3, 2]),
    (5, [5, 4, 3, 2, 1]),
    (6, [5, 5, 4, 3, 2, 1]),
    (7, [5, 5, 4, 3, 3, 2, 1]),
])
def test_rfm_fewer_clients_map_proportionally(n: int, expected: list[int]) -> None:
    inputs = {f"c{i}": inp(i, n - i, (n - i) * 100) for i in range(n)}
    result = rfm_scores(inputs, TODAY)
    assert [result[f"c{i}"].recency for i in range(n)] == expected
    assert [result[f"c{i}"].frequency for i in range(n)] == expected
    assert [result[f"c{i}"].monetary for i in range(n)] == expected


def test_rfm_ties_share_the_rank_of_the_first() -> None:
    # frequencies 9, 5, 5, 5, 1: ranks 1, 2, 2, 2, 5 → 5, 4, 4, 4, 1
    inputs = {
        "a": inp(1, 9, 100), "b": inp(2, 5, 100), "c": inp(3, 5, 100), "d": inp(4, 5, 100),
        "e": inp(5, 1, 100),
    }
    result = rfm_scores(inputs, TODAY)
    assert [result[k].frequency for k in "abcde"] == [5, 4, 4, 4, 1]
    # all monetary values equal: every client shares rank 1
    assert [result[k].monetary for k in "abcde"] == [5, 5, 5, 5, 5]
    assert [result[k].recency for k in "abcde"] == [5, 4, 3, 2, 1]


def test_rfm_recency_ties_and_same_day() -> None:
    inputs = {"a": inp(0, 1, 10), "b": inp(0, 1, 10), "c": inp(7, 1, 10), "d": inp(30, 1, 10)}
    result = rfm_scores(inputs, TODAY)
    # days 0, 0, 7, 30 of 4 clients: ranks 1, 1, 3, 4 → 5, 5, 3, 2
    assert [result[k].recency for k in "abcd"] == [5, 5, 3, 2]
    assert result["a"].days_since_last_invoice == 0


def test_rfm_last_invoice_after_today_counts_as_today() -> None:
    result = rfm_scores({"x": RfmInput(TODAY + dt.timedelta(days=3), 1, D(10))}, TODAY)
    assert result["x"] is not None and result["x"].days_since_last_invoice == 0


def test_rfm_negative_turnover_after_credit_notes_scores_lowest_monetary() -> None:
    inputs = {"a": inp(1, 3, 500), "b": inp(1, 3, "-120.00"), "c": inp(1, 3, 0),
              "d": inp(1, 3, 200), "e": inp(1, 3, 300)}
    result = rfm_scores(inputs, TODAY)
    assert [result[k].monetary for k in "aedcb"] == [5, 4, 3, 2, 1]


def test_rfm_segments_follow_r_and_fm() -> None:
    inputs = {
        # best frequency and money, but long ago → can't lose them
        "big-gone": inp(300, 60, 90_000),
        "fresh-small": inp(1, 1, 50),
        "mid": inp(60, 10, 2000),
        "a": inp(10, 20, 5000),
        "b": inp(100, 2, 100),
    }
    result = rfm_scores(inputs, TODAY)
    big = result["big-gone"]
    assert big is not None and (big.recency, big.frequency, big.monetary) == (1, 5, 5)
    assert big.segment == "Can't lose them" and big.score == "155"
    fresh = result["fresh-small"]
    assert fresh is not None and fresh.score == "511" and fresh.segment == "New customers"


def test_rfm_ten_thousand_clients() -> None:
    rng = random.Random(7)
    inputs: dict[int, RfmInput] = {}
    for i in range(10_000):
        if i % 50 == 0:
            inputs[i] = RfmInput(None, 0, D(0))
        else:
            inputs[i] = inp(rng.randint(0, 365), rng.randint(1, 120),
                            str(D(rng.randint(-1000, 5_000_000)) / 100))
    result = rfm_scores(inputs, TODAY)
    assert len(result) == 10_000
    scored = {k: r for k, r in result.items() if r is not None}
    assert len(scored) == 9_800
    assert all(result[k] is None for k in range(0, 10_000, 50))
    for key, r in scored.items():
        assert 1 <= r.recency <= 5 and 1 <= r.frequency <= 5 and 1 <= r.monetary <= 5
        assert r.score == f"{r.recency}{r.frequency}{r.monetary}"
        assert r.segment == rfm_segment(r.recency, fm_score(r.frequency, r.monetary))
        assert r.days_since_last_invoice == (TODAY - inputs[key].last_invoice).days
    # scores are monotone in the values, equal values score the same
    by_days = sorted(scored, key=lambda k: scored[k].days_since_last_invoice)
    for a, b in zip(by_days, by_days[1:], strict=False):
        assert scored[a].recency >= scored[b].recency
        if scored[a].days_since_last_invoice == scored[b].days_since_last_invoice:
            assert scored[a].recency == scored[b].recency
    by_money = sorted(scored, key=lambda k: inputs[k].turnover, reverse=True)
    for a, b in zip(by_money, by_money[1:], strict=False):
        assert scored[a].monetary >= scored[b].monetary
    # distinct amounts almost everywhere: about a fifth in each monetary score
    counts = [sum(1 for r in scored.values() if r.monetary == s) for s in range(1, 6)]
    assert all(1900 <= c <= 2020 for c in counts), counts
    assert {r.segment for r in scored.values()} == set(SEGMENTS)


# --------------------------------------------------------------------------------------------
# Payment behaviour


P_TODAY = d(2026, 3, 31)


def invoice(due: dt.date, amount: str, *payments: tuple[dt.date, str],
            issued: dt.date | None = None, doc: str = "INV") -> InvoiceDue:
    return InvoiceDue(doc, issued or due - dt.timedelta(days=30), due, D(amount),
                      [(day, D(value)) for day, value in payments])


def test_payment_behaviour_of_nothing() -> None:
    assert payment_behaviour([], P_TODAY) == PaymentBehaviour(0, 0, D("0.0"), 0, D("0.00"), 0)
    result = payment_behaviour([], P_TODAY)
    assert result.average_days_late.as_tuple().exponent == -1
    assert result.overdue_amount.as_tuple().exponent == -2


def test_payment_behaviour_on_time_late_and_unpaid() -> None:
    invoices = [
        invoice(d(2026, 1, 15), "100.00", (d(2026, 1, 10), "100.00")),               # on time
        invoice(d(2026, 1, 15), "100.00", (d(2026, 1, 15), "100.00")),               # on the day
        invoice(d(2026, 2, 1), "200.00", (d(2026, 2, 11), "200.00")),                # 10 late
        invoice(d(2026, 3, 1), "300.00"),                                            # 30, unpaid
        invoice(d(2026, 3, 21), "50.00", (d(2026, 3, 1), "20.00")),                  # 10, part
    ]
    assert payment_behaviour(invoices, P_TODAY) == PaymentBehaviour(
        invoices_due=5, paid_within_term=2, average_days_late=D("10.0"), max_days_late=30,
        overdue_amount=D("330.00"), overdue_invoices=2)


def test_payment_settles_when_cumulative_payments_reach_the_amount() -> None:
    inv = invoice(d(2026, 2, 1), "200.00",
                  (d(2026, 2, 20), "100.00"),   # given out of order on purpose
                  (d(2026, 1, 25), "100.00"),
                  (d(2026, 2, 5), "99.96"))      # 199.96 ≥ 200 − 0.05: settled 2026-02-05
    result = payment_behaviour([inv], P_TODAY)
    assert (result.max_days_late, result.paid_within_term) == (4, 0)
    assert result.overdue_amount == D("0.00")   # overpaid in the end


def test_payment_tolerance() -> None:
    short = invoice(d(2026, 2, 1), "100.00", (d(2026, 1, 30), "99.95"))
    result = payment_behaviour([short], P_TODAY)
    assert result.paid_within_term == 1 and result.max_days_late == 0
    # 0.05 left: counts in the overdue amount, but not as an overdue invoice
    assert result.overdue_amount == D("0.05") and result.overdue_invoices == 0
    shorter = invoice(d(2026, 2, 1), "100.00", (d(2026, 1, 30), "99.94"))
    result = payment_behaviour([shorter], P_TODAY)
    assert result.paid_within_term == 0 and result.max_days_late == 58
    assert result.overdue_amount == D("0.06") and result.overdue_invoices == 1
    # a tolerance of 0 asks for every cent
    result = payment_behaviour([short], P_TODAY, tolerance=D(0))
    assert result.paid_within_term == 0 and result.overdue_invoices == 1


def test_payment_small_or_credited_invoices_are_not_due() -> None:
    invoices = [
        invoice(d(2026, 2, 1), "0.05"),     # not more than the tolerance
        invoice(d(2026, 2, 1), "0.00"),     # fully credited
        invoice(d(2026, 2, 1), "-10.00"),   # credited beyond the invoice
    ]
    result = payment_behaviour(invoices, P_TODAY)
    assert result == PaymentBehaviour(0, 0, D("0.0"), 0, D("0.05"), 0)


def test_payment_window_bounds() -> None:
    today = d(2026, 3, 31)   # the window: after 2025-03-31 up to 2026-03-31
    invoices = [
        invoice(d(2025, 3, 31), "10.00", doc="edge-out"),          # not after the start
        invoice(d(2025, 4, 1), "10.00", doc="edge-in"),
        invoice(today, "10.00", doc="due-today"),                   # due, 0 days late
        invoice(today + dt.timedelta(days=1), "10.00", doc="later"),  # not yet due
    ]
    result = payment_behaviour(invoices, today)
    assert result.invoices_due == 2
    assert result.max_days_late == (today - d(2025, 4, 1)).days
    assert result.average_days_late == D((today - d(2025, 4, 1)).days) / 2
    # overdue: due before today, whenever: the two 2025 invoices, not today's nor tomorrow's
    assert result.overdue_amount == D("20.00") and result.overdue_invoices == 2


def test_payment_window_clamps_at_month_end() -> None:
    # 2026-02-28 minus 12 months is 2025-02-28; minus one month of 2026-03-31 is 2026-02-28
    assert payment_behaviour([invoice(d(2025, 2, 28), "10.00")], d(2026, 2, 28)).invoices_due == 0
    assert payment_behaviour([invoice(d(2025, 3, 1), "10.00")], d(2026, 2, 28)).invoices_due == 1
    one_month = [invoice(d(2026, 2, 28), "10.00"), invoice(d(2026, 3, 1), "10.00")]
    assert payment_behaviour(one_month, d(2026, 3, 31), window_months=1).invoices_due == 1
    # 2025-02-28 minus 12 months is 2024-02-28: 29 February 2024 is inside
    leap = [invoice(d(2024, 2, 28), "10.00"), invoice(d(2024, 2, 29), "10.00")]
    assert payment_behaviour(leap, d(2025, 2, 28)).invoices_due == 1
    # 2024-02-29 minus 12 months is 2023-02-28
    before = [invoice(d(2023, 2, 28), "10.00"), invoice(d(2023, 3, 1), "10.00")]
    assert payment_behaviour(before, d(2024, 2, 29)).invoices_due == 1


def test_payment_payments_after_today_are_ignored() -> None:
    inv = invoice(d(2026, 3, 1), "100.00", (d(2026, 3, 10), "40.00"), (d(2026, 4, 2), "60.00"))
    result = payment_behaviour([inv], P_TODAY)
    assert result.max_days_late == 30 and result.paid_within_term == 0
    assert result.overdue_amount == D("60.00") and result.overdue_invoices == 1
    later = payment_behaviour([inv], d(2026, 4, 5))
    assert later.max_days_late == 32 and later.overdue_amount == D("0.00")


def test_payment_early_payment_is_zero_days_late() -> None:
    inv = invoice(d(2026, 3, 1), "100.00", (d(2026, 1, 1), "100.00"))
    result = payment_behaviour([inv], P_TODAY)
    assert (result.paid_within_term, result.max_days_late) == (1, 0)
    assert result.average_days_late == D("0.0")


def test_payment_overdue_counts_invoices_outside_the_window() -> None:
    old = invoice(d(2023, 6, 30), "1234.56", (d(2023, 7, 1), "234.56"))
    result = payment_behaviour([old], P_TODAY)
    assert result.invoices_due == 0 and result.max_days_late == 0
    assert result.overdue_amount == D("1000.00") and result.overdue_invoices == 1


def test_payment_average_rounds_half_up() -> None:
    invoices = [invoice(d(2026, 3, 30), "1.00"), invoice(d(2026, 3, 31), "1.00"),
                invoice(d(2026, 3, 31), "1.00"), invoice(d(2026, 3, 31), "1.00")]
    # days late 1, 0, 0, 0: 0.25 → 0.3
    assert payment_behaviour(invoices, P_TODAY).average_days_late == D("0.3")
    invoices = [invoice(d(2026, 3, 29), "1.00"), invoice(d(2026, 3, 31), "1.00"),
                invoice(d(2026, 3, 31), "1.00")]
    # 2, 0, 0: 0.666… → 0.7
    assert payment_behaviour(invoices, P_TODAY).average_days_late == D("0.7")


def test_payment_overdue_amount_rounds_to_cents() -> None:
    inv = invoice(d(2026, 1, 1), "10.005")
    assert payment_behaviour([inv], P_TODAY).overdue_amount == D("10.01")


def test_payment_settled_then_refunded_stays_settled_on_its_day() -> None:
    inv = invoice(d(2026, 2, 1), "100.00", (d(2026, 1, 20), "100.00"),
                  (d(2026, 2, 10), "-30.00"))
    result = payment_behaviour([inv], P_TODAY)
    assert result.paid_within_term == 1 and result.max_days_late == 0
    assert result.overdue_amount == D("30.00") and result.overdue_invoices == 1


@pytest.mark.parametrize("kwargs,match", [
    ({"window_months": 0}, "at least 1 month"),
    ({"tolerance": D("-0.01")}, "tolerance"),
])
def test_payment_refuses_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        payment_behaviour([], P_TODAY, **kwargs)


def test_payment_many_invoices() -> None:
    invoices = [invoice(d(2026, 1, 1) + dt.timedelta(days=i % 60), "10.00",
                        (d(2026, 1, 1) + dt.timedelta(days=i % 60 + i % 7), "10.00"))
                for i in range(10_000)]
    result = payment_behaviour(invoices, P_TODAY)
    assert result.invoices_due == 10_000
    assert result.paid_within_term == sum(1 for i in range(10_000) if i % 7 == 0)
    assert result.max_days_late == 6
    mean = D(sum(i % 7 for i in range(10_000))) / 10_000
    assert result.average_days_late == mean.quantize(D("0.1"), rounding=ROUND_HALF_UP)
    assert result.overdue_amount == D("0.00")


# --------------------------------------------------------------------------------------------
# Product groups


def months_of(*pairs: tuple[dt.date, str]) -> dict[dt.date, Decimal]:
    return {day: D(v) for day, v in pairs}


CURRENT = d(2026, 3, 1)   # last 3: Jan–Mar 2026; the 6 before: Jul–Dec 2025


def test_stopped_groups() -> None:
    by_group = {
        "STOPPED": months_of((d(2025, 9, 1), "100")),
        "STILL": months_of((d(2025, 9, 1), "100"), (d(2026, 2, 1), "5")),
        "NEW": months_of((d(2026, 3, 1), "100")),
        "TOO-OLD": months_of((d(2025, 6, 1), "100")),                     # before the 6 months
        "EDGE-EARLY": months_of((d(2025, 7, 1), "1")),                     # first of the 6
        "EDGE-LATE": months_of((d(2025, 12, 1), "1"), (d(2026, 1, 1), "0")),
        "CREDITED": months_of((d(2025, 10, 1), "50"), (d(2026, 1, 1), "-50")),
        "ONLY-CREDIT": months_of((d(2025, 10, 1), "-50")),
        "EMPTY": {},
        "AFTER": months_of((d(2025, 8, 1), "10"), (d(2026, 4, 1), "10")),  # after current
    }
    assert stopped_groups(by_group, CURRENT) == [
        "AFTER", "CREDITED", "EDGE-EARLY", "EDGE-LATE", "STOPPED"]


def test_stopped_groups_any_day_of_the_current_month() -> None:
    by_group = {"G": months_of((d(2025, 12, 1), "10"))}
    assert stopped_groups(by_group, d(2026, 3, 31)) == ["G"]
    assert stopped_groups(by_group, d(2026, 4, 15)) == ["G"]  # December still among the 6
    assert stopped_groups(by_group, d(2026, 2, 15)) == []   # December is then among the last 3
    assert stopped_groups(by_group, d(2026, 9, 1)) == []    # December is then too long ago


def test_stopped_groups_month_keys_on_any_day_add_up() -> None:
    by_group = {"G": months_of((d(2025, 11, 1), "10"), (d(2026, 2, 3), "30"),
                               (d(2026, 2, 20), "-30"))}
    assert stopped_groups(by_group, CURRENT) == ["G"]
    by_group = {"G": months_of((d(2025, 11, 1), "10"), (d(2026, 2, 3), "30"),
                               (d(2026, 2, 20), "-20"))}
    assert stopped_groups(by_group, CURRENT) == []


def test_stopped_groups_empty_and_sorted() -> None:
    assert stopped_groups({}, CURRENT) == []
    groups = {code: months_of((d(2025, 8, 1), "1")) for code in ["Z1", "A9", "M5"]}
    assert stopped_groups(groups, CURRENT) == ["A9", "M5", "Z1"]


def test_groups_peers_buy() -> None:
    peers = {"BEER": 8, "WATER": 5, "WINE": 4, "SNACKS": 10, "COFFEE": 5}
    assert groups_peers_buy({"SNACKS"}, peers, 10) == [
        ("BEER", D("0.80")), ("COFFEE", D("0.50")), ("WATER", D("0.50"))]


def test_groups_peers_buy_edges() -> None:
    assert groups_peers_buy(set(), {"A": 0}, 0) == []
    assert groups_peers_buy(set(), {}, 0) == []
    assert groups_peers_buy(set(), {}, 10) == []
    assert groups_peers_buy({"A"}, {"A": 3}, 3) == []
    assert groups_peers_buy([], {"A": 1}, 1) == [("A", D("1.00"))]
    # one peer of three is 0.33: under a half
    assert groups_peers_buy((), {"A": 1, "B": 2}, 3) == [("B", D("0.67"))]
    assert groups_peers_buy((), {"A": 1, "B": 2}, 3, min_share=D("0.3")) == [
        ("B", D("0.67")), ("A", D("0.33"))]
    assert groups_peers_buy((), {"A": 1, "B": 2}, 3, min_share=D(1)) == []


def test_groups_peers_buy_share_is_exact_before_rounding() -> None:
    # 499 of 1000 is 0.499: not a half, even though it shows as 0.50
    assert groups_peers_buy((), {"A": 499, "B": 500, "C": 501}, 1000) == [
        ("C", D("0.50")), ("B", D("0.50"))]
    assert groups_peers_buy((), {"A": 1, "B": 1}, 8, min_share=D("0.125")) == [
        ("A", D("0.13")), ("B", D("0.13"))]


@pytest.mark.parametrize("peers,count,min_share,match", [
    ({"A": 1}, -1, D("0.5"), "0 or more"),
    ({"A": 4}, 3, D("0.5"), "out of 3"),
    ({"A": -1}, 3, D("0.5"), "out of 3"),
    ({"A": 1}, 3, D(0), "min_share"),
    ({"A": 1}, 3, D("1.1"), "min_share"),
])
def test_groups_peers_buy_refuses_bad_input(peers: dict[str, int], count: int,
                                            min_share: Decimal, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        groups_peers_buy((), peers, count, min_share=min_share)
