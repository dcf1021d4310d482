"""The daily contract job: renew, expire, warn once per threshold; idempotent; one replica at a
time; runnable on demand (admins) and from the command line.

The job acts on every contract of the database, so these tests use validity dates in the 1990s
that no other test uses, and inject "today" accordingly."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from crm_clients import cli
from crm_clients.service_layer.contract_jobs import LOCK_KEY

from .conftest import EventTap, Service
from .test_contracts_api import (
    ACTIVATE,
    GET_CONTRACT,
    SUSPEND,
    UPDATE_CONTRACT,
    act,
    create_contract,
    new_client,
)

pytestmark = pytest.mark.integration

RUN = """mutation($input: RunContractMaintenanceInput) { runContractMaintenance(input: $input) {
  today renewed expired notices skipped userErrors { field code message } } }"""


async def _in_force_in_the_past(service: Service, client_id: str, valid_until: str,
                                *, suspend: bool = False, **extra: Any) -> str:
    """Activation refuses contracts that have already ended; a manager may move the end later."""
    manager = service.token("manager")
    c = await create_contract(service, client_id, manager, validFrom="1990-01-01", **extra)
    assert (await act(service, manager, ACTIVATE, id=c["id"], version=1))["userErrors"] == []
    moved = await act(service, manager, UPDATE_CONTRACT, id=c["id"], version=2,
                      validUntil=valid_until)
    assert moved["userErrors"] == [], moved
    if suspend:
        assert (await act(service, manager, SUSPEND, id=c["id"], version=3))["userErrors"] == []
    return str(c["id"])


async def _run(service: Service, today: str, role: str = "admin") -> dict[str, Any]:
    data = await service.data(service.token(role), RUN, {"input": {"today": today}})
    return dict(data["runContractMaintenance"])


async def _read(service: Service, cid: str) -> dict[str, Any]:
    data = await service.data(service.token("manager"), GET_CONTRACT, {"id": cid, "first": 100})
    return dict(data["contract"])


async def test_the_job_renews_expires_and_warns_once(service: Service, tap: EventTap) -> None:
    client_id = await new_client(service)
    renewing = await _in_force_in_the_past(service, client_id, "1991-12-31", autoRenew=True,
                                           renewalTermMonths=12)
    ending = await _in_force_in_the_past(service, client_id, "1991-12-31")
    paused = await _in_force_in_the_past(service, client_id, "1991-12-31", suspend=True,
                                         autoRenew=True)
    soon = await _in_force_in_the_past(service, client_id, "1992-01-20")
    draft = str((await create_contract(service, client_id, validFrom="1990-01-01",
                                       validUntil="1991-06-30"))["id"])
    before = {cid: await _read(service, cid) for cid in (renewing, ending, paused, soon, draft)}

    refused = await _run(service, "1992-01-01", role="manager")
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(["input"], "FORBIDDEN")]
    assert {cid: await _read(service, cid) for cid in before} == before

    first = await _run(service, "1992-01-01")
    assert first == {"today": "1992-01-01", "renewed": 1, "expired": 2, "notices": 1,
                     "skipped": False, "userErrors": []}
    after = {cid: await _read(service, cid) for cid in before}
    assert after[renewing]["status"] == "ACTIVE"
    assert after[renewing]["validUntil"] == "1992-12-31"
    assert after[renewing]["history"]["edges"][0]["node"]["operation"] == "renew"
    assert after[renewing]["history"]["edges"][0]["node"]["changes"] == {
        "validUntil": ["1991-12-31", "1992-12-31"]}
    assert after[ending]["status"] == "EXPIRED"
    assert after[paused]["status"] == "EXPIRED"  # a suspended contract does not renew
    assert after[soon]["status"] == "ACTIVE"
    assert after[draft] == before[draft]  # a draft was never in force: it does not expire
    for cid in (renewing, ending, paused):
        assert after[cid]["version"] == before[cid]["version"] + 1

    second = await _run(service, "1992-01-01")  # the same day again: nothing more
    assert (second["renewed"], second["expired"], second["notices"]) == (0, 0, 0)
    assert {cid: await _read(service, cid) for cid in before} == after

    # later: the renewed contract nears its new end (warned again), the other one ends
    third = await _run(service, "1992-12-01")
    assert (third["renewed"], third["expired"], third["notices"]) == (0, 1, 1)
    assert (await _read(service, soon))["status"] == "EXPIRED"

    def about(cid: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in tap.received if e["subject"] == cid
                and e["type"] == f"crm.clients.contract.{kind}"]

    await tap.wait_for(lambda e: e["subject"] == soon
                       and e["type"] == "crm.clients.contract.expired")
    await asyncio.sleep(0.5)
    (renewed,) = about(renewing, "renewed")
    assert renewed["data"]["previousValidUntil"] == "1991-12-31"
    assert renewed["data"]["contract"]["validUntil"] == "1992-12-31"
    (warning,) = about(renewing, "expiring")
    assert (warning["data"]["daysAhead"], warning["data"]["daysLeft"]) == (30, 30)
    (early,) = about(soon, "expiring")
    assert (early["data"]["daysAhead"], early["data"]["daysLeft"]) == (30, 19)
    assert [e["data"]["previousStatus"] for e in about(paused, "expired")] == ["suspended"]
    assert len(about(ending, "expired")) == 1 and about(draft, "expired") == []
    assert "system" not in {e["actorid"] for e in (renewed, warning, early)}  # run by an admin
    assert not tap.invalid


async def test_only_one_process_runs_the_job_at_a_time(service: Service) -> None:
    client_id = await new_client(service)
    ending = await _in_force_in_the_past(service, client_id, "1994-03-31")
    dsn = service.settings.database_url.replace("postgresql+asyncpg", "postgresql")
    other = await asyncpg.connect(dsn)  # another replica, in the middle of its run
    try:
        await other.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        skipped = await _run(service, "1994-04-01")
        assert skipped["skipped"] is True and skipped["expired"] == 0
        assert (await _read(service, ending))["status"] == "ACTIVE"
    finally:
        await other.close()
    done = await _run(service, "1994-04-01")
    assert done["skipped"] is False and done["expired"] == 1
    assert (await _read(service, ending))["status"] == "EXPIRED"


async def test_the_command_line_runs_the_job(service: Service, tap: EventTap,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    client_id = await new_client(service)
    renewing = await _in_force_in_the_past(service, client_id, "1995-01-31", autoRenew=True,
                                           renewalTermMonths=1)
    monkeypatch.setenv("DATABASE_URL", service.settings.database_url)
    monkeypatch.setenv("CONTRACT_EXPIRY_NOTICE_DAYS", "7")
    code = await asyncio.to_thread(cli.main, ["contracts-job", "--today", "1995-03-01"])
    assert code == 0
    read = await _read(service, renewing)
    assert read["validUntil"] == "1995-03-31"  # two monthly terms, from the 31st
    assert read["history"]["edges"][0]["node"]["actorId"] is None  # the system
    event = (await tap.wait_for(lambda e: e["subject"] == renewing
                                and e["type"] == "crm.clients.contract.renewed"))[0]
    assert event["actorid"] == "system"
    with pytest.raises(SystemExit):
        cli.main(["contracts-job", "--today", "1995-02-30"])
    assert uuid.UUID(read["id"])


async def test_the_service_runs_the_job_in_the_background(service: Service) -> None:
    from crm_clients.service_layer.contract_jobs import JobSettings, contract_job_lifespan
    from crm_common.db import make_engine, make_reader, make_session_factory
    from crm_common.service import Runtime

    client_id = await new_client(service)
    ending = await _in_force_in_the_past(service, client_id, "1996-06-30")
    engine = make_engine(service.settings.database_url, pool_size=2)
    runtime = Runtime(service.settings, engine, make_session_factory(engine), make_reader(engine))
    try:
        async with contract_job_lifespan(runtime, JobSettings(enabled=False)):
            await asyncio.sleep(0.5)
        assert (await _read(service, ending))["status"] == "ACTIVE"
        async with contract_job_lifespan(runtime, JobSettings()):  # runs at start-up, today
            for _ in range(100):
                if (await _read(service, ending))["status"] == "EXPIRED":
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the background job did not run at start-up")
    finally:
        await engine.dispose()
