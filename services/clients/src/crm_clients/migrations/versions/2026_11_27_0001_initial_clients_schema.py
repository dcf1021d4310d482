"""initial clients schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 09:52:51.952639
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE client_code_seq")
    op.create_table('clients',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('legal_name', sa.Text(), nullable=False),
    sa.Column('trade_name', sa.Text(), nullable=True),
    sa.Column('eik', sa.Text(), nullable=True),
    sa.Column('vat_number', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.UUID(), nullable=True),
    sa.Column('phones', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('emails', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('updated_by', sa.UUID(), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('ix_clients_created', 'clients', ['created_at', 'id'], unique=False)
    op.create_index('ix_clients_name', 'clients', ['legal_name', 'id'], unique=False)
    op.create_index('ix_clients_owner_name', 'clients', ['owner_id', 'legal_name', 'id'], unique=False)
    op.create_index('ix_clients_status_name', 'clients', ['status', 'legal_name', 'id'], unique=False)
    op.create_index('ux_clients_eik_live', 'clients', ['eik'], unique=True, postgresql_where=sa.text("eik IS NOT NULL AND status <> 'archived'"))
    op.create_table('history',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('entity_type', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.UUID(), nullable=False),
    sa.Column('operation', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('correlation_id', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_history_client', 'history', ['client_id', sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_history_entity', 'history', ['entity_id', sa.literal_column('id DESC')], unique=False)
    # the audit history is append-only: no UPDATE or DELETE, whoever asks
    op.execute("""
        CREATE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'history is append-only (% refused)', TG_OP;
        END $$;
    """)
    op.execute("""
        CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON history
        FOR EACH STATEMENT EXECUTE FUNCTION history_append_only();
    """)
    op.create_table('inbox',
    sa.Column('consumer', sa.Text(), nullable=False),
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('routing_key', sa.Text(), nullable=False),
    sa.Column('envelope', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['created_at'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('addresses',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('country', sa.Text(), nullable=False),
    sa.Column('city', sa.Text(), nullable=False),
    sa.Column('postal_code', sa.Text(), nullable=True),
    sa.Column('street', sa.Text(), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_addresses_city', 'addresses', [sa.literal_column('lower(city)'), 'client_id'], unique=False)
    op.create_index('ix_addresses_client', 'addresses', ['client_id', 'created_at'], unique=False)
    op.create_index('ux_addresses_default', 'addresses', ['client_id', 'kind'], unique=True, postgresql_where=sa.text('is_default'))
    op.create_table('bank_accounts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('iban', sa.Text(), nullable=False),
    sa.Column('bic', sa.Text(), nullable=True),
    sa.Column('bank_name', sa.Text(), nullable=True),
    sa.Column('currency', sa.Text(), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_bank_accounts_client', 'bank_accounts', ['client_id', 'created_at'], unique=False)
    op.create_index('ux_bank_accounts_default', 'bank_accounts', ['client_id', 'currency'], unique=True, postgresql_where=sa.text('is_default'))
    op.create_index('ux_bank_accounts_iban', 'bank_accounts', ['client_id', 'iban'], unique=True)
    op.create_table('contact_persons',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('position', sa.Text(), nullable=True),
    sa.Column('phones', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('emails', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('is_primary', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_contacts_client', 'contact_persons', ['client_id', 'created_at'], unique=False)
    op.create_index('ux_contacts_primary', 'contact_persons', ['client_id'], unique=True, postgresql_where=sa.text('is_primary'))


def downgrade() -> None:
    op.drop_index('ux_contacts_primary', table_name='contact_persons', postgresql_where=sa.text('is_primary'))
    op.drop_index('ix_contacts_client', table_name='contact_persons')
    op.drop_table('contact_persons')
    op.drop_index('ux_bank_accounts_iban', table_name='bank_accounts')
    op.drop_index('ux_bank_accounts_default', table_name='bank_accounts', postgresql_where=sa.text('is_default'))
    op.drop_index('ix_bank_accounts_client', table_name='bank_accounts')
    op.drop_table('bank_accounts')
    op.drop_index('ux_addresses_default', table_name='addresses', postgresql_where=sa.text('is_default'))
    op.drop_index('ix_addresses_client', table_name='addresses')
    op.drop_index('ix_addresses_city', table_name='addresses')
    op.drop_table('addresses')
    op.drop_index('ix_outbox_unpublished', table_name='outbox', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('inbox')
    op.drop_index('ix_history_entity', table_name='history')
    op.drop_index('ix_history_client', table_name='history')
    op.execute("DROP TRIGGER history_append_only ON history")
    op.execute("DROP FUNCTION history_append_only()")
    op.drop_table('history')
    op.drop_index('ux_clients_eik_live', table_name='clients', postgresql_where=sa.text("eik IS NOT NULL AND status <> 'archived'"))
    op.drop_index('ix_clients_status_name', table_name='clients')
    op.drop_index('ix_clients_owner_name', table_name='clients')
    op.drop_index('ix_clients_name', table_name='clients')
    op.drop_index('ix_clients_created', table_name='clients')
    op.drop_table('clients')
    op.execute("DROP SEQUENCE client_code_seq")
