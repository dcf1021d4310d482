"""idempotency keys: the stored outcome of each mutation sent with an Idempotency-Key (issue 14)

The kit's table (``crm_common.idempotency``), the same in every service: one row per principal,
key and mutation field, kept 24 hours, written in the transaction of the change it answers.

Revision ID: tasks_idempotency
Revises: 0002_tasks_audit_lines
Create Date: 2026-12-07 17:00:00
"""
from crm_common.idempotency import create_table_in_migration, drop_table_in_migration

revision = 'tasks_idempotency'
down_revision = '0002_tasks_audit_lines'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table_in_migration()


def downgrade() -> None:
    drop_table_in_migration()
