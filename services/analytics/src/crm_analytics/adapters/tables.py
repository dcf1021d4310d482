"""Table definitions of the analytics database (SQLAlchemy Core). Alembic migrations mirror them
(``tests/integration/test_migrations.py`` compares the two).

The sales ledger (``erp_documents``, ``erp_payments``, ``erp_products``, ``erp_product_groups``)
holds what the ERP sent, newest version per document; the rollups (``turnover_monthly``,
``turnover_groups_monthly``, ``turnover_items_monthly``) hold the monthly figures, changed by
the same transaction that changes the ledger (docs/analytics.md, "How the figures are kept").
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_common.client_access import define_client_access_tables
from crm_common.idempotency import define_idempotency_table
from crm_common.messaging.inbox import define_inbox_table
from crm_common.messaging.outbox import define_outbox_table


def _tz() -> DateTime:
    return DateTime(timezone=True)


def _money() -> Numeric[Decimal]:
    return Numeric(18, 2)


def _quantity() -> Numeric[Decimal]:
    return Numeric(18, 3)


metadata = MetaData()

#: the client snapshot fields analytics needs beyond the shared access projection: the EIK the
#: ERP matches by, the client group, the payment term
client_profiles = Table(
    "client_profiles",
    metadata,
    Column("client_id", UUID(as_uuid=True), primary_key=True),
    Column("eik", Text),
    Column("group_id", UUID(as_uuid=True)),
    Column("payment_term_days", Integer),
    Column("version", Integer, nullable=False),
    Column("updated_at", _tz(), nullable=False, server_default=func.now()),
    Index("ix_client_profiles_eik", "eik"),
    Index("ix_client_profiles_group", "group_id"),
)

erp_product_groups = Table(
    "erp_product_groups",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("updated_at", _tz(), nullable=False, server_default=func.now()),
)

erp_products = Table(
    "erp_products",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("group_code", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("vat_rate", Numeric(5, 2), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("base_amount", _money()),
    Column("base_currency", Text),
    Column("version", Integer, nullable=False),
    Column("event_time", _tz(), nullable=False),
    Column("updated_at", _tz(), nullable=False, server_default=func.now()),
    Index("ix_erp_products_event_time", "event_time"),
)

#: orders (``doc_type`` ``order``) and invoices and credit notes (``doc_type`` ``invoice``, one id
#: space in the ERP), at the newest version received; ``lines`` as the ERP sent them plus the EUR
#: amount of each. ``client_id`` is null while unmatched.
erp_documents = Table(
    "erp_documents",
    metadata,
    Column("doc_type", Text, nullable=False),
    Column("erp_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("number", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("doc_date", Date, nullable=False),
    Column("due_date", Date),
    Column("client_id", UUID(as_uuid=True)),
    Column("erp_client_id", Text),
    Column("client_eik", Text),
    Column("currency", Text, nullable=False),
    Column("net_amount", _money(), nullable=False),
    Column("net_amount_eur", _money(), nullable=False),
    Column("gross_amount", _money()),
    Column("gross_amount_eur", _money()),
    Column("quantity", _quantity(), nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("credited_document_id", Text),
    Column("order_id", Text),
    Column("notes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("version", Integer, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("event_time", _tz(), nullable=False),
    Column("received_at", _tz(), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("doc_type", "erp_id"),
    CheckConstraint("doc_type IN ('order', 'invoice')", name="ck_erp_documents_doc_type"),
    CheckConstraint("kind IN ('order', 'invoice', 'credit_note')", name="ck_erp_documents_kind"),
    CheckConstraint("status IN ('confirmed', 'posted', 'cancelled')",
                    name="ck_erp_documents_status"),
    Index("ix_erp_documents_client_date", "client_id", "doc_date"),
    Index("ix_erp_documents_event_time", "event_time"),
    Index("ix_erp_documents_unmatched", "received_at", "doc_type", "erp_id",
          postgresql_where=text("client_id IS NULL")),
    Index("ix_erp_documents_unmatched_eik", "client_eik",
          postgresql_where=text("client_id IS NULL")),
    Index("ix_erp_documents_unmatched_client", "erp_client_id",
          postgresql_where=text("client_id IS NULL")),
    Index("ix_erp_documents_credited", "credited_document_id",
          postgresql_where=text("credited_document_id IS NOT NULL")),
)

erp_payments = Table(
    "erp_payments",
    metadata,
    Column("payment_id", Text, primary_key=True),
    Column("document_id", Text, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("amount", _money(), nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount_eur", _money(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("event_time", _tz(), nullable=False),
    Column("received_at", _tz(), nullable=False, server_default=func.now()),
    Index("ix_erp_payments_document", "document_id"),
    Index("ix_erp_payments_event_time", "event_time"),
)

#: messages that can never apply (a broken contract: no such currency, a negative quantity, a
#: field missing), kept with the reason for an operator; nothing is dropped silently
erp_parked = Table(
    "erp_parked",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", Text),
    Column("event_type", Text),
    Column("subject", Text),
    Column("reason", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("parked_at", _tz(), nullable=False, server_default=func.now()),
    Index("ix_erp_parked_event", "event_id", unique=True,
          postgresql_where=text("event_id IS NOT NULL")),
)

#: the monthly figures of a client, EUR (credit notes kept apart: turnover = invoiced − credited)
turnover_monthly = Table(
    "turnover_monthly",
    metadata,
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    Column("invoiced_net", _money(), nullable=False),
    Column("credited_net", _money(), nullable=False),
    Column("invoiced_quantity", _quantity(), nullable=False),
    Column("credited_quantity", _quantity(), nullable=False),
    Column("ordered_net", _money(), nullable=False),
    Column("ordered_quantity", _quantity(), nullable=False),
    Column("invoices", Integer, nullable=False),
    Column("credit_notes", Integer, nullable=False),
    Column("orders", Integer, nullable=False),
    PrimaryKeyConstraint("client_id", "month"),
    Index("ix_turnover_monthly_month", "month"),
)

#: the same by product group and product (``product_code`` as the ERP line named it)
turnover_items_monthly = Table(
    "turnover_items_monthly",
    metadata,
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    Column("product_group_code", Text, nullable=False),
    Column("product_code", Text, nullable=False),
    Column("invoiced_net", _money(), nullable=False),
    Column("credited_net", _money(), nullable=False),
    Column("invoiced_quantity", _quantity(), nullable=False),
    Column("credited_quantity", _quantity(), nullable=False),
    Column("ordered_net", _money(), nullable=False),
    Column("ordered_quantity", _quantity(), nullable=False),
    PrimaryKeyConstraint("client_id", "month", "product_group_code", "product_code"),
    Index("ix_turnover_items_monthly_group", "product_group_code", "month"),
)

#: the same by product group alone: what the by-group reads (the most frequent: a client's
#: turnover by product group, peers, stopped groups, the turnover event) scan
turnover_groups_monthly = Table(
    "turnover_groups_monthly",
    metadata,
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    Column("product_group_code", Text, nullable=False),
    Column("invoiced_net", _money(), nullable=False),
    Column("credited_net", _money(), nullable=False),
    Column("invoiced_quantity", _quantity(), nullable=False),
    Column("credited_quantity", _quantity(), nullable=False),
    Column("ordered_net", _money(), nullable=False),
    Column("ordered_quantity", _quantity(), nullable=False),
    PrimaryKeyConstraint("client_id", "month", "product_group_code"),
)

#: which clients' figures changed since their last ``client.turnover.updated`` (DESIGN §10)
turnover_publications = Table(
    "turnover_publications",
    metadata,
    Column("client_id", UUID(as_uuid=True), primary_key=True),
    Column("version", Integer, nullable=False, server_default=text("0")),
    Column("dirty_since", _tz()),
    Column("published_at", _tz()),
    Index("ix_turnover_publications_dirty", "dirty_since",
          postgresql_where=text("dirty_since IS NOT NULL")),
)

#: one row per history file loaded by ``crm-analytics import`` (resumable: lines done so far)
erp_imports = Table(
    "erp_imports",
    metadata,
    Column("file_key", Text, primary_key=True),
    Column("path", Text, nullable=False),
    Column("lines_done", BigInteger, nullable=False),
    Column("applied", BigInteger, nullable=False),
    Column("unchanged", BigInteger, nullable=False),
    Column("parked", BigInteger, nullable=False),
    Column("started_at", _tz(), nullable=False, server_default=func.now()),
    Column("finished_at", _tz()),
)

access = define_client_access_tables(metadata)
inbox = define_inbox_table(metadata)
#: the stored outcomes of mutations sent with an Idempotency-Key (crm_common.idempotency)
idempotency_keys = define_idempotency_table(metadata)
outbox = define_outbox_table(metadata)
