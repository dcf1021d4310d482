"""The similar-name warning of createClient on the bench data: the same rows, and how long it
takes, with the trigram index's threshold at PostgreSQL's default (0.3) and just under the
warning's (``client_queries.similar_clients``, issue 15).

    uv run python bench/similar_names.py [--database-url URL] [--names 300]

Names: existing legal names as they are, with one letter dropped, one letter changed, the legal
form changed (ЕООД → ООД), and names of no client. For each, the warning's statement runs with
``pg_trgm.similarity_threshold`` at 0.3 (the former statement) and through ``similar_clients``;
the rows must be the same (order included). Interleaved, so that both see the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from sqlalchemy import text

from crm_clients.service_layer.client_queries import similar_clients
from crm_common.db import make_engine, make_reader

DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_morning_bench"
FORMER = text("""
SELECT id, code, legal_name, similarity(lower(legal_name), :name) AS similarity
FROM clients
WHERE lower(legal_name) % :name AND similarity(lower(legal_name), :name) >= 0.6
  AND status != 'archived'
ORDER BY similarity DESC, id LIMIT 5""")


def variants(names: list[str], rng: random.Random) -> list[str]:
    out = []
    for name in names:
        pick = rng.randrange(5)
        if pick == 0 or len(name) < 6:
            out.append(name)
        elif pick == 1:
            i = rng.randrange(1, len(name) - 1)
            out.append(name[:i] + name[i + 1:])
        elif pick == 2:
            i = rng.randrange(1, len(name) - 1)
            out.append(name[:i] + rng.choice("абвгдежзиклмнопрстуф") + name[i + 1:])
        elif pick == 3:
            out.append(name.replace("ЕООД", "ООД") if "ЕООД" in name else name + " ЕООД")
        else:
            out.append(f"Несъществуваща Фирма {rng.randrange(10**6)} АД")
    return out


async def main_async(args: argparse.Namespace) -> int:
    engine = make_engine(args.database_url, pool_size=2)
    reader = make_reader(engine)
    rng = random.Random(args.seed)
    try:
        async with reader.connect() as conn:
            names = list((await conn.execute(text(
                "SELECT legal_name FROM clients ORDER BY md5(id::text) LIMIT :n"),
                {"n": args.names})).scalars())
        tried = variants(names, rng)
        old_ms, new_ms, differ, found = [], [], 0, 0
        for name in tried:
            async with reader.connect() as conn:
                # similar_clients leaves its threshold set on the connection: PostgreSQL's default
                # back first, outside the timing
                await conn.execute(text("RESET pg_trgm.similarity_threshold"))
                started = time.perf_counter()
                old = [tuple(r) for r in await conn.execute(FORMER, {"name": name.lower()})]
                old_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            new = [(r["id"], r["code"], r["legal_name"], r["similarity"])
                   for r in await similar_clients(reader, name)]
            new_ms.append((time.perf_counter() - started) * 1000)
            found += len(new)
            if old != new:
                differ += 1
                print(f"DIFFERENT for {name!r}:\n  0.3:  {old}\n  now:  {new}")
        print(f"{len(tried)} names, {found} warnings in all, {differ} with different rows")
        for label, ms in (("threshold 0.3 (former)", old_ms), ("similar_clients", new_ms)):
            ms.sort()
            print(f"{label:24s} p50 {statistics.median(ms):6.2f} ms  "
                  f"p90 {ms[int(len(ms) * 0.9)]:6.2f} ms  mean {statistics.fmean(ms):6.2f} ms")
        print(f"ratio of means: {statistics.fmean(old_ms) / statistics.fmean(new_ms):.2f}×")
        return 1 if differ else 0
    finally:
        await engine.dispose()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--database-url", default=DEFAULT)
    p.add_argument("--names", type=int, default=300)
    p.add_argument("--seed", type=int, default=3)
    return asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
