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

from crm_common.attachments.tables import define_attachment_table
from crm_common.client_access import define_client_access_tables
from crm_common.columns import created_at, timestamptz, updated_at, version_columns
from crm_common.erp.tables import define_catalogue_tables
from crm_common.idempotency import define_idempotency_table
from crm_common.messaging.inbox import define_inbox_table
from crm_common.messaging.outbox import define_outbox_table


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
    *version_columns(),
    Index("ix_client_profiles_eik", "eik"),
    Index("ix_client_profiles_group", "group_id"),
)

#: ``erp_product_groups`` and ``erp_products``: the kit's definition, with the base price as
#: the ERP sent it and the envelope's time; versions are INTEGER here
erp_product_groups, erp_products = define_catalogue_tables(
    metadata, prefix="erp_", version_type=Integer, extra=[
        Column("base_amount", _money()),
        Column("base_currency", Text),
        Column("event_time", timestamptz(), nullable=False),
        Index("ix_erp_products_event_time", "event_time"),
    ])

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
    Column("event_time", timestamptz(), nullable=False),
    Column("received_at", timestamptz(), nullable=False, server_default=func.now()),
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
    Column("event_time", timestamptz(), nullable=False),
    Column("received_at", timestamptz(), nullable=False, server_default=func.now()),
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
    Column("parked_at", timestamptz(), nullable=False, server_default=func.now()),
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
    Column("dirty_since", timestamptz()),
    Column("published_at", timestamptz()),
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
    Column("started_at", timestamptz(), nullable=False, server_default=func.now()),
    Column("finished_at", timestamptz()),
)

# -- the reporting read model (docs/reports.md): projections of the other services' events ------
# Each row keeps the newest ``version`` its entity's events carried (an older or repeated event
# changes nothing); rows of events that carry no version (an activity logged, an observation
# recorded: recorded once, never changed) are inserted once.

