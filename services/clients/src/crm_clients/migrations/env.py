"""Alembic environment of the clients database (see crm_common.migrations)."""

from crm_clients.adapters.tables import metadata
from crm_common.migrations import run_environment

run_environment(metadata)
