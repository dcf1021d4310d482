"""/readyz reports MongoDB beside PostgreSQL (RabbitMQ is in /healthz/details, not readiness):
without its file store the service takes no traffic."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn

from crm_common.settings import Settings
from crm_dev import procs
from crm_tasks.app import create_app
from crm_tasks.config import TasksSettings

from .conftest import Service, service_environ

pytestmark = pytest.mark.integration


async def test_readiness_reports_mongodb(service: Service, keys: tuple[str, str],
                                         exchange_name: str, mongodb_database: str) -> None:
    body = (await service.client.get(f"{service.url}/readyz")).json()
    assert body["checks"]["mongodb"] is True and body["status"] == "ready"

    port, nobody = procs.free_port(), procs.free_port()
    environ = {**service_environ(
        port, service.settings.database_url, keys[1], exchange_name,
        f"mongodb://127.0.0.1:{nobody}/?serverSelectionTimeoutMS=300", mongodb_database),
        "RUN_RELAY": "false", "RUN_CONSUMERS": "false"}
    settings = Settings.from_env("tasks", port, environ=environ)
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings, TasksSettings.from_env(settings, environ)), host="127.0.0.1",
        port=port, log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        response = await service.client.get(f"http://127.0.0.1:{port}/readyz")
        assert response.status_code == 503
        assert response.json()["checks"] == {"database": True, "mongodb": False}
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
