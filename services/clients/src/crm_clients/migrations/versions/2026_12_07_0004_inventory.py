"""advertising inventory: asset types, assets, placements (one open per asset), bulk material
issued, audits and their lines

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asset_types',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('tracking', sa.Text(), nullable=False),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('service_life_months', sa.Integer(), nullable=True),
    sa.Column('audit_interval_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("tracking IN ('serialized', 'bulk')", name='ck_asset_types_tracking'),
    sa.CheckConstraint('audit_interval_days > 0', name='ck_asset_types_interval'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_asset_types_name', 'asset_types', [sa.literal_column('lower(name)')], unique=True)
    op.create_table('assets',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('type_id', sa.UUID(), nullable=False),
    sa.Column('inventory_number', sa.Text(), nullable=False),
    sa.Column('tag_code', sa.Text(), nullable=False),
    sa.Column('serial_number', sa.Text(), nullable=True),
    sa.Column('owner_company', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('condition', sa.Text(), nullable=False),
    sa.Column('purchase_date', sa.Date(), nullable=True),
    sa.Column('purchase_value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('last_audited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('written_off_on', sa.Date(), nullable=True),
    sa.Column('written_off_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('updated_by', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['type_id'], ['asset_types.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_assets_number', 'assets', ['inventory_number', 'id'], unique=False)
    op.create_index('ix_assets_status_number', 'assets', ['status', 'inventory_number', 'id'], unique=False)
    op.create_index('ix_assets_type_number', 'assets', ['type_id', 'inventory_number', 'id'], unique=False)
    op.create_index('ux_assets_inventory_number', 'assets', [sa.literal_column('lower(inventory_number)')], unique=True)
    op.create_index('ux_assets_tag_code', 'assets', [sa.literal_column('lower(tag_code)')], unique=True)
    op.create_table('audits',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('address_id', sa.UUID(), nullable=True),
    sa.Column('activity_id', sa.UUID(), nullable=True),
    sa.Column('meeting_id', sa.UUID(), nullable=True),
    sa.Column('audited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audited_by', sa.UUID(), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('accuracy_meters', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name='ck_audits_geo'),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audits_client', 'audits', ['client_id', 'audited_at', 'id'], unique=False)
    op.create_table('material_issues',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('type_id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('address_id', sa.UUID(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('activity_id', sa.UUID(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('issued_by', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_material_issues_quantity'),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.ForeignKeyConstraint(['type_id'], ['asset_types.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_material_issues_client', 'material_issues', ['client_id', 'issued_on', 'id'], unique=False)
    op.create_table('placements',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('asset_id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('address_id', sa.UUID(), nullable=False),
    sa.Column('contract_id', sa.UUID(), nullable=True),
    sa.Column('protocol_number', sa.Text(), nullable=False),
    sa.Column('placed_on', sa.Date(), nullable=False),
    sa.Column('expected_return_on', sa.Date(), nullable=True),
    sa.Column('deposit', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('terms', sa.Text(), nullable=True),
    sa.Column('minimum_monthly_purchase', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('client_signatory', sa.Text(), nullable=False),
    sa.Column('our_signatory_id', sa.UUID(), nullable=True),
    sa.Column('last_audited_on', sa.Date(), nullable=True),
    sa.Column('next_audit_due', sa.Date(), nullable=False),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('return_condition', sa.Text(), nullable=True),
    sa.Column('return_notes', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('updated_by', sa.UUID(), nullable=True),
    sa.CheckConstraint('expected_return_on IS NULL OR expected_return_on >= placed_on', name='ck_placements_expected_return'),
    sa.CheckConstraint('returned_on IS NULL OR returned_on >= placed_on', name='ck_placements_return'),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], ),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_placements_asset', 'placements', ['asset_id', 'placed_on'], unique=False)
    op.create_index('ix_placements_client_open', 'placements', ['client_id', 'placed_on'], unique=False, postgresql_where=sa.text('returned_on IS NULL'))
    op.create_index('ix_placements_due', 'placements', ['next_audit_due', 'id'], unique=False, postgresql_where=sa.text('returned_on IS NULL'))
    op.create_index('ux_placements_open_asset', 'placements', ['asset_id'], unique=True, postgresql_where=sa.text('returned_on IS NULL'))
    op.create_table('audit_lines',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('audit_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.UUID(), nullable=False),
    sa.Column('placement_id', sa.UUID(), nullable=True),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('condition', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('audited_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], ),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audit_id', 'asset_id', name='uq_audit_lines_asset')
    )
    op.create_index('ix_audit_lines_asset', 'audit_lines', ['asset_id', 'audited_at'], unique=False)
    op.create_index('ix_audit_lines_audit', 'audit_lines', ['audit_id', 'position'], unique=False)
    op.create_index('ix_audit_lines_placement', 'audit_lines', ['placement_id', 'audited_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_lines_placement', table_name='audit_lines')
    op.drop_index('ix_audit_lines_audit', table_name='audit_lines')
    op.drop_index('ix_audit_lines_asset', table_name='audit_lines')
    op.drop_table('audit_lines')
    op.drop_index('ux_placements_open_asset', table_name='placements', postgresql_where=sa.text('returned_on IS NULL'))
    op.drop_index('ix_placements_due', table_name='placements', postgresql_where=sa.text('returned_on IS NULL'))
    op.drop_index('ix_placements_client_open', table_name='placements', postgresql_where=sa.text('returned_on IS NULL'))
    op.drop_index('ix_placements_asset', table_name='placements')
    op.drop_table('placements')
    op.drop_index('ix_material_issues_client', table_name='material_issues')
    op.drop_table('material_issues')
    op.drop_index('ix_audits_client', table_name='audits')
    op.drop_table('audits')
    op.drop_index('ux_assets_tag_code', table_name='assets')
    op.drop_index('ux_assets_inventory_number', table_name='assets')
    op.drop_index('ix_assets_type_number', table_name='assets')
    op.drop_index('ix_assets_status_number', table_name='assets')
    op.drop_index('ix_assets_number', table_name='assets')
    op.drop_table('assets')
    op.drop_index('ux_asset_types_name', table_name='asset_types')
    op.drop_table('asset_types')
