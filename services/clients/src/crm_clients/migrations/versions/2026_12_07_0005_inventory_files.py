"""files of the inventory: signed placement protocols and audit photos (the kit's attachment
store, crm_common.attachments; contents in GridFS)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_photos',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('audit_id', sa.UUID(), nullable=False),
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
    sa.Column('asset_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], ),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_id'),
    info={'crm_attachment_owner': 'audit_id'}
    )
    op.create_index('ix_audit_photos_audit', 'audit_photos', ['audit_id', 'created_at'], unique=False)
    op.create_index('ix_audit_photos_pending', 'audit_photos', ['upload_expires_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_audit_photos_sweep', 'audit_photos', ['file_state', 'next_delete_at'], unique=False, postgresql_where=sa.text("file_state IN ('writing', 'to_delete')"))
    op.create_table('placement_protocols',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('placement_id', sa.UUID(), nullable=False),
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
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_id'),
    info={'crm_attachment_owner': 'placement_id'}
    )
    op.create_index('ix_placement_protocols_pending', 'placement_protocols', ['upload_expires_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_placement_protocols_placement', 'placement_protocols', ['placement_id', 'created_at'], unique=False)
    op.create_index('ix_placement_protocols_sweep', 'placement_protocols', ['file_state', 'next_delete_at'], unique=False, postgresql_where=sa.text("file_state IN ('writing', 'to_delete')"))


def downgrade() -> None:
    op.drop_index('ix_placement_protocols_sweep', table_name='placement_protocols', postgresql_where=sa.text("file_state IN ('writing', 'to_delete')"))
    op.drop_index('ix_placement_protocols_placement', table_name='placement_protocols')
    op.drop_index('ix_placement_protocols_pending', table_name='placement_protocols', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('placement_protocols')
    op.drop_index('ix_audit_photos_sweep', table_name='audit_photos', postgresql_where=sa.text("file_state IN ('writing', 'to_delete')"))
    op.drop_index('ix_audit_photos_pending', table_name='audit_photos', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_audit_photos_audit', table_name='audit_photos')
    op.drop_table('audit_photos')
