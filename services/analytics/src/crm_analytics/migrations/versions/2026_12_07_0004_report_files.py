"""report files

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07 16:40:00

(Revises 0002 on the branch ``report-files``; once merged after ``report-model``'s 0003, this
revision follows 0003.)
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_files',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('format', sa.Text(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('file_name', sa.Text(), nullable=False),
        sa.Column('requested_by', sa.UUID(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=True),
        sa.Column('status', sa.Text(), nullable=False),
        sa.Column('file_id', sa.Text(), nullable=False),
        sa.Column('file_state', sa.Text(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('sha256', sa.Text(), nullable=True),
        sa.Column('row_count', sa.Integer(), nullable=True),
        sa.Column('error_code', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delete_attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('next_delete_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delete_error', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('report', 'client_brief')", name='ck_report_files_kind'),
        sa.CheckConstraint("format IN ('csv', 'xlsx', 'pdf')", name='ck_report_files_format'),
        sa.CheckConstraint("status IN ('writing', 'ready', 'failed', 'expired')",
                           name='ck_report_files_status'),
        sa.CheckConstraint("file_state IN ('none', 'writing', 'stored', 'to_delete', 'deleted', "
                           "'abandoned')", name='ck_report_files_file_state'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('file_id'),
    )
    op.create_index('ix_report_files_requested_by', 'report_files',
                    ['requested_by', 'created_at'])
    op.create_index('ix_report_files_expiry', 'report_files', ['expires_at'],
                    postgresql_where=sa.text("status = 'ready'"))
    op.create_index('ix_report_files_writing', 'report_files', ['created_at'],
                    postgresql_where=sa.text("status = 'writing'"))
    op.create_index('ix_report_files_to_delete', 'report_files', ['next_delete_at'],
                    postgresql_where=sa.text("file_state = 'to_delete'"))


def downgrade() -> None:
    op.drop_table('report_files')
