"""Table definitions of the clients database (SQLAlchemy Core). Alembic migrations mirror them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Sequence,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from crm_common.attachments.tables import define_attachment_table
from crm_common.client_access import define_client_access_tables
from crm_common.columns import created_at, timestamptz, updated_at
from crm_common.history import define_history_table
from crm_common.idempotency import define_idempotency_table
from crm_common.messaging.inbox import define_inbox_table
from crm_common.messaging.outbox import define_outbox_table

metadata = MetaData()

client_code_seq = Sequence("client_code_seq", metadata=metadata)

client_groups = Table(
    "client_groups",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    Column("archived_at", timestamptz()),
)

#: the staff directory; ``id`` is the employee's token subject
employees = Table(
    "employees",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("full_name", Text, nullable=False),
    Column("email", Text),
    Column("phone", Text),
    Column("role", Text, nullable=False),
    Column("manager_id", UUID(as_uuid=True), ForeignKey("employees.id")),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
)
Index("ix_employees_name", employees.c.full_name, employees.c.id)
Index("ux_employees_email", func.lower(employees.c.email), unique=True,
      postgresql_where=text("email IS NOT NULL"))

clients = Table(
    "clients",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("legal_name", Text, nullable=False),
    Column("trade_name", Text),
    Column("eik", Text),
    Column("vat_number", Text),
    Column("status", Text, nullable=False),
    Column("owner_id", UUID(as_uuid=True)),
    Column("phones", ARRAY(Text), nullable=False, server_default="{}"),
    Column("emails", ARRAY(Text), nullable=False, server_default="{}"),
    Column("website", Text),
    Column("notes", Text),
    Column("tags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    Column("created_by", UUID(as_uuid=True)),
    Column("updated_by", UUID(as_uuid=True)),
    Column("archived_at", timestamptz()),
    # commercial terms
    Column("group_id", UUID(as_uuid=True), ForeignKey("client_groups.id")),
    Column("payment_term_days", Integer),
    Column("currency", Text, nullable=False, server_default="EUR"),
    Column("credit_limit", Numeric(14, 2)),
    Column("document_descriptions", JSONB, nullable=False, server_default="{}"),
    # maintained by the SQL function crm_refresh_search() (migration 0002; see search.py):
    # names (client's and contact persons', with their Latin transliteration) for typo-tolerant
    # matching, and those plus identifiers, phones and e-mails for substring matching
    Column("search_names", Text, nullable=False, server_default=""),
    Column("search_document", Text, nullable=False, server_default=""),
)
Index("ix_clients_name", clients.c.legal_name, clients.c.id)
Index("ix_clients_group_name", clients.c.group_id, clients.c.legal_name, clients.c.id)
#: the trigram indexes' pending list is kept small: every search reads all of it (migration
#: clients_gin_pending_list says why and what it cost)
GIN_PENDING = {"gin_pending_list_limit": 256}
Index("ix_clients_search", clients.c.search_document, postgresql_using="gin",
      postgresql_ops={"search_document": "gin_trgm_ops"}, postgresql_with=GIN_PENDING)
Index("ix_clients_search_names", clients.c.search_names, postgresql_using="gin",
      postgresql_ops={"search_names": "gin_trgm_ops"}, postgresql_with=GIN_PENDING)
Index("ix_clients_name_trgm", func.lower(clients.c.legal_name), postgresql_using="gin",
      postgresql_ops={"lower_1": "gin_trgm_ops"}, postgresql_with=GIN_PENDING)
Index(
    "ux_clients_vat_live", clients.c.vat_number, unique=True,
    postgresql_where=text("vat_number IS NOT NULL AND status <> 'archived'"),
)
Index("ix_clients_status_name", clients.c.status, clients.c.legal_name, clients.c.id)
Index("ix_clients_owner_name", clients.c.owner_id, clients.c.legal_name, clients.c.id)
Index("ix_clients_created", clients.c.created_at, clients.c.id)
Index(
    "ux_clients_eik_live", clients.c.eik, unique=True,
    postgresql_where=text("eik IS NOT NULL AND status <> 'archived'"),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("postal_code", Text),
    Column("street", Text, nullable=False),
    Column("is_default", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
)
Index("ix_addresses_client", addresses.c.client_id, addresses.c.created_at)
Index("ix_addresses_city", func.lower(addresses.c.city), addresses.c.client_id)
Index(
    "ux_addresses_default", addresses.c.client_id, addresses.c.kind, unique=True,
    postgresql_where=text("is_default"),
)

contact_persons = Table(
    "contact_persons",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("position", Text),
    Column("phones", ARRAY(Text), nullable=False, server_default="{}"),
    Column("emails", ARRAY(Text), nullable=False, server_default="{}"),
    Column("is_primary", Boolean, nullable=False, server_default="false"),
    Column("notes", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
)
Index("ix_contacts_client", contact_persons.c.client_id, contact_persons.c.created_at)
Index(
    "ux_contacts_primary", contact_persons.c.client_id, unique=True,
    postgresql_where=text("is_primary"),
)

bank_accounts = Table(
    "bank_accounts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("iban", Text, nullable=False),
    Column("bic", Text),
    Column("bank_name", Text),
    Column("currency", Text, nullable=False),
    Column("is_default", Boolean, nullable=False, server_default="false"),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
)
Index("ix_bank_accounts_client", bank_accounts.c.client_id, bank_accounts.c.created_at)
Index("ux_bank_accounts_iban", bank_accounts.c.client_id, bank_accounts.c.iban, unique=True)
Index(
    "ux_bank_accounts_default", bank_accounts.c.client_id, bank_accounts.c.currency, unique=True,
    postgresql_where=text("is_default"),
)

# client_id is null for entities outside any client's dossier (employees, client groups)
history = define_history_table(metadata)
Index("ix_history_client", history.c.client_id, history.c.id.desc())
Index("ix_history_entity", history.c.entity_id, history.c.id.desc())

outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)
#: the stored outcomes of mutations sent with an Idempotency-Key (crm_common.idempotency)
idempotency_keys = define_idempotency_table(metadata)

#: meeting grants (crm.activities.meeting.* events); clients and employees are owned here
access = define_client_access_tables(metadata, clients=False, employees=False)
meeting_grants = access.grants

# --- contracts (tables of the contracts module; keep them below this line) ---
import sqlalchemy as sa  # noqa: E402  (the contracts module's block stays below the marker)

contracts = Table(
    "contracts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("number", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("signed_on", sa.Date),
    Column("valid_from", sa.Date, nullable=False),
    Column("valid_until", sa.Date),  # null: open-ended
    Column("payment_term_days", Integer),
    Column("currency", Text, nullable=False, server_default="EUR"),
    Column("price_terms", Text),
    Column("other_terms", Text),
    Column("auto_renew", Boolean, nullable=False, server_default="false"),
    Column("renewal_term_months", Integer, nullable=False, server_default="12"),
    Column("notice_period_days", Integer, nullable=False, server_default="30"),
    Column("client_signatory", Text),
    Column("our_signatory_id", UUID(as_uuid=True)),
    Column("activated_on", sa.Date),  # first activation; null while it never was in force
    Column("terminated_on", sa.Date),  # last day in force of a terminated contract
    Column("termination_reason", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    Column("created_by", UUID(as_uuid=True)),
    Column("updated_by", UUID(as_uuid=True)),
    sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from",
                       name="ck_contracts_validity"),
)
Index("ux_contracts_number", func.lower(contracts.c.number), unique=True)
Index("ix_contracts_client", contracts.c.client_id, contracts.c.valid_from, contracts.c.id)
Index("ix_contracts_status_until", contracts.c.status, contracts.c.valid_until)
Index("ix_contracts_number", contracts.c.number, contracts.c.id)

contract_discounts = Table(
    "contract_discounts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("contract_id", UUID(as_uuid=True), ForeignKey("contracts.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("product_group_code", Text),
    Column("product_code", Text),
    Column("percent", sa.Numeric(5, 2), nullable=False),
    Column("valid_from", sa.Date),
    Column("valid_until", sa.Date),
    sa.CheckConstraint("(product_group_code IS NULL) <> (product_code IS NULL)",
                       name="ck_contract_discounts_target"),
    sa.CheckConstraint("percent > 0 AND percent <= 100", name="ck_contract_discounts_percent"),
)
Index("ix_contract_discounts_contract", contract_discounts.c.contract_id,
      contract_discounts.c.position)

#: "expiring" notices sent: once per contract, threshold and end date (a renewal may notify again)
contract_notices = Table(
    "contract_notices",
    metadata,
    Column("contract_id", UUID(as_uuid=True), ForeignKey("contracts.id"), primary_key=True),
    Column("threshold_days", Integer, primary_key=True),
    Column("valid_until", sa.Date, primary_key=True),
    Column("sent_at", timestamptz(), nullable=False, server_default=func.now()),
)

# --- advertising inventory (tables of the inventory module; keep them below this line) ---
# Amounts are euros (Numeric(14, 2)); docs/clients.md ("Advertising inventory").

asset_types = Table(
    "asset_types",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("tracking", Text, nullable=False),  # serialized | bulk
    Column("unit", Text),  # bulk material's unit ("pcs", "pack")
    Column("value", Numeric(14, 2)),  # of one unit, EUR
    Column("service_life_months", Integer),
    Column("audit_interval_days", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    sa.CheckConstraint("tracking IN ('serialized', 'bulk')", name="ck_asset_types_tracking"),
    sa.CheckConstraint("audit_interval_days > 0", name="ck_asset_types_interval"),
)
Index("ux_asset_types_name", func.lower(asset_types.c.name), unique=True)

assets = Table(
    "assets",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("type_id", UUID(as_uuid=True), ForeignKey("asset_types.id"), nullable=False),
    Column("inventory_number", Text, nullable=False),
    Column("tag_code", Text, nullable=False),
    Column("serial_number", Text),
    Column("owner_company", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("condition", Text, nullable=False),
    Column("purchase_date", sa.Date),
    Column("purchase_value", Numeric(14, 2)),
    Column("notes", Text),
    Column("last_audited_at", timestamptz()),
    Column("written_off_on", sa.Date),
    Column("written_off_reason", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    Column("created_by", UUID(as_uuid=True)),
    Column("updated_by", UUID(as_uuid=True)),
)
Index("ux_assets_inventory_number", func.lower(assets.c.inventory_number), unique=True)
Index("ux_assets_tag_code", func.lower(assets.c.tag_code), unique=True)
Index("ix_assets_number", assets.c.inventory_number, assets.c.id)
Index("ix_assets_status_number", assets.c.status, assets.c.inventory_number, assets.c.id)
Index("ix_assets_type_number", assets.c.type_id, assets.c.inventory_number, assets.c.id)

placements = Table(
    "placements",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("asset_id", UUID(as_uuid=True), ForeignKey("assets.id"), nullable=False),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("address_id", UUID(as_uuid=True), ForeignKey("addresses.id"), nullable=False),
    Column("contract_id", UUID(as_uuid=True), ForeignKey("contracts.id")),
    Column("protocol_number", Text, nullable=False),
    Column("placed_on", sa.Date, nullable=False),
    Column("expected_return_on", sa.Date),
    Column("deposit", Numeric(14, 2)),
    Column("terms", Text),
    Column("minimum_monthly_purchase", Numeric(14, 2)),
    Column("client_signatory", Text, nullable=False),
    Column("our_signatory_id", UUID(as_uuid=True)),
    Column("last_audited_on", sa.Date),
    Column("next_audit_due", sa.Date, nullable=False),
    Column("returned_on", sa.Date),  # null while the placement is open
    Column("return_condition", Text),
    Column("return_notes", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    Column("created_by", UUID(as_uuid=True)),
    Column("updated_by", UUID(as_uuid=True)),
    sa.CheckConstraint("returned_on IS NULL OR returned_on >= placed_on",
                       name="ck_placements_return"),
    sa.CheckConstraint("expected_return_on IS NULL OR expected_return_on >= placed_on",
                       name="ck_placements_expected_return"),
)
#: at most one open placement per asset: the database's answer to concurrent placements
Index("ux_placements_open_asset", placements.c.asset_id, unique=True,
      postgresql_where=text("returned_on IS NULL"))
Index("ix_placements_asset", placements.c.asset_id, placements.c.placed_on)
Index("ix_placements_client_open", placements.c.client_id, placements.c.placed_on,
      postgresql_where=text("returned_on IS NULL"))
Index("ix_placements_due", placements.c.next_audit_due, placements.c.id,
      postgresql_where=text("returned_on IS NULL"))

material_issues = Table(
    "material_issues",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("type_id", UUID(as_uuid=True), ForeignKey("asset_types.id"), nullable=False),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("address_id", UUID(as_uuid=True), ForeignKey("addresses.id")),
    Column("quantity", Integer, nullable=False),
    Column("issued_on", sa.Date, nullable=False),
    Column("activity_id", UUID(as_uuid=True)),
    Column("notes", Text),
    Column("issued_by", UUID(as_uuid=True), nullable=False),
    created_at(),
    sa.CheckConstraint("quantity > 0", name="ck_material_issues_quantity"),
)
Index("ix_material_issues_client", material_issues.c.client_id, material_issues.c.issued_on,
      material_issues.c.id)

audits = Table(
    "audits",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("address_id", UUID(as_uuid=True), ForeignKey("addresses.id")),
    Column("activity_id", UUID(as_uuid=True)),
    Column("meeting_id", UUID(as_uuid=True)),
    Column("audited_at", timestamptz(), nullable=False),
    Column("audited_by", UUID(as_uuid=True), nullable=False),
    Column("latitude", Numeric(9, 6)),
    Column("longitude", Numeric(9, 6)),
    Column("accuracy_meters", Integer),
    Column("notes", Text),
    created_at(),
    sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="ck_audits_geo"),
)
Index("ix_audits_client", audits.c.client_id, audits.c.audited_at, audits.c.id)

audit_lines = Table(
    "audit_lines",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("audit_id", UUID(as_uuid=True), ForeignKey("audits.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("asset_id", UUID(as_uuid=True), ForeignKey("assets.id"), nullable=False),
    Column("placement_id", UUID(as_uuid=True), ForeignKey("placements.id")),
    Column("result", Text, nullable=False),
    Column("condition", Text),
    Column("notes", Text),
    Column("audited_at", timestamptz(), nullable=False),
    sa.UniqueConstraint("audit_id", "asset_id", name="uq_audit_lines_asset"),
)
Index("ix_audit_lines_audit", audit_lines.c.audit_id, audit_lines.c.position)
Index("ix_audit_lines_asset", audit_lines.c.asset_id, audit_lines.c.audited_at)
Index("ix_audit_lines_placement", audit_lines.c.placement_id, audit_lines.c.audited_at)

# Files of the inventory, through the kit's attachment store (crm_common.attachments): signed
# handover protocols of placements (PDF or an image) and photos of audits (any image format).
placement_protocols = define_attachment_table(
    metadata, name="placement_protocols",
    owner=("placement", Column("placement_id", UUID(as_uuid=True), ForeignKey("placements.id"),
                               nullable=False)))
audit_photos = define_attachment_table(
    metadata, Column("asset_id", UUID(as_uuid=True), ForeignKey("assets.id")),
    name="audit_photos",
    owner=("audit", Column("audit_id", UUID(as_uuid=True), ForeignKey("audits.id"),
                           nullable=False)))
