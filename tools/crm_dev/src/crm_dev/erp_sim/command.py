"""``./crm erp-sim`` and the ERP step of ``./crm seed``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from crm_dev.erp_sim.generate import SimConfig, Simulation
from crm_dev.erp_sim.sinks import DEFAULT_AMQP_URL, DEFAULT_EXCHANGE, publish, write_ndjson

CLIENT_IDS = """
query ErpSimClients($after: String) {
  clients(first: 100, after: $after) {
    edges { node { id eik } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


class CrmUnavailable(RuntimeError):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write NDJSON (one envelope a line; .gz compresses) instead of "
                             "publishing")
    parser.add_argument("--months", type=int, default=24,
                        help="months of history before the current month (default 24)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--clients", type=int, metavar="N",
                        help="N synthetic clients (valid EIKs) instead of the seeded ones")
    parser.add_argument("--orders-per-month", type=float, default=4.0, metavar="X",
                        help="mean orders per client and month (default 4)")
    parser.add_argument("--lines-per-order", type=float, default=8.0, metavar="X",
                        help="mean lines per order (default 8)")
    parser.add_argument("--until", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the history ends the day before (default today)")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL, help="RabbitMQ URL")
    parser.add_argument("--exchange", default=DEFAULT_EXCHANGE,
                        help=f"topic exchange to publish to (default {DEFAULT_EXCHANGE})")
    parser.add_argument("--url", default=None,
                        help="the CRM's GraphQL endpoint, for the seeded clients' ids "
                             "(default the gateway); unreachable: the ERP knows only EIKs")


def fetch_crm_ids(root: Path, url: str, *, timeout: float = 10.0) -> dict[str, str]:
    """EIK → CRM client id of every client the API shows a manager (raises CrmUnavailable)."""
    from crm_dev import seed_data
    from crm_dev.tokens import token

    manager = seed_data.MANAGER
    bearer = token(root, roles=["manager"], employee=manager["id"], name=manager["name"])
    headers = {"Authorization": f"Bearer {bearer}", "x-correlation-id": "crm-dev-erp-sim"}
    ids: dict[str, str] = {}
    after: str | None = None
    with httpx.Client(timeout=timeout, headers=headers) as http:
        for _ in range(1000):
            try:
                response = http.post(url, json={"query": CLIENT_IDS,
                                                "variables": {"after": after}})
                body: Any = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise CrmUnavailable(f"{url}: {exc.__class__.__name__}: {exc}") from None
            page = ((body or {}).get("data") or {}).get("clients")
            if not page:
                raise CrmUnavailable(f"{url}: {str(body.get('errors') or body)[:300]}")
            for edge in page["edges"]:
                if edge["node"].get("eik"):
                    ids[edge["node"]["eik"]] = edge["node"]["id"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    return ids


def _progress(n: int, seconds: float) -> None:
    print(f"  {n:,} messages, {n / seconds:,.0f}/s", file=sys.stderr, flush=True)


def run(root: Path, args: argparse.Namespace) -> int:
    crm_ids: Mapping[str, str] = {}
    if args.clients is None:
        from crm_dev import seed

        url = args.url or seed.DEFAULT_URL
        try:
            crm_ids = fetch_crm_ids(root, url)
        except CrmUnavailable as exc:
            print(f"erp-sim: the CRM's client ids are unknown ({exc}); the ERP knows only EIKs",
                  file=sys.stderr)
    cfg = SimConfig(seed=args.seed, months=args.months, clients=args.clients, crm_ids=crm_ids,
                    orders_per_month=args.orders_per_month, lines_per_order=args.lines_per_order,
                    **({"until": args.until} if args.until else {}))
    return generate(cfg, out=args.out, amqp_url=args.amqp_url, exchange=args.exchange)


def after_seed(root: Path, url: str, *, amqp_url: str = DEFAULT_AMQP_URL,
               exchange: str = DEFAULT_EXCHANGE, months: int = 24) -> int:
    """The last step of ``./crm seed``: publish the ERP's history for the clients just seeded
    (their CRM ids from the API, so that the ERP knows some of them by id)."""
    try:
        crm_ids = fetch_crm_ids(root, url)
    except CrmUnavailable as exc:
        print(f"erp-sim: cannot read the clients back ({exc}); the ERP knows only EIKs",
              file=sys.stderr)
        crm_ids = {}
    return generate(SimConfig(crm_ids=crm_ids, months=months), amqp_url=amqp_url,
                    exchange=exchange)


def generate(cfg: SimConfig, *, out: Path | None = None, amqp_url: str = DEFAULT_AMQP_URL,
             exchange: str = DEFAULT_EXCHANGE) -> int:
    """Run the simulation into ``out`` (NDJSON) or onto the exchange; print the summary."""
    sim = Simulation(cfg)
    period = f"{cfg.start} – {cfg.until - dt.timedelta(days=1)}"
    if out is not None:
        result = write_ndjson(out, sim, progress=_progress)
        where = f"written to {out}"
    else:
        try:
            result = asyncio.run(publish(sim, amqp_url=amqp_url, exchange=exchange,
                                         progress=_progress))
        except Exception as exc:  # unreachable broker, refused login, a nack: say so, exit 1
            print(f"erp-sim: cannot publish to {amqp_url}: {exc.__class__.__name__}: {exc}",
                  file=sys.stderr)
            return 1
        where = f"published to {exchange}"
        if result.unroutable:
            where += f" ({result.unroutable} unroutable: no queue is bound to {exchange} yet)"
    print(f"erp-sim: {sim.stats.line()}, {period}; {where} in {result.seconds:.1f} s "
          f"({result.per_second:,.0f} messages/s, "
          f"{sim.stats.invoice_lines / result.seconds:,.0f} invoice lines/s)")
    return 0
