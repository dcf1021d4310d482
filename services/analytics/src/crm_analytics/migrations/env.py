"""Alembic environment of the analytics database (see crm_common.migrations)."""

from crm_analytics.adapters.tables import metadata
from crm_common.migrations import run_environment

run_environment(metadata)
