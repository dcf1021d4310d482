"""Table definitions of the clients database (SQLAlchemy Core). Alembic migrations mirror them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from crm_common.client_access import define_client_access_tables
from crm_common.messaging.inbox import define_inbox_table
from crm_common.messaging.outbox import define_outbox_table

metadata = MetaData()

client_code_seq = Sequence("client_code_seq", metadata=metadata)

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
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", UUID(as_uuid=True)),
    Column("updated_by", UUID(as_uuid=True)),
    Column("archived_at", DateTime(timezone=True)),
)
Index("ix_clients_name", clients.c.legal_name, clients.c.id)
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
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_bank_accounts_client", bank_accounts.c.client_id, bank_accounts.c.created_at)
Index("ux_bank_accounts_iban", bank_accounts.c.client_id, bank_accounts.c.iban, unique=True)
Index(
    "ux_bank_accounts_default", bank_accounts.c.client_id, bank_accounts.c.currency, unique=True,
    postgresql_where=text("is_default"),
)

history = Table(
    "history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("entity_type", Text, nullable=False),
    Column("entity_id", UUID(as_uuid=True), nullable=False),
    Column("operation", Text, nullable=False),
    Column("actor_id", UUID(as_uuid=True)),
    Column("correlation_id", Text),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("changes", JSONB, nullable=False),
)
Index("ix_history_client", history.c.client_id, history.c.id.desc())
Index("ix_history_entity", history.c.entity_id, history.c.id.desc())

outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)

#: meeting grants (crm.activities.meeting.* events); clients and employees are owned here
access = define_client_access_tables(metadata, clients=False, employees=False)
meeting_grants = access.grants

# --- contracts (tables of the contracts module; keep them below this line) ---
