"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the clients list actually sends, on a bench database.

    uv run python bench/explain_list.py [--database-url URL]

The statements are captured from ``crm_clients.service_layer.client_queries.list_clients`` itself (a
``before_cursor_execute`` hook), for a manager (sees all clients) and a sales rep (own clients),
with the filters bench/load.py sends; then each is explained with its own parameters.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import event, text

from crm_clients.service_layer import client_queries
from crm_common.auth import Principal
from crm_common.db import make_engine, make_session_factory
from crm_common.graphql.cursors import encode_cursor

#: the access rule's grace period at ACCESS_GRACE_HOURS' default
GRACE = timedelta(hours=24)

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_bench"


async def run(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=2)
    captured: list[tuple[str, object]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(_conn, _cursor, statement, parameters, _context, _many):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "FROM clients" in statement:
            captured.append((statement, parameters))

    factory = make_session_factory(engine)
    async with engine.connect() as conn:
        rep = (await conn.execute(text(
            "SELECT owner_id FROM clients WHERE owner_id IS NOT NULL LIMIT 1"))).scalar_one()
        mid = (await conn.execute(text(
            "SELECT legal_name, id FROM clients ORDER BY legal_name, id "
            "OFFSET (SELECT count(*) / 2 FROM clients) LIMIT 1"))).one()
    after = encode_cursor([mid[0], str(mid[1])])
    manager = Principal(uuid.uuid4(), frozenset({"manager"}))
    sales_rep = Principal(rep, frozenset({"sales_rep"}))
    variants = [
        ("manager, status ACTIVE + city Варна, first page", manager,
         client_queries.ClientFilter(status="active", city="Варна"), None),
        ("manager, status ACTIVE + city Казанлък (rare, ~1%), first page", manager,
         client_queries.ClientFilter(status="active", city="Казанлък"), None),
        ("manager, status ACTIVE + city Пловдив, after a cursor in the middle", manager,
         client_queries.ClientFilter(status="active", city="Пловдив"), after),
        ("manager, ownerId filter, after a cursor in the middle", manager,
         client_queries.ClientFilter(owner_id=rep), after),
        ("sales rep (own clients only), no filter, first page", sales_rep,
         client_queries.ClientFilter(), None),
    ]
    for title, principal, flt, cursor in variants:
        captured.clear()
        await client_queries.list_clients(factory, principal, flt, first=20, after=cursor,
                                   grace=GRACE)
        statement, params = captured[-1]
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            args = list(params) if isinstance(params, (list, tuple)) else []
            plan = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *args)
        print(f"=== {title}\n{statement.strip()}\n-- params: {args}")
        print("\n".join(r[0] for r in plan))
        print()
    await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    asyncio.run(run(parser.parse_args().database_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
