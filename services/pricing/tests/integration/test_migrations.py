"""The Alembic migrations build exactly the schema the code describes, and go down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest

import crm_pricing
from crm_common.testing import check_migrations
from crm_pricing.adapters.tables import metadata

pytestmark = pytest.mark.integration

MIGRATIONS = Path(crm_pricing.__file__).resolve().parent / "migrations"


async def test_migrations_match_the_tables_and_downgrade_cleanly() -> None:
    await check_migrations("pricing", MIGRATIONS, metadata)
