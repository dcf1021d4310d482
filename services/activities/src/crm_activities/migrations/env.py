"""Alembic environment of the activities database (see crm_common.migrations)."""

from crm_activities.adapters.tables import metadata
from crm_common.migrations import run_environment

run_environment(metadata)
