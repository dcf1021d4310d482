"""audit_line_tasks: the task each missing or damaged inventory audit line raised

Revision ID: 0002_tasks_audit_lines
Revises: 0001_tasks
Create Date: 2026-12-07 16:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_tasks_audit_lines'
down_revision = '0001_tasks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_line_tasks',
    sa.Column('audit_id', sa.UUID(), nullable=False),
    sa.Column('asset_id', sa.UUID(), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], deferrable=True, initially='DEFERRED'),
    sa.PrimaryKeyConstraint('audit_id', 'asset_id', name='pk_audit_line_tasks')
    )


def downgrade() -> None:
    op.drop_table('audit_line_tasks')
