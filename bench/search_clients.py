"""Free-text client search on a bench database: latency per kind of term, and the plan.

    uv run python bench/generate_clients.py            # once: 100,000 clients in crm_clients_bench
    uv run python bench/search_clients.py [--database-url URL] [--repeat 200]

Calls the service's own query function (``client_queries.list_clients`` with a search term, as the
``clients(filter: {search})`` resolver does) for a manager (sees everything, so every match is a
candidate) and prints p50/p95/p99 per term, then ``EXPLAIN ANALYZE`` of one statement, which
should use the trigram index ``ix_clients_search``. The terms are taken from the data itself:
a company name word, the same with a typo, its Latin transliteration, a contact person's
surname, an EIK, the middle of a phone number, and a word that matches nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import timedelta

from sqlalchemy import event, text

from crm_clients.service_layer import client_queries
from crm_clients.service_layer.search import normalise_term
from crm_common.auth import Principal
from crm_common.db import make_engine, make_reader

#: the access rule's grace period at ACCESS_GRACE_HOURS' default
GRACE = timedelta(hours=24)

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_bench"


def _typo(word: str) -> str:
    """Drop one letter from the middle: a typical typing slip."""
    return word[: len(word) // 2] + word[len(word) // 2 + 1:]


async def _terms(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url, pool_size=1)
    async with engine.connect() as conn:
        name, eik, phone = (await conn.execute(text(
            "SELECT legal_name, eik, phones[1] FROM clients WHERE eik IS NOT NULL "
            "AND cardinality(phones) > 0 ORDER BY code OFFSET 4242 LIMIT 1"))).one()
        contact = (await conn.execute(text(
            "SELECT name FROM contact_persons ORDER BY id LIMIT 1 OFFSET 777"))).scalar_one()
        translit = (await conn.execute(text("SELECT crm_translit_bg(lower(:w))"),
                                       {"w": name.split()[0]})).scalar_one()
    await engine.dispose()
    words = name.split()
    return [
        ("two words of a company name", f"{words[0]} {words[1]}"),
        ("the same with a typo", f"{words[0]} {_typo(words[1])}"),
        ("one name word in Latin", translit),
        ("a contact person's full name", contact),
        ("an EIK", eik),
        ("six digits from the middle of a phone", phone[-7:-1]),
        ("nothing matches", "жълтопаветник"),
    ]


async def run(database_url: str, repeat: int) -> None:
    terms = await _terms(database_url)
    engine = make_engine(database_url, pool_size=2)
    reader = make_reader(engine)
    manager = Principal(uuid.uuid4(), frozenset({"manager"}))
    async with engine.connect() as conn:
        total = (await conn.execute(text("SELECT count(*) FROM clients"))).scalar_one()
    print(f"{total:,} clients; {repeat} searches per term, first page of 20, manager\n")
    print(f"{'term':42s} {'hits':>5s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
    for title, raw in terms:
        term = normalise_term(raw)
        flt = client_queries.ClientFilter(search=term)
        timings = []
        page = await client_queries.list_clients(reader, manager, flt, first=20, after=None,
                                          grace=GRACE)
        for _ in range(repeat):
            t0 = time.perf_counter()
            await client_queries.list_clients(reader, manager, flt, first=20, after=None,
                                       grace=GRACE)
            timings.append((time.perf_counter() - t0) * 1000)
        q = statistics.quantiles(timings, n=100)
        print(f"{title + ' (' + raw[:18] + ')':42s} {len(page.rows):>5d} "
              f"{q[49]:8.2f} {q[94]:8.2f} {q[98]:8.2f}")
    captured: list[tuple[str, object]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(_c, _cur, statement, parameters, _ctx, _many):  # noqa: ANN001
        captured.append((statement, parameters))

    await client_queries.list_clients(reader, manager, client_queries.ClientFilter(
        search=normalise_term(terms[1][1])), first=20, after=None, grace=GRACE)
    statement, params = captured[-1]
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        plan = await raw.driver_connection.fetch(  # type: ignore[union-attr]
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, *list(params))  # type: ignore[arg-type]
    print(f"\n=== plan of '{terms[1][0]}'\n" + "\n".join(r[0] for r in plan))
    await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
