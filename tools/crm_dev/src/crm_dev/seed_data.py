"""Demo data for a development CRM: staff and about 25 Bulgarian B2B clients.

Plain Python data, no I/O: ``crm-dev seed`` (or a test) sends each entry of :data:`CLIENTS` as the
``input`` of the ``createClient`` mutation, authenticated as one of :data:`EMPLOYEES`.

* :data:`EMPLOYEES` -- one sales manager and three sales reps, each a dict with the keys ``id``,
  ``name`` and ``role`` (``manager`` / ``sales_rep``, the token roles); the ids are UUIDv5 of
  :data:`SEED_NAMESPACE` and a fixed key, so they are the same on every machine and every run
  (tokens minted for them stay valid across re-seeding).
* :data:`CLIENTS` -- dicts in the exact shape of the GraphQL ``CreateClientInput`` (camelCase keys,
  upper-case enum values), every one with an ``ownerId`` among the sales reps.

The companies, people, EIKs, phone numbers and e-mail addresses are invented. The EIKs carry a
correct check digit (computed by :func:`make_eik`), so by construction some may coincide with
registrations of real companies; the phone numbers are in real Bulgarian mobile ranges and the
domains look real. This is demo data for a development database: never send messages to it.
``services/clients/tests/unit/test_seed_data.py`` runs every value through the service's validators.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from crm_common.identifiers import eik_check_digit

__all__ = [
    "CLIENTS",
    "EMPLOYEES",
    "MANAGER",
    "SALES_REPS",
    "SEED_NAMESPACE",
    "employee_id",
    "make_eik",
]

SEED_NAMESPACE: Final = uuid.UUID("274bfc27-8b38-4c0d-8353-16f50014be10")
"""Namespace of the UUIDv5 ids of seeded records. Never change it: ids derive from it."""


def employee_id(key: str) -> str:
    """Stable id of a seeded employee: UUIDv5 of :data:`SEED_NAMESPACE` and ``employee:<key>``."""
    return str(uuid.uuid5(SEED_NAMESPACE, f"employee:{key}"))


def make_eik(first_eight: str) -> str:
    """A valid 9-digit EIK: ``first_eight`` followed by its check digit."""
    return first_eight + eik_check_digit(first_eight)


# --------------------------------------------------------------------------------------------------
# staff

MANAGER: Final[dict[str, str]] = {
    "id": employee_id("maria.petrova"),
    "name": "Мария Петрова",
    "role": "manager",
}

SALES_REPS: Final[list[dict[str, str]]] = [
    {"id": employee_id("georgi.ivanov"), "name": "Георги Иванов", "role": "sales_rep"},
    {"id": employee_id("elena.dimitrova"), "name": "Елена Димитрова", "role": "sales_rep"},
    {"id": employee_id("nikolay.stoyanov"), "name": "Николай Стоянов", "role": "sales_rep"},
]

EMPLOYEES: Final[list[dict[str, str]]] = [MANAGER, *SALES_REPS]


# --------------------------------------------------------------------------------------------------
# building blocks

# (first name, Latin transliteration) -- official Bulgarian streamlined system
_MALE_FIRST: Final = [
    ("Иван", "ivan"),
    ("Димитър", "dimitar"),
    ("Стефан", "stefan"),
    ("Петър", "petar"),
    ("Христо", "hristo"),
    ("Тодор", "todor"),
    ("Калин", "kalin"),
    ("Светослав", "svetoslav"),
    ("Пламен", "plamen"),
    ("Любомир", "lyubomir"),
    ("Красимир", "krasimir"),
    ("Васил", "vasil"),
]
_FEMALE_FIRST: Final = [
    ("Десислава", "desislava"),
    ("Росица", "rositsa"),
    ("Гергана", "gergana"),
    ("Веселина", "veselina"),
    ("Надежда", "nadezhda"),
    ("Антоанета", "antoaneta"),
    ("Милена", "milena"),
    ("Цветелина", "tsvetelina"),
    ("Йорданка", "yordanka"),
    ("Силвия", "silviya"),
    ("Радостина", "radostina"),
]
# male surname (Cyrillic, Latin); the female form adds "а" / "a"
_SURNAMES: Final = [
    ("Георгиев", "georgiev"),
    ("Николов", "nikolov"),
    ("Тодоров", "todorov"),
    ("Илиев", "iliev"),
    ("Костадинов", "kostadinov"),
    ("Атанасов", "atanasov"),
    ("Маринов", "marinov"),
    ("Пенев", "penev"),
    ("Василев", "vasilev"),
    ("Христов", "hristov"),
    ("Янков", "yankov"),
    ("Димов", "dimov"),
    ("Кирилов", "kirilov"),
    ("Борисов", "borisov"),
    ("Рачев", "rachev"),
    ("Ангелов", "angelov"),
    ("Стойчев", "stoychev"),
]
_POSITIONS: Final = [
    "Управител",
    "Търговски директор",
    "Снабдител",
    "Главен счетоводител",
    "Мениджър покупки",
    "Управител склад",
    "Офис мениджър",
    "Изпълнителен директор",
]
_MOBILE_PREFIXES: Final = ["88", "87", "89", "98"]

# City -> (street, postal code) pairs; postal codes within Sofia 1000-1799, Plovdiv 4000-4030,
# Varna 9000-9030.
_STREETS: Final[dict[str, list[tuple[str, str]]]] = {
    "София": [
        ("бул. Цар Борис III 124", "1612"),
        ("бул. Витоша 15", "1000"),
        ("ул. Граф Игнатиев 20", "1000"),
        ("бул. Цариградско шосе 115", "1784"),
        ("бул. България 51", "1404"),
        ("бул. Черни връх 47", "1407"),
        ("бул. Александър Малинов 51", "1712"),
        ("ул. Сребърна 9", "1407"),
        ("бул. Ботевградско шосе 247", "1517"),
        ("бул. Никола Вапцаров 35", "1407"),
        ("ул. Бачо Киро 26", "1000"),
        ("бул. Европа 25", "1331"),
    ],
    "Пловдив": [
        ("бул. Христо Ботев 56", "4000"),
        ("ул. Кукленско шосе 17", "4004"),
        ("бул. Марица 154", "4002"),
        ("бул. Санкт Петербург 48", "4023"),
        ("ул. Капитан Райчо 56", "4000"),
        ("бул. Васил Априлов 150", "4002"),
        ("бул. Менделеев 5", "4004"),
        ("ул. Брезовско шосе 176", "4003"),
    ],
    "Варна": [
        ("бул. Владислав Варненчик 186", "9009"),
        ("бул. Сливница 2", "9000"),
        ("ул. Девня 24", "9000"),
        ("бул. Приморски 45", "9000"),
        ("бул. Цар Освободител 100", "9002"),
        ("бул. Република 117", "9010"),
        ("бул. Христо Смирненски 1", "9010"),
        ("ул. Перла 10", "9023"),
    ],
}
# landline area codes in E.164 and the number of subscriber digits that follow
_LANDLINE: Final[dict[str, tuple[str, int]]] = {
    "София": ("+3592", 7),
    "Пловдив": ("+35932", 6),
    "Варна": ("+35952", 6),
}

# legal name, trade name, domain, city, EIK base (8 digits), status, tags, notes
_COMPANIES: Final[list[tuple[str, str, str, str, str, str, list[str], str | None]]] = [
    ("Агрополис ЕООД", "Agropolis", "agropolis.bg", "Пловдив", "20418736", "ACTIVE",
     ["земеделие", "ключов клиент"], "Плаща редовно; предпочита доставки сутрин до 10:00."),
    ("Витоша Дистрибуция ООД", "Vitosha Distribution", "vitosha-distribution.bg", "София",
     "20371592", "ACTIVE", ["търговия на едро"], None),
    ("Черноморски Хранителни Продукти АД", "Black Sea Foods", "blackseafoods.bg", "Варна",
     "10308473", "ACTIVE", ["храни", "ключов клиент"], None),
    ("Балкан Агро Трейд ООД", "Balkan Agro Trade", "balkanagrotrade.bg", "Пловдив", "11560294",
     "ACTIVE", ["земеделие"], None),
    ("Родопа Млечни Продукти ЕАД", "Rodopa Dairy", "rodopa-dairy.bg", "Пловдив", "20290615",
     "ACTIVE", ["храни", "млечни"], "Сезонен пик през май–септември."),
    ("Тракия Строй ЕООД", "Trakia Stroy", "trakiastroy.bg", "Пловдив", "20184372", "PROSPECT",
     ["строителство"], "Запитване от панаира в Пловдив."),
    ("Офис Плюс България ЕООД", "Office Plus", "officeplus.bg", "София", "20095518", "ACTIVE",
     ["офис консумативи"], None),
    ("Морска Логистика ООД", "Marine Logistics", "marinelogistics.bg", "Варна", "20347751",
     "ACTIVE", ["логистика"], None),
    ("Дунав Фарма ЕООД", "Danube Pharma", "danubepharma.bg", "София", "20462039", "PROSPECT",
     ["аптеки"], None),
    ("Стара Планина Напитки АД", "Stara Planina Beverages", "staraplanina-drinks.bg", "София",
     "13107826", "ACTIVE", ["напитки", "ключов клиент"], None),
    ('ЕТ "Иван Петков - 77"', "Petkov 77", "petkov77.bg", "Пловдив", "11504419", "ACTIVE",
     ["търговия на дребно"], None),
    ("Евро Хотелиер ООД", "Euro Hotelier", "eurohotelier.bg", "Варна", "20251760", "ACTIVE",
     ["HoReCa"], "Поръчки само през сезона (април–октомври)."),
    ("Хлебозавод Преслав АД", "Preslav Bakery", "preslav-bakery.bg", "Варна", "10305589",
     "ACTIVE", ["храни", "хлебни изделия"], None),
    ("Металик Инженеринг ЕООД", "Metallic Engineering", "metallic-eng.bg", "София", "20228843",
     "INACTIVE", ["индустрия"], "Спряха поръчките през 2025 г.; да се потърси отново."),
    ("Зелена Долина ООД", "Green Valley", "greenvalley.bg", "Пловдив", "20412267", "ACTIVE",
     ["земеделие", "био"], None),
    ("Аква Марин Трейдинг ЕООД", "Aqua Marine Trading", "aquamarine-trading.bg", "Варна",
     "20336614", "PROSPECT", ["търговия на едро"], None),
    ("Пирин Текстил ООД", "Pirin Textile", "pirintextile.bg", "София", "10155837", "ACTIVE",
     ["текстил"], None),
    ("Медицентър Лозенец ЕООД", "Medicenter Lozenets", "medicenter-lozenets.bg", "София",
     "20273320", "ACTIVE", ["здравеопазване"], None),
    ("Тех Сървис БГ ЕООД", "Tech Service BG", "techservice.bg", "София", "20399481", "ACTIVE",
     ["сервиз"], None),
    ("Кафе Ориент ООД", "Cafe Orient", "cafeorient.bg", "Пловдив", "11567038", "ACTIVE",
     ["HoReCa", "напитки"], "Собственикът предпочита телефонни обаждания пред e-mail."),
    ("Вино Марица АД", "Maritsa Wines", "maritsawines.bg", "Пловдив", "11563351", "ACTIVE",
     ["напитки", "износ"], None),
    ("Приморско Строителство ЕАД", "Primorsko Construction", "primorsko-construction.bg", "Варна",
     "20309928", "ACTIVE", ["строителство"], None),
    ("Юнион Пак ООД", "Union Pack", "unionpack.bg", "София", "20125507", "PROSPECT",
     ["опаковки"], "Искат оферта за стреч фолио и кашони."),
    ("Алфа Химикали ЕООД", "Alpha Chemicals", "alphachemicals.bg", "София", "20441196", "ACTIVE",
     ["индустрия", "химикали"], None),
    ("Галата Маркет ЕООД", "Galata Market", "galatamarket.bg", "Варна", "20380042", "ACTIVE",
     ["търговия на дребно"], None),
]  # fmt: skip


def _mobile(n: int) -> str:
    """A Bulgarian mobile number in E.164 (+359 8X/98 and seven digits), deterministic in ``n``."""
    prefix = _MOBILE_PREFIXES[n % len(_MOBILE_PREFIXES)]
    return f"+359{prefix}{(2_345_671 + n * 104_729) % 10_000_000:07d}"


def _landline(city: str, n: int) -> str:
    """A landline number of ``city`` in E.164, deterministic in ``n``; never starts with 0 or 1."""
    area, digits = _LANDLINE[city]
    span = 8 * 10 ** (digits - 1)
    return f"{area}{2 * 10 ** (digits - 1) + (n * 7_919 + 123_457) % span}"


def _person(n: int) -> tuple[str, str]:
    """The ``n``-th demo person: (Cyrillic full name, Latin e-mail local part)."""
    surname_cyr, surname_lat = _SURNAMES[(n * 5) % len(_SURNAMES)]
    if n % 2:
        first_cyr, first_lat = _FEMALE_FIRST[(n // 2) % len(_FEMALE_FIRST)]
        surname_cyr, surname_lat = surname_cyr + "а", surname_lat + "a"
    else:
        first_cyr, first_lat = _MALE_FIRST[(n // 2) % len(_MALE_FIRST)]
    return f"{first_cyr} {surname_cyr}", f"{first_lat}.{surname_lat}"


def _build_clients() -> list[dict[str, Any]]:
    clients: list[dict[str, Any]] = []
    person_counter = 0
    for i, (legal, trade, domain, city, base, status, tags, notes) in enumerate(_COMPANIES):
        eik = make_eik(base)
        streets = _STREETS[city]
        street, postal = streets[i % len(streets)]
        addresses: list[dict[str, Any]] = [
            {
                "kind": "REGISTERED",
                "country": "BG",
                "city": city,
                "postalCode": postal,
                "street": street,
                "isDefault": True,
            }
        ]
        if i % 3 == 0:
            delivery_street, delivery_postal = streets[(i + 3) % len(streets)]
            addresses.append(
                {
                    "kind": "DELIVERY",
                    "country": "BG",
                    "city": city,
                    "postalCode": delivery_postal,
                    "street": delivery_street,
                    "isDefault": False,
                }
            )
        contacts: list[dict[str, Any]] = []
        for k in range(1 + i % 4):
            name, local = _person(person_counter)
            contact: dict[str, Any] = {
                "name": name,
                "position": _POSITIONS[(i + k) % len(_POSITIONS)] if k else "Управител",
                "phones": [_mobile(person_counter)],
                "emails": [f"{local}@{domain}"],
                "isPrimary": k == 0,
            }
            if k == 1 and i % 2 == 0:
                contact["notes"] = "Да се търси след 14:00."
            contacts.append(contact)
            person_counter += 1
        client: dict[str, Any] = {
            "kind": "COMPANY",
            "legalName": legal,
            "tradeName": trade,
            "eik": eik,
            "vatNumber": f"BG{eik}",
            "status": status,
            "ownerId": SALES_REPS[i % len(SALES_REPS)]["id"],
            "phones": [_landline(city, i)],
            "emails": [f"office@{domain}"],
            "website": f"https://www.{domain}",
            "tags": list(tags),
            "addresses": addresses,
            "contactPersons": contacts,
        }
        if notes is not None:
            client["notes"] = notes
        clients.append(client)
    return clients


CLIENTS: Final[list[dict[str, Any]]] = _build_clients()
"""The demo clients, each a ``CreateClientInput`` dict (see the module docstring)."""
