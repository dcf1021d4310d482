"""the next audit due of an asset's placement (the inventory's own schedule)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('rm_assets', sa.Column('next_audit_due', sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column('rm_assets', 'next_audit_due')
