"""Alembic environment of the tasks database (see crm_common.migrations)."""

from crm_common.migrations import run_environment
from crm_tasks.adapters.tables import metadata

run_environment(metadata)
