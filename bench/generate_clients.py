"""Fill a clients database with N synthetic (Bulgarian-looking) clients, fast, with asyncpg COPY.

    uv run python bench/generate_clients.py                       # 100,000 into crm_clients_bench
    uv run python bench/generate_clients.py --count 1000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_bench_1k

The database is DROPPED and recreated (``crm-clients migrate``) first, so only point it at a bench
database. Every client gets 1-5 contact persons, 1-3 addresses and 0-2 bank accounts; identifiers
(EIK, VAT, phones, e-mails, postal codes, IBANs) are valid for the service's own validators. The
history table stays empty (nothing was "changed"); each client's search document is built with
the service's own SQL function. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from crm_common.identifiers import eik_check_digit

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_bench"
ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------- word lists

NAME_FIRST = (
    "Балкан Витоша Родопи Странджа Пирин Рила Тракия Дунав Черноморие Хемус Одесос Марица Искър "
    "Янтра Арда Струма Мизия Добруджа Сердика Пловдив Орфей Спартак Златен Сребърен Стара Нов "
    "Бял Червен Зелен Син Мелник Тунджа Камчия Осогово Беласица Средна Горна Долна Източна "
    "Западна Северна Южна Дружба Прогрес Напредък Единство Зора Изгрев Светлина Звезда Елит Импулс"
).split()
NAME_SECOND = (
    "Трейд Инвест Строй Консулт Логистик Транс Агро Фарм Медикал Софт Систем Енерджи Пласт Метал "
    "Текстил Мебел Фууд Вино Млечни Хлебни Електрик Монтаж Проект Дизайн Сервиз Оптикс Принт "
    "Медиа Финанс Имоти Билд Хим Комерс Дистрибуция Техника Маркет Турс Хотели Кейтъринг Авто "
    "Газ Екология Охрана Защита Кабел Пак Стъкло Дърво Камък Керамика"
).split()
LEGAL_FORMS = ("ЕООД", "ЕООД", "ЕООД", "ООД", "ООД", "АД", "ЕАД", "ЕТ")

FIRST_NAMES_M = (
    "Иван Георги Димитър Петър Николай Христо Стоян Тодор Васил Александър Борис Емил Калоян "
    "Любомир Мартин Мирослав Пламен Росен Светослав Валентин Веселин Кирил Константин Цветан"
).split()
FIRST_NAMES_F = (
    "Мария Елена Иванка Йорданка Пенка Десислава Гергана Надежда Росица Силвия Цветелина Яна "
    "Виктория Александра Биляна Теодора Радостина Милена Антоанета Катерина Галина Светла"
).split()
SURNAMES_M = (
    "Иванов Георгиев Димитров Петров Николов Христов Стоянов Тодоров Василев Атанасов Илиев "
    "Ангелов Костов Маринов Попов Колев Йорданов Стефанов Михайлов Кръстев Павлов Янков Райчев"
).split()
POSITIONS = (
    "Управител", "Изпълнителен директор", "Финансов директор", "Главен счетоводител",
    "Търговски директор", "Мениджър продажби", "Мениджър доставки", "Офис мениджър",
    "Юрисконсулт", "Технически ръководител", None, None,
)
TRANSLIT = dict(zip(
    "абвгдежзийклмнопрстуфхцчшщъьюя",
    ["a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
     "t", "u", "f", "h", "ts", "ch", "sh", "sht", "a", "y", "yu", "ya"], strict=True))

# city, weight, postal code range (inclusive), street names
CITIES = [
    ("София", 34, (1000, 1799)), ("Пловдив", 12, (4000, 4030)), ("Варна", 11, (9000, 9027)),
    ("Бургас", 8, (8000, 8018)), ("Русе", 5, (7000, 7020)), ("Стара Загора", 5, (6000, 6010)),
    ("Плевен", 4, (5800, 5809)), ("Велико Търново", 3, (5000, 5003)), ("Шумен", 3, (9700, 9704)),
    ("Добрич", 2, (9300, 9302)), ("Сливен", 2, (8800, 8802)), ("Благоевград", 2, (2700, 2701)),
    ("Хасково", 2, (6300, 6301)), ("Пазарджик", 2, (4400, 4401)), ("Габрово", 2, (5300, 5301)),
    ("Враца", 1, (3000, 3001)), ("Ямбол", 1, (8600, 8601)), ("Казанлък", 1, (6100, 6100)),
]
STREETS = (
    "бул. Витоша", "бул. Цар Освободител", "бул. България", "ул. Раковски", "ул. Граф Игнатиев",
    "бул. Христо Ботев", "ул. Васил Левски", "бул. Мария Луиза", "ул. Шипка", "ул. Оборище",
    "бул. Александър Стамболийски", "ул. Иван Вазов", "ул. Алеко Константинов", "бул. Освобождение",
    "ул. Княз Борис I", "ул. Христо Смирненски", "бул. Сливница", "ул. Гео Милев",
)
ADDRESS_KINDS = ("registered", "correspondence", "delivery", "billing", "office")
STATUSES = (("active", 75), ("prospect", 12), ("inactive", 10), ("archived", 3))
TAGS = ("ключов", "дистрибутор", "VIP", "износ", "държавен", "нов", "сезонен", "b2b")
MOBILE_PREFIXES = ("87", "88", "89", "98")
BANKS = (("UNCR", "UNCRBGSF", "УниКредит Булбанк"), ("STSA", "STSABGSF", "Банка ДСК"),
         ("FINV", "FINVBGSF", "Първа инвестиционна банка"), ("UBBS", "UBBSBGSF", "ОББ"),
         ("BPBI", "BPBIBGSF", "Юробанк България"), ("CECB", "CECBBGSF", "ЦКБ"))


def translit(text: str) -> str:
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower() if ch.isalnum() or ch == " ")


def bg_iban(bank: str, rng: random.Random) -> str:
    """A BG IBAN with correct MOD-97 check digits: BGkk BBBB SSSS TT AAAAAAAA."""
    bban = f"{bank}{rng.randrange(10000):04d}{rng.choice(('10', '11', '12', '20', '40'))}" \
           f"{rng.randrange(10**8):08d}"
    numeric = "".join(str(int(ch, 36)) for ch in bban + "BG00")
    return f"BG{98 - int(numeric) % 97:02d}{bban}"


def mobile(rng: random.Random) -> str:
    return f"+359{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"


def person(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(FIRST_NAMES_M)} {rng.choice(SURNAMES_M)}"
    return f"{rng.choice(FIRST_NAMES_F)} {rng.choice(SURNAMES_M)}а"


def weighted(options: list[tuple], rng: random.Random, cum: list[int]) -> tuple:
    return options[_bisect(cum, rng.randrange(cum[-1]))]


def _bisect(cum: list[int], x: int) -> int:
    lo, hi = 0, len(cum)
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _cum(weights: list[int]) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


# --------------------------------------------------------------------- generate

def generate(count: int, seed: int) -> dict[str, list[tuple]]:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    span = int(timedelta(days=6 * 365).total_seconds())
    reps = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(20)]
    city_cum = _cum([c[1] for c in CITIES])
    status_cum = _cum([s[1] for s in STATUSES])
    eik_firsts = rng.sample(range(10_000_000, 100_000_000), count)  # unique 8-digit prefixes

    created = sorted(now - timedelta(seconds=rng.randrange(span)) for _ in range(count))
    clients, addresses, contacts, accounts = [], [], [], []
    for i in range(count):
        cid = uuid.UUID(int=rng.getrandbits(128), version=4)
        created_at = created[i]
        updated_at = min(now, created_at + timedelta(seconds=rng.randrange(span // 3)))
        status = weighted(STATUSES, rng, status_cum)[0]
        owner = rng.choice(reps) if rng.random() < 0.97 else None
        if rng.random() < 0.95:
            kind = "company"
            base = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
            if rng.random() < 0.3:
                base += f" {rng.randrange(1, 100)}"
            legal_name = f"{base} {rng.choice(LEGAL_FORMS)}"
            trade_name = base if rng.random() < 0.3 else None
            first8 = str(eik_firsts[i])
            eik = first8 + eik_check_digit(first8)
            vat = "BG" + eik if rng.random() < 0.8 else None
            slug = translit(base).replace(" ", "-")
            website = f"https://www.{slug}.bg" if rng.random() < 0.4 else None
            emails = [f"office@{slug}.bg"]
        else:
            kind = "individual"
            legal_name = person(rng)
            trade_name, eik, vat, website = None, None, None, None
            slug = translit(legal_name).replace(" ", ".")
            emails = [f"{slug}{rng.randrange(100)}@abv.bg"]
        phones = [mobile(rng)]
        tags = sorted(set(rng.sample(TAGS, rng.randrange(0, 3))))
        archived_at = updated_at if status == "archived" else None
        clients.append((
            cid, f"C{i + 1:06d}", kind, legal_name, trade_name, eik, vat, status, owner,
            phones, emails, website, None, tags, 1, created_at, updated_at, owner, owner,
            archived_at,
        ))
        domain = f"{slug}.bg" if kind == "company" else "abv.bg"
        for j in range(rng.randint(1, 5)):
            name = person(rng)
            local = translit(name).replace(" ", ".")
            contacts.append((
                uuid.UUID(int=rng.getrandbits(128), version=4), cid, name, rng.choice(POSITIONS),
                [mobile(rng)], [f"{local}@{domain}"], j == 0, None, 1,
                created_at + timedelta(seconds=j), created_at + timedelta(seconds=j),
            ))
        home = weighted(CITIES, rng, city_cum)
        for j, akind in enumerate(rng.sample(ADDRESS_KINDS, rng.randint(1, 3))):
            city = home if j == 0 or rng.random() < 0.7 else weighted(CITIES, rng, city_cum)
            lo, hi = city[2]
            addresses.append((
                uuid.UUID(int=rng.getrandbits(128), version=4), cid, akind, "BG", city[0],
                f"{rng.randint(lo, hi):04d}", f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
                j == 0 or rng.random() < 0.5, 1,
                created_at + timedelta(seconds=j), created_at + timedelta(seconds=j),
            ))
        for j in range(rng.choice((0, 1, 1, 2))):
            bank, bic, bank_name = rng.choice(BANKS)
            currency = "BGN" if j == 0 else "EUR"
            accounts.append((
                uuid.UUID(int=rng.getrandbits(128), version=4), cid, bg_iban(bank, rng), bic,
                bank_name, currency, True, 1,
                created_at + timedelta(seconds=j), created_at + timedelta(seconds=j),
            ))
    return {"clients": clients, "addresses": addresses, "contact_persons": contacts,
            "bank_accounts": accounts}


COLUMNS = {
    "clients": ("id", "code", "kind", "legal_name", "trade_name", "eik", "vat_number", "status",
                "owner_id", "phones", "emails", "website", "notes", "tags", "version",
                "created_at", "updated_at", "created_by", "updated_by", "archived_at"),
    "contact_persons": ("id", "client_id", "name", "position", "phones", "emails", "is_primary",
                        "notes", "version", "created_at", "updated_at"),
    "addresses": ("id", "client_id", "kind", "country", "city", "postal_code", "street",
                  "is_default", "version", "created_at", "updated_at"),
    "bank_accounts": ("id", "client_id", "iban", "bic", "bank_name", "currency", "is_default",
                      "version", "created_at", "updated_at"),
}


def self_check(data: dict[str, list[tuple]]) -> None:
    """Run a sample of the generated values through the service's own validators."""
    from crm_common.identifiers import (
        normalize_eik,
        normalize_email,
        normalize_iban,
        normalize_phone,
        normalize_postal_code,
        normalize_vat,
    )
    rng = random.Random(1)
    for row in rng.sample(data["clients"], min(200, len(data["clients"]))):
        if row[5]:
            assert normalize_eik(row[5]) == row[5], row
        if row[6]:
            assert normalize_vat(row[6]) == row[6], row
        assert normalize_phone(row[9][0]) == row[9][0], row
        normalize_email(row[10][0])
    for row in rng.sample(data["contact_persons"], min(200, len(data["contact_persons"]))):
        assert normalize_phone(row[4][0]) == row[4][0], row
        normalize_email(row[5][0])
    for row in rng.sample(data["addresses"], min(200, len(data["addresses"]))):
        assert normalize_postal_code(row[5], "BG") == row[5], row
    for row in rng.sample(data["bank_accounts"], min(200, len(data["bank_accounts"]))):
        assert normalize_iban(row[2]) == row[2], row


