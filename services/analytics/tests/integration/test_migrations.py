"""The Alembic migrations build exactly the schema the code describes, and go down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest

import crm_analytics
from crm_analytics.adapters.tables import metadata
from crm_common.testing import check_migrations

pytestmark = pytest.mark.integration

MIGRATIONS = Path(crm_analytics.__file__).resolve().parent / "migrations"


async def test_migrations_match_the_tables_and_downgrade_cleanly() -> None:
    await check_migrations("analytics", MIGRATIONS, metadata)
