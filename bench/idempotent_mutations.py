"""What an Idempotency-Key costs a mutation (issue 14): ``createClient`` sent without a key,
with a fresh key each time, and the same request retried under one key (answered from the
stored outcome).

    flock /tmp/crm-bench.lock uv run python bench/idempotent_mutations.py [--requests 300]

The clients service runs in this process (uvicorn on a free loopback port, relay and consumers
off, a throw-away database ``crm_clients_bench_idem_<random>`` migrated with the service's
migrations and dropped at the end); requests go one at a time over HTTP, the modes taking
turns. Printed per mode:
this process's CPU time (service + HTTP client; PostgreSQL's own CPU is not counted) and the
wall time per request.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import uuid
from typing import Any

import httpx
import uvicorn

from crm_clients.app import create_app
from crm_clients.cli import migrate
from crm_common.db import drop_database
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.settings import Settings
from crm_dev import procs

CREATE = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id version } userErrors { code } } }"""


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def run(client: httpx.AsyncClient, url: str, token: str, n: int,
              modes: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """``n`` requests of each mode, interleaved (one of each in turn) so that the machine's
    load and the table's growth weigh on every mode alike; CPU and wall ms per request."""
    cpu = dict.fromkeys(modes, 0.0)
    wall = dict.fromkeys(modes, 0.0)
    for i in range(n):
        for mode, key_of in modes.items():
            key = key_of(i)
            headers = {"authorization": f"Bearer {token}"}
            if key:
                headers["idempotency-key"] = key
            # random names: no duplicate warnings to compute, the same work for every mode
            name = key if key and mode.startswith("retry") else uuid.uuid4().hex
            body = {"query": CREATE, "variables": {"input": {"kind": "COMPANY",
                                                             "legalName": name}}}
            c0, t0 = _cpu(), time.perf_counter()
            answer = (await client.post(url, json=body, headers=headers)).json()
            cpu[mode] += _cpu() - c0
            wall[mode] += time.perf_counter() - t0
            assert answer["data"]["createClient"]["userErrors"] == [], answer
    return {m: (cpu[m] / n * 1e3, wall[m] / n * 1e3) for m in modes}


async def main(args: Any) -> None:
    url = ("postgresql+asyncpg://postgres@127.0.0.1:5432/"
           f"crm_clients_bench_idem_{uuid.uuid4().hex[:6]}")
    await asyncio.to_thread(migrate, url)
    private, public = generate_key_pair()
    port = procs.free_port()
    settings = Settings.from_env("clients", port, environ={
        "CRM_ENV": "test", "SERVICE_PORT": str(port), "DATABASE_URL": url,
        "EVENTS_EXCHANGE": f"crm.events.bench.{uuid.uuid4().hex[:6]}", "JWT_PUBLIC_KEY": public,
        "RUN_RELAY": "false", "RUN_CONSUMERS": "false", "LOG_LEVEL": "WARNING"})
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(400):
            if server.started:
                break
            await asyncio.sleep(0.05)
        token = mint_token(private, subject=uuid.uuid4(), roles=["manager"])
        endpoint = f"http://127.0.0.1:{port}/graphql"
        same = str(uuid.uuid4())
        async with httpx.AsyncClient(timeout=30) as client:
            modes = {"no key": lambda i: None, "a new key each": lambda i: str(uuid.uuid4()),
                     "retry of one key": lambda i: same}
            await run(client, endpoint, token, 20, modes)  # warm-up
            for round_ in range(args.rounds):
                for mode, (cpu, wall) in (await run(client, endpoint, token, args.requests,
                                                    modes)).items():
                    print(f"round {round_}  {mode:16s}  CPU {cpu:5.2f} ms  wall {wall:5.2f} ms "
                          "per createClient")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