# --------------------------------------------------------------------- load it

def recreate(database_url: str) -> None:
    from crm_common.db import drop_database

    asyncio.run(drop_database(database_url))
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "crm_clients.cli", "migrate"], env=env, check=True,
                   cwd=ROOT, timeout=300)


async def copy_in(database_url: str, data: dict[str, list[tuple]], count: int) -> dict[str, int]:
    url = make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        async with conn.transaction():
            for table in ("clients", "contact_persons", "addresses", "bank_accounts"):
                await conn.copy_records_to_table(table, records=data[table],
                                                 columns=list(COLUMNS[table]))
            await conn.execute("SELECT setval('client_code_seq', $1)", max(count, 1))
            # the search documents, as the service's handlers maintain them (migration 0002)
            await conn.execute("SELECT crm_refresh_search(id) FROM clients")
        await conn.execute("VACUUM ANALYZE")
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in ("clients", "contact_persons", "addresses", "bank_accounts", "history")}
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help=f"SQLAlchemy URL of the bench database (default {DEFAULT_URL})")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 1_000_000:
        parser.error("--count must be 1..1000000")
    name = make_url(args.database_url).database or ""
    if "bench" not in name:
        parser.error(f"refusing to drop {name!r}: the database name must contain 'bench'")
    t0 = time.perf_counter()
    recreate(args.database_url)
    t1 = time.perf_counter()
    data = generate(args.count, args.seed)
    self_check(data)
    t2 = time.perf_counter()
    counts = asyncio.run(copy_in(args.database_url, data, args.count))
    t3 = time.perf_counter()
    for table, n in counts.items():
        print(f"{table:16s} {n:>9,d}")
    print(f"recreate+migrate {t1 - t0:6.1f} s, generate {t2 - t1:6.1f} s, "
          f"COPY+ANALYZE {t3 - t2:6.1f} s, total {t3 - t0:6.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
