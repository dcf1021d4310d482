"""The Alembic migrations build exactly the schema the code describes, and go down and up again."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

import crm_clients
from crm_clients.adapters.tables import metadata
from crm_common.testing import check_migrations

pytestmark = pytest.mark.integration

MIGRATIONS = Path(crm_clients.__file__).resolve().parent / "migrations"


async def test_migrations_match_the_tables_and_downgrade_cleanly() -> None:
    await check_migrations("clients", MIGRATIONS, metadata)


async def test_trigram_indexes_keep_a_small_pending_list(database_url: str) -> None:
    """Every search reads a GIN index's whole pending list: the three trigram indexes cap it at
    256 kB (a 4 MB list made the similar-name warning ~4x slower on the bench data)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await conn.fetch(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY($1::text[])",
            ["ix_clients_search", "ix_clients_search_names", "ix_clients_name_trgm"])
    finally:
        await conn.close()
    assert {r["relname"]: r["reloptions"] for r in rows} == {
        name: ["gin_pending_list_limit=256"]
        for name in ("ix_clients_search", "ix_clients_search_names", "ix_clients_name_trgm")}
