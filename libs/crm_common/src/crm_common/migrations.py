"""Alembic, the same way for every service: each has ``<package>/migrations`` with date-prefixed
revision files, and an ``env.py`` that only names its metadata::

    from crm_common.migrations import run_environment
    from crm_x.adapters.tables import metadata
    run_environment(metadata)
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from crm_common.db import create_database_if_missing


def alembic_config(database_url: str, script_location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(database_url: str, script_location: Path) -> None:
    """Create the database if missing and migrate it to head (``crm-<service> migrate``)."""
    asyncio.run(create_database_if_missing(database_url))
    command.upgrade(alembic_config(database_url, script_location), "head")


def run_environment(metadata: sa.MetaData) -> None:
    """The body of a service's ``migrations/env.py``: online through the async engine, or
    offline (``--sql``) as literal SQL."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Any) -> None:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        engine = create_async_engine(str(url))
        async with engine.connect() as conn:
            await conn.run_sync(run)
        await engine.dispose()

    asyncio.run(online())
