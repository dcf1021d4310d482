"""Alembic environment of the pricing database (see crm_common.migrations)."""

from crm_common.migrations import run_environment
from crm_pricing.adapters.tables import metadata

run_environment(metadata)
