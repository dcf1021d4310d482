"""the complete dossier: meeting grants, staff directory, groups, terms, search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Search (docs/clients.md): ``search_names`` is the lower-case legal and trade name and contact
# persons' names, followed by their Bulgarian Streamlined-System transliteration when Cyrillic
# (so that "petrov" finds "Петров"); typo-tolerant matching runs on it (short: cheap to
# recheck). ``search_document`` adds the code, EIK, VAT number, phones (E.164 and national 0…
# form) and e-mails of the client and its contacts, for substring matching. One SQL function
# maintains both, called by every handler that changes what they are built from, and here once
# for the existing rows.
FUNCTIONS = r"""
CREATE FUNCTION crm_translit_bg(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT translate(
    replace(replace(replace(replace(replace(replace(replace(
      t, 'щ', 'sht'), 'ж', 'zh'), 'ц', 'ts'), 'ч', 'ch'), 'ш', 'sh'), 'ю', 'yu'), 'я', 'ya'),
    'абвгдезийклмнопрстуфхъьѝ', 'abvgdeziyklmnoprstufhayi')
$$;

CREATE FUNCTION crm_search_text(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN crm_translit_bg(lower(t)) = lower(t) THEN lower(t)
              ELSE lower(t) || ' ' || crm_translit_bg(lower(t)) END
$$;

CREATE FUNCTION crm_phone_forms(phones text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT concat_ws(' ', array_to_string(phones, ' '),
    (SELECT string_agg(regexp_replace(p, '^\+359', '0'), ' ') FROM unnest(phones) AS p))
$$;

CREATE FUNCTION crm_refresh_search(cid uuid) RETURNS void LANGUAGE sql AS $$
  UPDATE clients c SET
    search_names = s.names,
    search_document = concat_ws(' ', s.names, lower(c.code), c.eik, lower(c.vat_number),
                                crm_phone_forms(c.phones), lower(array_to_string(c.emails, ' ')),
                                s.contact_ids)
  FROM (
    SELECT crm_search_text(concat_ws(' ', c2.legal_name, c2.trade_name,
             (SELECT string_agg(p.name, ' ') FROM contact_persons p WHERE p.client_id = c2.id)))
             AS names,
           (SELECT string_agg(concat_ws(' ', crm_phone_forms(p.phones),
                                        lower(array_to_string(p.emails, ' '))), ' ')
              FROM contact_persons p WHERE p.client_id = c2.id) AS contact_ids
    FROM clients c2 WHERE c2.id = cid
  ) AS s
  WHERE c.id = cid
$$;
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
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

    op.create_table('client_groups',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('employees',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('manager_id', sa.UUID(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['employees.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_employees_name', 'employees', ['full_name', 'id'], unique=False)
    op.create_index('ux_employees_email', 'employees', [sa.literal_column('lower(email)')], unique=True, postgresql_where=sa.text('email IS NOT NULL'))

    op.add_column('clients', sa.Column('group_id', sa.UUID(), nullable=True))
    op.add_column('clients', sa.Column('payment_term_days', sa.Integer(), nullable=True))
    op.add_column('clients', sa.Column('currency', sa.Text(), server_default='EUR', nullable=False))
    op.add_column('clients', sa.Column('credit_limit', sa.Numeric(precision=14, scale=2), nullable=True))
    op.add_column('clients', sa.Column('document_descriptions', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False))
    op.add_column('clients', sa.Column('search_names', sa.Text(), server_default='', nullable=False))
    op.add_column('clients', sa.Column('search_document', sa.Text(), server_default='', nullable=False))
    op.create_foreign_key('clients_group_id_fkey', 'clients', 'client_groups', ['group_id'], ['id'])
    op.create_index('ix_clients_group_name', 'clients', ['group_id', 'legal_name', 'id'], unique=False)
    op.create_index('ux_clients_vat_live', 'clients', ['vat_number'], unique=True, postgresql_where=sa.text("vat_number IS NOT NULL AND status <> 'archived'"))

    op.alter_column('history', 'client_id', existing_type=sa.UUID(), nullable=True)

    for statement in FUNCTIONS.split("\n\n"):  # asyncpg runs one statement at a time
        op.execute(statement)
    op.execute("SELECT crm_refresh_search(id) FROM clients")
    op.create_index('ix_clients_search', 'clients', ['search_document'], unique=False, postgresql_using='gin', postgresql_ops={'search_document': 'gin_trgm_ops'})
    op.create_index('ix_clients_search_names', 'clients', ['search_names'], unique=False, postgresql_using='gin', postgresql_ops={'search_names': 'gin_trgm_ops'})
    op.create_index('ix_clients_name_trgm', 'clients', [sa.literal_column('lower(legal_name)')], unique=False, postgresql_using='gin', postgresql_ops={'lower(legal_name)': 'gin_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_clients_name_trgm', table_name='clients', postgresql_using='gin')
    op.drop_index('ix_clients_search_names', table_name='clients', postgresql_using='gin')
    op.drop_index('ix_clients_search', table_name='clients', postgresql_using='gin')
    op.execute("DROP FUNCTION crm_refresh_search(uuid)")
    op.execute("DROP FUNCTION crm_phone_forms(text[])")
    op.execute("DROP FUNCTION crm_search_text(text)")
    op.execute("DROP FUNCTION crm_translit_bg(text)")
    # the history is append-only: a downgrade that would have to delete entries refuses instead
    op.execute("""DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM history WHERE client_id IS NULL) THEN
            RAISE EXCEPTION 'cannot downgrade: the history holds staff-directory or group entries';
        END IF; END $$""")
    op.alter_column('history', 'client_id', existing_type=sa.UUID(), nullable=False)
    op.drop_index('ux_clients_vat_live', table_name='clients', postgresql_where=sa.text("vat_number IS NOT NULL AND status <> 'archived'"))
    op.drop_index('ix_clients_group_name', table_name='clients')
    op.drop_constraint('clients_group_id_fkey', 'clients', type_='foreignkey')
    op.drop_column('clients', 'search_document')
    op.drop_column('clients', 'search_names')
    op.drop_column('clients', 'document_descriptions')
    op.drop_column('clients', 'credit_limit')
    op.drop_column('clients', 'currency')
    op.drop_column('clients', 'payment_term_days')
    op.drop_column('clients', 'group_id')
    op.drop_index('ux_employees_email', table_name='employees', postgresql_where=sa.text('email IS NOT NULL'))
    op.drop_index('ix_employees_name', table_name='employees')
    op.drop_table('employees')
    op.drop_table('client_groups')
    op.drop_index('ix_access_meeting_grants_employee', table_name='access_meeting_grants')
    op.drop_table('access_meeting_grants')
