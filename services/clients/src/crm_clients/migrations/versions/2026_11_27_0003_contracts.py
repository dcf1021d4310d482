"""contracts: contracts, their negotiated discounts, and the expiry notices sent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:00:01
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contracts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('payment_term_days', sa.Integer(), nullable=True),
    sa.Column('currency', sa.Text(), server_default='EUR', nullable=False),
    sa.Column('price_terms', sa.Text(), nullable=True),
    sa.Column('other_terms', sa.Text(), nullable=True),
    sa.Column('auto_renew', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('renewal_term_months', sa.Integer(), server_default='12', nullable=False),
    sa.Column('notice_period_days', sa.Integer(), server_default='30', nullable=False),
    sa.Column('client_signatory', sa.Text(), nullable=True),
    sa.Column('our_signatory_id', sa.UUID(), nullable=True),
    sa.Column('activated_on', sa.Date(), nullable=True),
    sa.Column('terminated_on', sa.Date(), nullable=True),
    sa.Column('termination_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('updated_by', sa.UUID(), nullable=True),
    sa.CheckConstraint('valid_until IS NULL OR valid_until >= valid_from', name='ck_contracts_validity'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_contracts_number', 'contracts', [sa.literal_column('lower(number)')], unique=True)
    op.create_index('ix_contracts_client', 'contracts', ['client_id', 'valid_from', 'id'], unique=False)
    op.create_index('ix_contracts_status_until', 'contracts', ['status', 'valid_until'], unique=False)
    op.create_index('ix_contracts_number', 'contracts', ['number', 'id'], unique=False)
    op.create_table('contract_discounts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('contract_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_group_code', sa.Text(), nullable=True),
    sa.Column('product_code', sa.Text(), nullable=True),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.CheckConstraint('(product_group_code IS NULL) <> (product_code IS NULL)', name='ck_contract_discounts_target'),
    sa.CheckConstraint('percent > 0 AND percent <= 100', name='ck_contract_discounts_percent'),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_contract_discounts_contract', 'contract_discounts', ['contract_id', 'position'], unique=False)
    op.create_table('contract_notices',
    sa.Column('contract_id', sa.UUID(), nullable=False),
    sa.Column('threshold_days', sa.Integer(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], ),
    sa.PrimaryKeyConstraint('contract_id', 'threshold_days', 'valid_until')
    )


def downgrade() -> None:
    op.drop_table('contract_notices')
    op.drop_index('ix_contract_discounts_contract', table_name='contract_discounts')
    op.drop_table('contract_discounts')
    op.drop_index('ix_contracts_number', table_name='contracts')
    op.drop_index('ix_contracts_status_until', table_name='contracts')
    op.drop_index('ix_contracts_client', table_name='contracts')
    op.drop_index('ux_contracts_number', table_name='contracts')
    op.drop_table('contracts')
