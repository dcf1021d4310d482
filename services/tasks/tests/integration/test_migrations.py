"""The Alembic migrations build exactly the schema the code describes, and go down and up again."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

import crm_tasks
from crm_common.db import drop_database
from crm_tasks.adapters.tables import metadata
from crm_tasks.cli import migrate

pytestmark = pytest.mark.integration


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(crm_tasks.__file__).resolve().parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def test_migrations_match_the_tables_and_downgrade_cleanly() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_tasks_mig_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(migrate, url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == [], f"tables.py and the migrations differ: {diff}"
        await asyncio.to_thread(command.downgrade, _config(url), "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert tables == ["alembic_version"]
        await asyncio.to_thread(command.upgrade, _config(url), "head")
        await asyncio.to_thread(migrate, url)  # a second run is a no-op
    finally:
        await engine.dispose()
        await drop_database(url)
