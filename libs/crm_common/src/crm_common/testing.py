"""Checks every service's test suite runs the same way (imported by tests, not by services)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from crm_common.db import drop_database
from crm_common.migrations import alembic_config, upgrade


async def check_migrations(service: str, migrations: Path, metadata: sa.MetaData) -> None:
    """On a fresh database: the migrations build exactly the tables the code describes, go down
    to nothing and up again, and a second upgrade is a no-op. Raises ``AssertionError``."""
    url = (f"postgresql+asyncpg://postgres@127.0.0.1:5432/"
           f"crm_{service}_mig_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url, migrations)
    await asyncio.to_thread(upgrade, url, migrations)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == [], f"tables.py and the migrations differ: {diff}"
        await asyncio.to_thread(command.downgrade, config, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert tables == ["alembic_version"], f"left after downgrading to base: {tables}"
        await asyncio.to_thread(command.upgrade, config, "head")
        await asyncio.to_thread(upgrade, url, migrations)  # a second run is a no-op
    finally:
        await engine.dispose()
        await drop_database(url)
