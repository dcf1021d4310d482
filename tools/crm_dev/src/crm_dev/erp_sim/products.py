"""The simulated ERP's catalogue: product groups of a Bulgarian FMCG distributor and their products.

Plain data plus :func:`build_products` (deterministic, no randomness): 20 groups, about 300
products with Cyrillic names, codes ``<GROUP><NNN>`` (``NAP004``), a unit, a VAT rate and a base
price in BGN stotinki (the ERP's price list before the euro; converted when the euro comes).

Seasonality (:data:`SEASON`) is a factor per calendar month and group; :func:`holiday_boost`
adds the weeks before Christmas and Orthodox Easter for the groups that sell then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

#: VAT rates in percent. 9 % is the reduced rate of the Bulgarian VAT Act (ЗДДС чл. 66а); of
#: this catalogue it applies to baby food and baby hygiene products (nappies), everything else
#: is at the standard 20 %.
VAT_STANDARD: Final = "20"
VAT_REDUCED: Final = "9"


@dataclass(frozen=True, slots=True)
class Group:
    code: str
    name: str
    vat: str
    #: factor per calendar month, January first
    season: tuple[float, ...]
    christmas: float = 1.0  # extra factor from 15 November to 23 December
    easter: float = 1.0  # extra factor in the three weeks before Orthodox Easter

    @property
    def vat_percent(self) -> int:
        return int(self.vat)

    @property
    def peak(self) -> float:
        """An upper bound of :func:`season_factor` for this group."""
        return max(self.season) * self.christmas * self.easter


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    name: str
    group: Group
    unit: str
    price: int  # base price in BGN stotinki, per unit
    has_base_price: bool  # False: "price on request", basePrice is left out of the message
    weighed: bool  # sold by weight or volume in thousandths (кг); else whole pieces


_FLAT = (1.0,) * 12
_SUMMER = (0.65, 0.7, 0.85, 1.0, 1.2, 1.45, 1.6, 1.55, 1.15, 0.9, 0.75, 0.8)
_STRONG_SUMMER = (0.3, 0.35, 0.55, 0.85, 1.3, 1.8, 2.1, 2.0, 1.2, 0.6, 0.35, 0.35)
_WINTER = (1.25, 1.2, 1.05, 0.95, 0.85, 0.8, 0.75, 0.8, 0.95, 1.1, 1.2, 1.3)

GROUPS: Final[tuple[Group, ...]] = (
    Group("NAP", "Безалкохолни напитки", VAT_STANDARD, _SUMMER),
    Group("VOD", "Минерална и изворна вода", VAT_STANDARD, _SUMMER),
    Group("BIR", "Бира", VAT_STANDARD, _SUMMER, christmas=1.1),
    Group("VIN", "Вино и спиртни напитки", VAT_STANDARD, _FLAT, christmas=1.8),
    Group("KAF", "Кафе и чай", VAT_STANDARD, _WINTER, christmas=1.15),
    Group("SLD", "Шоколад и бонбони", VAT_STANDARD,
          (0.9, 1.0, 1.0, 1.0, 0.85, 0.7, 0.65, 0.7, 0.9, 1.0, 1.15, 1.3),
          christmas=2.2, easter=1.9),
    Group("BSK", "Бисквити, вафли и кексове", VAT_STANDARD, _WINTER, christmas=1.5, easter=1.6),
    Group("SNK", "Солени снаксове и ядки", VAT_STANDARD, _SUMMER, christmas=1.2),
    Group("MLK", "Млечни продукти", VAT_STANDARD,
          (0.95, 0.95, 1.0, 1.05, 1.05, 1.05, 1.0, 1.0, 1.0, 1.0, 0.95, 1.0), easter=1.3),
    Group("KON", "Консерви и буркани", VAT_STANDARD, _WINTER),
    Group("ZRN", "Брашно, ориз и бобови", VAT_STANDARD, _WINTER, christmas=1.2, easter=1.3),
    Group("OLI", "Олио, оцет и подправки", VAT_STANDARD, _FLAT, christmas=1.1),
    Group("SLA", "Сладолед и замразени храни", VAT_STANDARD, _STRONG_SUMMER),
    Group("PER", "Перилни препарати", VAT_STANDARD, _FLAT),
    Group("POC", "Почистващи препарати", VAT_STANDARD,
          (0.9, 0.95, 1.35, 1.4, 1.1, 0.95, 0.9, 0.9, 0.95, 1.0, 0.95, 1.1), easter=1.2),
    Group("HAR", "Хартиени изделия", VAT_STANDARD, _FLAT),
    Group("KOZ", "Козметика и лична хигиена", VAT_STANDARD, _FLAT, christmas=1.6),
    Group("BEB", "Бебешки храни и пелени", VAT_REDUCED, _FLAT),
    Group("DOM", "Домакински стоки", VAT_STANDARD,
          (0.85, 0.85, 1.0, 1.1, 1.15, 1.1, 1.1, 1.05, 1.0, 0.95, 0.95, 1.1), christmas=1.3),
    Group("ZHI", "Храни за домашни любимци", VAT_STANDARD, _FLAT),
)
GROUP_BY_CODE: Final = {g.code: g for g in GROUPS}

# group code -> [(name, unit, price in stotinki, weighed)] of base articles; sizes multiply them
_ARTICLES: Final[dict[str, list[tuple[str, str, int, bool]]]] = {
    "NAP": [("Газирана напитка кола", "бр.", 120, False),
            ("Лимонада", "бр.", 110, False),
            ("Портокалова напитка", "бр.", 115, False),
            ("Студен чай праскова", "бр.", 130, False),
            ("Енергийна напитка", "бр.", 210, False),
            ("Натурален сок ябълка", "бр.", 240, False)],
    "VOD": [("Минерална вода Девин", "бр.", 70, False),
            ("Минерална вода Банкя", "бр.", 65, False),
            ("Изворна вода Витоша", "бр.", 55, False),
            ("Газирана минерална вода Горна баня", "бр.", 80, False)],
    "BIR": [("Бира светла", "бр.", 150, False),
            ("Бира тъмна", "бр.", 180, False),
            ("Бира безалкохолна", "бр.", 160, False),
            ("Бира пшенична", "бр.", 220, False)],
    "VIN": [("Вино Мавруд червено", "бр.", 1190, False),
            ("Вино Мелник червено", "бр.", 1350, False),
            ("Вино Димят бяло", "бр.", 890, False),
            ("Вино Розе", "бр.", 990, False),
            ("Гроздова ракия", "бр.", 1690, False),
            ("Сливова ракия", "бр.", 1890, False)],
    "KAF": [("Кафе на зърна", "бр.", 2290, False),
            ("Мляно кафе", "бр.", 890, False),
            ("Разтворимо кафе", "бр.", 1190, False),
            ("Чай мента", "бр.", 240, False),
            ("Чай лайка", "бр.", 240, False),
            ("Черен чай", "бр.", 320, False)],
    "SLD": [("Млечен шоколад", "бр.", 290, False),
            ("Черен шоколад", "бр.", 320, False),
            ("Шоколад с лешници", "бр.", 350, False),
            ("Бонбони асорти", "бр.", 990, False),
            ("Шоколадови яйца", "бр.", 180, False),
            ("Локум с розово масло", "бр.", 450, False)],
    "BSK": [("Бисквити с какао", "бр.", 150, False),
            ("Вафла с лешников крем", "бр.", 90, False),
            ("Кекс мраморен", "бр.", 390, False),
            ("Козунак", "бр.", 790, False),
            ("Бисквити пълнозърнести", "бр.", 210, False)],
    "SNK": [("Чипс солен", "бр.", 230, False),
            ("Чипс със сирене", "бр.", 240, False),
            ("Солети", "бр.", 130, False),
            ("Печен фъстък", "бр.", 290, False),
            ("Слънчогледови семки", "бр.", 160, False)],
    "MLK": [("Кисело мляко 3,6 %", "бр.", 160, False),
            ("Прясно мляко 3 %", "бр.", 250, False),
            ("Бяло саламурено сирене", "кг", 1490, True),
            ("Кашкавал от краве мляко", "кг", 2190, True),
            ("Айрян", "бр.", 120, False),
            ("Масло краве", "бр.", 450, False)],
    "KON": [("Лютеница", "бр.", 390, False),
            ("Кьопоолу", "бр.", 420, False),
            ("Консервиран боб", "бр.", 250, False),
            ("Домати белени", "бр.", 210, False),
            ("Туршия селска", "бр.", 450, False),
            ("Риба тон в олио", "бр.", 390, False)],
    "ZRN": [("Брашно тип 500", "бр.", 180, False),
            ("Ориз", "бр.", 330, False),
            ("Боб зрял", "бр.", 450, False),
            ("Леща", "бр.", 390, False),
            ("Булгур", "бр.", 290, False)],
    "OLI": [("Слънчогледово олио", "бр.", 390, False),
            ("Зехтин екстра върджин", "бр.", 1590, False),
            ("Винен оцет", "бр.", 150, False),
            ("Шарена сол", "бр.", 210, False),
            ("Чубрица", "бр.", 120, False)],
    "SLA": [("Сладолед ванилия", "бр.", 490, False),
            ("Сладолед фунийка", "бр.", 190, False),
            ("Замразени зеленчуци", "бр.", 350, False),
            ("Замразени баници", "кг", 890, True),
            ("Замразени кюфтета", "кг", 1190, True)],
    "PER": [("Прах за пране", "бр.", 1790, False),
            ("Течен перилен препарат", "бр.", 1590, False),
            ("Омекотител", "бр.", 790, False),
            ("Капсули за пране", "бр.", 2190, False)],
    "POC": [("Препарат за съдове", "бр.", 290, False),
            ("Препарат за под", "бр.", 450, False),
            ("Препарат за стъкла", "бр.", 390, False),
            ("Белина", "бр.", 220, False),
            ("Таблетки за съдомиялна", "бр.", 1890, False)],
    "HAR": [("Тоалетна хартия", "бр.", 690, False),
            ("Кухненска ролка", "бр.", 450, False),
            ("Салфетки", "бр.", 190, False),
            ("Хартиени кърпички", "бр.", 150, False)],
    "KOZ": [("Шампоан", "бр.", 590, False),
            ("Душ гел", "бр.", 490, False),
            ("Паста за зъби", "бр.", 390, False),
            ("Сапун с розово масло", "бр.", 250, False),
            ("Крем за ръце", "бр.", 450, False),
            ("Дезодорант", "бр.", 650, False)],
    "BEB": [("Бебешка каша", "бр.", 390, False),
            ("Бебешко пюре", "бр.", 250, False),
            ("Пелени", "бр.", 2390, False),
            ("Мокри кърпички за бебе", "бр.", 350, False)],
    "DOM": [("Фолио алуминиево", "бр.", 350, False),
            ("Торби за смет", "бр.", 290, False),
            ("Гъби за съдове", "бр.", 190, False),
            ("Свещи", "бр.", 490, False),
            ("Пластмасови чаши", "бр.", 250, False)],
    "ZHI": [("Суха храна за кучета", "бр.", 1590, False),
            ("Суха храна за котки", "бр.", 1290, False),
            ("Консерва за котки", "бр.", 190, False),
            ("Котешка тоалетна", "бр.", 890, False)],
}

# size variants: (suffix, price factor); products weighed per kg have no size
_SIZES: Final[dict[str, list[tuple[str, float]]]] = {
    "NAP": [("0,5 л", 1.0), ("1,5 л", 1.9), ("2 л", 2.3)],
    "VOD": [("0,5 л", 1.0), ("1,5 л", 1.6), ("10 л", 5.5)],
    "BIR": [("0,5 л кен", 1.0), ("0,5 л стъкло", 1.05), ("2 л", 3.4)],
    "VIN": [("0,75 л", 1.0), ("1,5 л", 1.8)],
    "KAF": [("250 г", 1.0), ("1 кг", 3.6)],
    "SLD": [("100 г", 1.0), ("250 г", 2.3)],
    "BSK": [("стандартна", 1.0), ("фамилна опаковка", 2.6)],
    "SNK": [("70 г", 1.0), ("150 г", 1.8)],
    "MLK": [("400 г", 1.0), ("1 кг", 2.2)],
    "KON": [("300 г", 1.0), ("680 г", 1.9)],
    "ZRN": [("1 кг", 1.0), ("5 кг", 4.5)],
    "OLI": [("0,5 л", 1.0), ("1 л", 1.85)],
    "SLA": [("малка", 1.0), ("голяма", 2.2)],
    "PER": [("2 кг", 1.0), ("4 кг", 1.85)],
    "POC": [("500 мл", 1.0), ("1 л", 1.7)],
    "HAR": [("8 бр.", 1.0), ("24 бр.", 2.7)],
    "KOZ": [("250 мл", 1.0), ("400 мл", 1.5)],
    "BEB": [("стандартна", 1.0), ("икономична", 1.8)],
    "DOM": [("стандартна", 1.0), ("голяма", 1.7)],
    "ZHI": [("малка", 1.0), ("голяма", 3.5)],
}
_BRANDS: Final = ("", "Балкан", "Тракия")


def build_products() -> list[Product]:
    """The whole catalogue in code order (about 300 products). Deterministic."""
    products: list[Product] = []
    serial = 0
    for group in GROUPS:
        n = 0
        for a, (name, unit, price, weighed) in enumerate(_ARTICLES[group.code]):
            sizes = [("", 1.0)] if weighed else _SIZES[group.code]
            # a few articles come from two brands (the house brand and a private label)
            brands = _BRANDS[: 1 + (a % 3 == 0)]
            for brand in brands:
                for suffix, factor in sizes:
                    n += 1
                    serial += 1
                    label = " ".join(p for p in (name, brand and f"„{brand}“", suffix) if p)
                    brand_factor = 0.88 if brand else 1.0
                    products.append(Product(
                        code=f"{group.code}{n:03d}",
                        name=label,
                        group=group,
                        unit=unit,
                        price=max(10, round(price * factor * brand_factor)),
                        has_base_price=serial % 11 != 0,
                        weighed=weighed,
                    ))
    return products


def orthodox_easter(year: int) -> dt.date:
    """Orthodox Easter Sunday (Gregorian date) of ``year`` (Meeus' Julian algorithm)."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    return dt.date(year, month, day + 1) + dt.timedelta(days=13)


def holiday_boost(group: Group, day: dt.date) -> float:
    """The extra factor of ``group`` on ``day`` from Christmas and Easter shopping."""
    factor = 1.0
    if group.christmas != 1.0 and (
        (day.month == 11 and day.day >= 15) or (day.month == 12 and day.day <= 23)
    ):
        factor *= group.christmas
    if group.easter != 1.0:
        easter = orthodox_easter(day.year)
        if easter - dt.timedelta(days=21) <= day < easter:
            factor *= group.easter
    return factor


def season_factor(group: Group, day: dt.date) -> float:
    return group.season[day.month - 1] * holiday_boost(group, day)
