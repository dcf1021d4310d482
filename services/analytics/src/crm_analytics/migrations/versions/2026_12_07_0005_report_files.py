"""report files (the kit's attachment table, crm_common.attachments.tables) and the clients'
pricing tiers (for the client brief)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 16:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_files',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('requested_by', sa.UUID(), nullable=False),
        sa.Column('file_id', sa.Text(), nullable=False),
        sa.Column('file_name', sa.Text(), nullable=False),
        sa.Column('declared_type', sa.Text(), nullable=True),
        sa.Column('detected_type', sa.Text(), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('sha256', sa.Text(), nullable=True),
        sa.Column('status', sa.Text(), nullable=False),
        sa.Column('file_state', sa.Text(), nullable=False),
        sa.Column('created_by', sa.UUID(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('upload_expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('upload_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removed_by', sa.UUID(), nullable=True),
        sa.Column('failure', sa.Text(), nullable=True),
        sa.Column('delete_attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_delete_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_delete_error', sa.Text(), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('format', sa.Text(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=True),
        sa.Column('row_count', sa.Integer(), nullable=True),
        sa.Column('error_code', sa.Text(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('report', 'client_brief')", name='ck_report_files_kind'),
        sa.CheckConstraint("format IN ('csv', 'xlsx', 'pdf')", name='ck_report_files_format'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('file_id'),
    )
    op.create_index('ix_report_files_requester', 'report_files', ['requested_by', 'created_at'])
    op.create_index('ix_report_files_sweep', 'report_files', ['file_state', 'next_delete_at'],
                    postgresql_where=sa.text("file_state IN ('writing', 'to_delete')"))
    op.create_index('ix_report_files_pending', 'report_files', ['upload_expires_at'],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_report_files_expiry', 'report_files', ['expires_at'],
                    postgresql_where=sa.text("status = 'stored'"))


    op.create_table(
        'client_tiers',
        sa.Column('client_id', sa.UUID(), nullable=False),
        sa.Column('rule_id', sa.UUID(), nullable=False),
        sa.Column('rule_code', sa.Text(), nullable=False),
        sa.Column('window', sa.Text(), nullable=False),
        sa.Column('metric', sa.Text(), nullable=False),
        sa.Column('product_group_code', sa.Text(), nullable=True),
        sa.Column('reached', sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column('tier', sa.Integer(), nullable=True),
        sa.Column('tier_effect', sa.Text(), nullable=True),
        sa.Column('next_threshold', sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column('next_tier_effect', sa.Text(), nullable=True),
        sa.Column('turnover_version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('client_id', 'rule_id'),
    )


def downgrade() -> None:
    op.drop_table('client_tiers')
    op.drop_table('report_files')