#: clients with what reports group them by (group, owner, city of the default address, status)
rm_clients = Table(
    "rm_clients",
    metadata,
    Column("client_id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("owner_id", UUID(as_uuid=True)),
    Column("group_id", UUID(as_uuid=True)),
    Column("city", Text),
    Column("created_at", timestamptz()),
    *version_columns(),
    Index("ix_rm_clients_owner", "owner_id"),
    Index("ix_rm_clients_group", "group_id"),
)

rm_client_groups = Table(
    "rm_client_groups",
    metadata,
    Column("group_id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("archived", Boolean, nullable=False),
    *version_columns(),
)

#: contracts; ``value`` stays null: the contract events carry no amount (docs/reports.md)
rm_contracts = Table(
    "rm_contracts",
    metadata,
    Column("contract_id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("number", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("signed_on", Date),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date),
    Column("terminated_on", Date),
    Column("auto_renew", Boolean, nullable=False),
    Column("currency", Text, nullable=False),
    Column("value", _money()),
    *version_columns(),
    Index("ix_rm_contracts_client", "client_id"),
    Index("ix_rm_contracts_valid_until", "valid_until"),
)

#: done contacts (``source`` activity: visits, calls, e-mails, ... and completed meetings) and
#: meetings not (yet) done (``source`` meeting, status scheduled or cancelled; a completed
#: meeting is counted once, through the activity it became)
rm_contacts = Table(
    "rm_contacts",
    metadata,
    Column("contact_id", UUID(as_uuid=True), primary_key=True),
    Column("source", Text, nullable=False),
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("employee_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("direction", Text),
    Column("status", Text, nullable=False),
    Column("occurred_at", timestamptz(), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("meeting_id", UUID(as_uuid=True)),
    *version_columns(),
    CheckConstraint("source IN ('activity', 'meeting')", name="ck_rm_contacts_source"),
    Index("ix_rm_contacts_occurred", "occurred_at"),
    Index("ix_rm_contacts_client", "client_id"),
    Index("ix_rm_contacts_employee", "employee_id", "occurred_at"),
)

rm_competitor_observations = Table(
    "rm_competitor_observations",
    metadata,
    Column("observation_id", UUID(as_uuid=True), primary_key=True),
    Column("competitor_id", UUID(as_uuid=True), nullable=False),
    Column("competitor_name", Text, nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("kind", Text, nullable=False),
    Column("impact", Text, nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("product_group", Text),
    Column("reported_by", UUID(as_uuid=True), nullable=False),
    Column("created_at", timestamptz(), nullable=False),
    updated_at(),
    Index("ix_rm_competitor_observations_observed", "observed_on"),
)

#: tasks and commitments
rm_tasks = Table(
    "rm_tasks",
    metadata,
    Column("task_id", UUID(as_uuid=True), primary_key=True),
    Column("number", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("commitment_type", Text),
    Column("client_id", UUID(as_uuid=True)),
    Column("assignee_id", UUID(as_uuid=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("outcome", Text),
    Column("priority", Text, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("created_at", timestamptz(), nullable=False),
    Column("closed_at", timestamptz()),
    *version_columns(),
    Index("ix_rm_tasks_assignee", "assignee_id"),
    Index("ix_rm_tasks_client", "client_id"),
    Index("ix_rm_tasks_due", "due_date"),
)

#: advertising inventory: each asset's status (in_stock, placed, in_repair, lost, written_off),
#: its current (or last) placement and last audit, from
#: ``crm.clients.asset.placed/.returned/.audited/.missing/.written_off``
rm_assets = Table(
    "rm_assets",
    metadata,
    Column("asset_id", UUID(as_uuid=True), primary_key=True),
    Column("inventory_number", Text),
    Column("asset_type_name", Text),
    Column("client_id", UUID(as_uuid=True)),
    Column("placement_id", UUID(as_uuid=True)),
    Column("status", Text, nullable=False),
    Column("placed_at", timestamptz()),
    Column("returned_at", timestamptz()),
    Column("next_audit_due", Date),
    Column("last_audit_at", timestamptz()),
    Column("last_audit_result", Text),
    *version_columns(),
    Index("ix_rm_assets_client", "client_id"),
)

#: every audited asset line (``crm.clients.asset.audited``)
rm_asset_audits = Table(
    "rm_asset_audits",
    metadata,
    Column("audit_id", UUID(as_uuid=True), nullable=False),
    Column("asset_id", UUID(as_uuid=True), nullable=False),
    Column("inventory_number", Text),
    Column("asset_type_name", Text),
    Column("client_id", UUID(as_uuid=True)),
    Column("placement_id", UUID(as_uuid=True)),
    Column("result", Text, nullable=False),
    Column("condition", Text),
    Column("audited_by", UUID(as_uuid=True)),
    Column("audited_at", timestamptz(), nullable=False),
    *version_columns(),
    PrimaryKeyConstraint("audit_id", "asset_id"),
    Index("ix_rm_asset_audits_audited", "audited_at"),
)

#: the time of the latest event applied to each part of the read model (a report's "data as of")
rm_watermarks = Table(
    "rm_watermarks",
    metadata,
    Column("part", Text, primary_key=True),
    Column("as_of", timestamptz(), nullable=False),
)

# -- saved reports, runs, schedules (docs/reports.md) --------------------------------------------

#: a saved report: its current definition; every version is in ``saved_report_versions``
saved_reports = Table(
    "saved_reports",
    metadata,
    Column("report_id", UUID(as_uuid=True), primary_key=True),
    Column("builtin_key", Text),
    Column("owner_id", UUID(as_uuid=True)),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("shared_with", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("definition", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    created_at(),
    updated_at(),
    Column("archived_at", timestamptz()),
    Index("ix_saved_reports_builtin", "builtin_key", unique=True,
          postgresql_where=text("builtin_key IS NOT NULL")),
    Index("ix_saved_reports_owner", "owner_id"),
)

saved_report_versions = Table(
    "saved_report_versions",
    metadata,
    Column("report_id", UUID(as_uuid=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("shared_with", JSONB, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("changed_by", UUID(as_uuid=True)),
    Column("changed_at", timestamptz(), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("report_id", "version"),
)

#: a saved report's schedule: a cron expression (UTC) and the employees it runs for
report_schedules = Table(
    "report_schedules",
    metadata,
    Column("schedule_id", UUID(as_uuid=True), primary_key=True),
    Column("report_id", UUID(as_uuid=True), nullable=False),
    Column("cron", Text, nullable=False),
    Column("recipients", JSONB, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    Column("next_run_at", timestamptz(), nullable=False),
    Column("last_run_at", timestamptz()),
    *version_columns(),
    Index("ix_report_schedules_due", "next_run_at", postgresql_where=text("active")),
)

#: a background run (a big run, or a scheduled one for one recipient)
report_jobs = Table(
    "report_jobs",
    metadata,
    Column("job_id", UUID(as_uuid=True), primary_key=True),
    Column("report_id", UUID(as_uuid=True)),
    Column("report_version", Integer),
    Column("schedule_id", UUID(as_uuid=True)),
    Column("definition", JSONB, nullable=False),
    Column("requested_by", UUID(as_uuid=True), nullable=False),
    Column("roles", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("rows_done", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_total", BigInteger),
    Column("cancel_requested", Boolean, nullable=False, server_default=text("false")),
    Column("error", Text),
    Column("file", JSONB),
    created_at(),
    Column("started_at", timestamptz()),
    Column("heartbeat_at", timestamptz()),
    Column("finished_at", timestamptz()),
    CheckConstraint("status IN ('queued', 'running', 'completed', 'failed', 'cancelled')",
                    name="ck_report_jobs_status"),
    Index("ix_report_jobs_queued", "created_at", postgresql_where=text("status = 'queued'")),
    Index("ix_report_jobs_requested_by", "requested_by", "created_at"),
)

#: report files and client briefs made on request: the kit's attachment table
#: (``crm_common.attachments``), owned by the employee who asked, written by the service itself
#: (``crm_analytics.reports.files.service``) and kept in GridFS until ``expires_at``. The kit's
#: statuses read: ``uploading`` being written, ``stored`` ready, ``failed``, ``removed``
#: expired (its file queued for the sweeper).
report_files = define_attachment_table(
    metadata,
    Column("kind", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("title", Text, nullable=False),
    #: what it was made of (the saved report, the client of a brief)
    Column("subject", Text),
    Column("row_count", Integer),
    Column("error_code", Text),
    Column("expires_at", timestamptz(), nullable=False),
    name="report_files",
    owner=("requester", Column("requested_by", UUID(as_uuid=True), nullable=False)),
)
report_files.append_constraint(
    CheckConstraint("kind IN ('report', 'client_brief')", name="ck_report_files_kind"))
report_files.append_constraint(
    CheckConstraint("format IN ('csv', 'xlsx', 'pdf')", name="ck_report_files_format"))
Index("ix_report_files_expiry", report_files.c.expires_at,
      postgresql_where=text("status = 'stored'"))

#: the pricing tiers each client is in, per turnover rule, from ``crm.pricing.client_tier.changed``
#: (newest ``turnoverVersion`` wins), for the client brief's "next tier"
client_tiers = Table(
    "client_tiers",
    metadata,
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("rule_id", UUID(as_uuid=True), nullable=False),
    Column("rule_code", Text, nullable=False),
    Column("window", Text, nullable=False),
    Column("metric", Text, nullable=False),
    Column("product_group_code", Text),
    Column("reached", Numeric(18, 3), nullable=False),
    Column("tier", Integer),
    Column("tier_effect", Text),
    Column("next_threshold", Numeric(18, 3)),
    Column("next_tier_effect", Text),
    Column("turnover_version", Integer, nullable=False),
    updated_at(),
    PrimaryKeyConstraint("client_id", "rule_id"),
)

access = define_client_access_tables(metadata)
inbox = define_inbox_table(metadata)
#: the stored outcomes of mutations sent with an Idempotency-Key (crm_common.idempotency)
idempotency_keys = define_idempotency_table(metadata)
outbox = define_outbox_table(metadata)
