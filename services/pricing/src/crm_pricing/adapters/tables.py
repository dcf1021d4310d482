"""Table definitions of the pricing database (SQLAlchemy Core). Alembic migrations mirror them
(``tests/integration/test_migrations.py`` compares the two).

What the service owns: price lists and their prices (``price_lists``, ``price_list_items``),
pricing rules and every version of each (``pricing_rules``, ``pricing_rule_versions``), and the
tier each client last reached under each turnover rule (``client_tiers``, for
``client_tier.changed``). What it keeps from others' events: the ERP's catalogue (``products``,
``product_groups``; the ERP's base prices go to the price list of ``source = 'erp'``), client
groups and which group a client is in (``client_groups``, ``client_profiles``), contracts with
their negotiated discounts (``contracts``), the latest turnover figures analytics published per
client (``client_turnover``), and the shared access projection.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
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
from crm_common.columns import created_at, timestamptz, updated_at, version_columns
from crm_common.erp.tables import define_catalogue_tables
from crm_common.history import define_history_table
from crm_common.idempotency import define_idempotency_table
from crm_common.messaging.inbox import define_inbox_table
from crm_common.messaging.outbox import define_outbox_table

#: the price list the ERP's base prices feed (created by the first migration)
ERP_PRICE_LIST_ID = uuid.UUID("00000000-0000-4000-8000-00000000e4b0")
ERP_PRICE_LIST_CODE = "ERP"


def _price() -> Numeric[Decimal]:
    """A unit price: four decimals (a price list may hold €0.1234 per piece); quotes round the
    final unit price to the cent once (DESIGN §11)."""
    return Numeric(18, 4)


metadata = MetaData()

# --- the catalogue (from erp.catalog.product.upserted) ------------------------------------------

#: ``product_groups`` and ``products``: the kit's definition, with an index to list a group
product_groups, products = define_catalogue_tables(
    metadata, extra=[Index("ix_products_group", "group_code", "code")])

# --- price lists ------------------------------------------------------------------------------

price_lists = Table(
    "price_lists",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("currency", Text, nullable=False, server_default=text("'EUR'")),
    Column("valid_from", Date),
    Column("valid_until", Date),
    #: exactly one price list is the default (a partial unique index keeps it at most one)
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    #: ``manual`` (managers keep it) or ``erp`` (the ERP's base prices; its prices are not edited)
    Column("source", Text, nullable=False, server_default=text("'manual'")),
    Column("archived_at", timestamptz()),
    Column("version", Integer, nullable=False, server_default=text("1")),
    created_at(),
    Column("created_by", UUID(as_uuid=True)),
    updated_at(),
    Column("updated_by", UUID(as_uuid=True)),
    CheckConstraint("source IN ('manual', 'erp')", name="ck_price_lists_source"),
    CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR valid_from <= valid_until",
                    name="ck_price_lists_validity"),
    Index("ux_price_lists_default", "is_default", unique=True,
          postgresql_where=text("is_default AND archived_at IS NULL")),
)

price_list_items = Table(
    "price_list_items",
    metadata,
    Column("price_list_id", UUID(as_uuid=True), ForeignKey("price_lists.id"), nullable=False),
    Column("product_code", Text, nullable=False),
    Column("price", _price(), nullable=False),
    updated_at(),
    PrimaryKeyConstraint("price_list_id", "product_code"),
    CheckConstraint("price >= 0", name="ck_price_list_items_price"),
)

# --- pricing rules ----------------------------------------------------------------------------

#: the current version of each rule; the columns the resolution filters by are columns, the whole
#: rule (as ``crm_pricing.domain.rule.parse_rule`` reads it, snake_case) is ``definition``
pricing_rules = Table(
    "pricing_rules",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("stacking", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("scope_kind", Text, nullable=False),
    Column("scope_code", Text),
    Column("audience_kind", Text, nullable=False),
    Column("audience_id", Text),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("definition", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    created_at(),
    Column("created_by", UUID(as_uuid=True)),
    updated_at(),
    Column("updated_by", UUID(as_uuid=True)),
    CheckConstraint("status IN ('draft', 'active', 'retired')", name="ck_pricing_rules_status"),
    Index("ix_pricing_rules_status", "status", "code"),
)

#: every version a rule ever had (a quote names the versions it used; this is where to read them)
pricing_rule_versions = Table(
    "pricing_rule_versions",
    metadata,
    Column("rule_id", UUID(as_uuid=True), ForeignKey("pricing_rules.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("recorded_at", timestamptz(), nullable=False, server_default=func.now()),
    Column("recorded_by", UUID(as_uuid=True)),
    PrimaryKeyConstraint("rule_id", "version"),
)

# --- what pricing keeps from other services' events -------------------------------------

#: the client group a client is in (``groupId`` of the clients service's client snapshots)
client_profiles = Table(
    "client_profiles",
    metadata,
    Column("client_id", UUID(as_uuid=True), primary_key=True),
    Column("group_id", UUID(as_uuid=True)),
    Column("payment_term_days", Integer),
    *version_columns(),
    Index("ix_client_profiles_group", "group_id"),
)

client_groups = Table(
    "client_groups",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("archived", Boolean, nullable=False, server_default=text("false")),
    *version_columns(),
)

#: contracts with their negotiated discounts (``crm.clients.contract.*``), newest version
contracts = Table(
    "contracts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("number", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date),
    #: [{productCode, productGroupCode, percent, validFrom, validUntil}] as the event carries them
    Column("discounts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    *version_columns(),
    Index("ix_contracts_client", "client_id"),
)

#: the latest ``crm.analytics.client.turnover.updated`` per client (its ``data`` as received)
client_turnover = Table(
    "client_turnover",
    metadata,
    Column("client_id", UUID(as_uuid=True), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("as_of", timestamptz()),
    Column("data", JSONB, nullable=False),
    updated_at(),
)

#: the tier a client last reached under each active turnover rule, to publish
#: ``crm.pricing.client_tier.changed`` once when new turnover moves it (tier -1: none reached)
client_tiers = Table(
    "client_tiers",
    metadata,
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("rule_id", UUID(as_uuid=True), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("value", Numeric(20, 4), nullable=False),
    Column("turnover_version", BigInteger, nullable=False),
    updated_at(),
    PrimaryKeyConstraint("client_id", "rule_id"),
)

access = define_client_access_tables(metadata)
inbox = define_inbox_table(metadata)
#: the stored outcomes of mutations sent with an Idempotency-Key (crm_common.idempotency)
idempotency_keys = define_idempotency_table(metadata)
outbox = define_outbox_table(metadata)
history = define_history_table(metadata)
Index("ix_history_entity", history.c.entity_id, history.c.id.desc())
