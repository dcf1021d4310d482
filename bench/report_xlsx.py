"""A 100,000-row report as XLSX (issue 13: ≤ 10 s, memory flat in rows): peak RSS and time at
10,000 and at 100,000 rows, through the real path.

    uv run python bench/report_xlsx.py [--sizes 10000 100000] [--drop]

Two sources, each size in a child process of its own (so that its peak RSS is its own):

- ``engine``: the report engine over the reporting read model — a bench database
  ``crm_analytics_bench_reports`` (the service's migrations) with 100,000 clients in
  ``rm_clients`` (Cyrillic names, cities, groups, owners), a listing of the ``clients`` dataset
  (8 columns, text and dates) run as a manager with ``limit`` = size, rows streamed from a
  server-side cursor (``report_table``) into ``write_xlsx``;
- ``synthetic``: rows made in the process (8 columns: Cyrillic text, money, percent, integer,
  date, timestamp), the renderer alone, so that the formats of every kind are in the file.

Each child prints wall time, CPU time (user + system of the process: the renderer's worker
threads included), its RSS once everything is imported (``VmRSS``) and its peak RSS
(``VmHWM``) before and after writing; the parent prints a
Markdown table. The file is written to a temporary directory and deleted (the upload to GridFS
that follows in the service streams it in 256 KB chunks and is not measured here). The bench
database is kept for re-runs unless ``--drop``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import text

DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_analytics_bench_reports"
ROWS = 100_000
FILL = """
INSERT INTO rm_client_groups (group_id, code, name, archived, version)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(g), 12, '0'))::uuid, 'G' || g,
       (ARRAY['Аптечни вериги', 'Хранителни магазини', 'Дистрибутори', 'Хотели'])[g], false, 1
FROM generate_series(1, 4) g;
INSERT INTO rm_clients (client_id, code, name, kind, status, owner_id, group_id, city, created_at,
                        version)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
       'C' || lpad(c::text, 6, '0'),
       (ARRAY['Родопи', 'Мегафарм', 'Тракия', 'Булмаркет', 'Странджа'])[1 + c % 5]
         || ' Дистрибуция ' || c || ' ЕООД',
       'company', 'active', NULL,
       ('00000000-0000-4000-9000-' || lpad(to_hex(1 + c % 4), 12, '0'))::uuid,
       (ARRAY['София', 'Пловдив', 'Варна', 'Бургас', 'Русе'])[1 + c % 5],
       now() - (c % 1000) * interval '1 day', 1
FROM generate_series(1, {rows}) c;
ANALYZE rm_clients;
"""


async def prepare() -> None:
    from crm_analytics.cli import migrate
    from crm_common.db import make_engine
    await asyncio.to_thread(migrate, DATABASE)
    engine = make_engine(DATABASE)
    try:
        async with engine.begin() as conn:
            have = await conn.scalar(text("SELECT count(*) FROM rm_clients"))
            if have != ROWS:
                await conn.execute(text("TRUNCATE rm_clients, rm_client_groups"))
                for statement in FILL.format(rows=ROWS).split(";"):
                    if statement.strip():
                        await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak so far) of this process, in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _synthetic(size: int) -> Any:
    from crm_analytics.reports.table import Column, ReportTable

    async def rows() -> AsyncIterator[Sequence[Any]]:
        day = dt.date(2026, 1, 1)
        moment = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
        for i in range(size):
            yield (f"Мегафарм Дистрибуция {i} ЕООД", f"C{i:06d}", Decimal(i % 100_000) / 7,
                   Decimal(i % 997) / 10, i % 5000, day + dt.timedelta(days=i % 365),
                   moment + dt.timedelta(minutes=i), "Пловдив" if i % 2 else "София")

    columns = [Column("client", "Клиент", "text"), Column("code", "Код", "text"),
               Column("turnover", "Оборот", "money"), Column("share", "Дял", "percent"),
               Column("invoices", "Фактури", "integer"), Column("day", "Дата", "date"),
               Column("at", "Кога", "datetime"), Column("city", "Град", "text")]
    return ReportTable(title="Бенчмарк", columns=columns, rows=rows(),
                       data_as_of=dt.datetime.now(dt.UTC), totals=None)


async def child(source: str, size: int) -> dict[str, Any]:
    from crm_analytics.reports.definition import Definition, check
    from crm_analytics.reports.engine import report_table
    from crm_analytics.reports.files.xlsx import write_xlsx
    from crm_analytics.service_layer.visibility import Access
    from crm_common.auth import Principal
    from crm_common.db import make_engine

    before, peak_before = _status_mb("VmRSS"), _status_mb("VmHWM")
    path = os.path.join(tempfile.mkdtemp(prefix="crm-bench-xlsx-"), "r.xlsx")
    cpu0, t0 = _cpu(), time.perf_counter()
    if source == "synthetic":
        count = await write_xlsx(await _synthetic(size), path, max_rows=size)
    else:
        engine = make_engine(DATABASE)
        access = Access(Principal(uuid.uuid4(), frozenset({"manager"})),
                        dt.datetime.now(dt.UTC), dt.timedelta(hours=24))
        plan = check(Definition(dataset="clients", columns=(
            "client", "client_code", "client_group", "city", "client_status", "kind",
            "created_on", "owner"), limit=size), dt.date.today())
        try:
            async with report_table(engine, plan, access) as table:
                count = await write_xlsx(table, path, max_rows=size)
        finally:
            await engine.dispose()
    seconds = time.perf_counter() - t0
    size_mb = os.stat(path).st_size / 2**20  # noqa: ASYNC240 - one stat of a local file
    result = {"source": source, "rows": count, "seconds": round(seconds, 2),
              "cpu_seconds": round(_cpu() - cpu0, 2), "rss_before_mb": round(before, 1),
              "peak_before_mb": round(peak_before, 1),
              "peak_rss_mb": round(_status_mb("VmHWM"), 1), "file_mb": round(size_mb, 2)}
    os.unlink(path)  # noqa: ASYNC230
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--sources", nargs="+", default=["engine", "synthetic"])
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child[0], int(args.child[1])))))
        return
    if "engine" in args.sources:
        asyncio.run(prepare())
    print("| source | rows | wall s | CPU s | RSS before writing MB | peak RSS MB (before → "
          "after writing) | file MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for source in args.sources:
        for size in args.sizes:
            out = subprocess.run([sys.executable, __file__, "--child", source, str(size)],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"| {r['source']} | {r['rows']:,} | {r['seconds']} | {r['cpu_seconds']} | "
                  f"{r['rss_before_mb']} | {r['peak_before_mb']} → {r['peak_rss_mb']} | "
                  f"{r['file_mb']} |", flush=True)
    if args.drop:
        from crm_common.db import drop_database
        asyncio.run(drop_database(DATABASE))


if __name__ == "__main__":
    main()
