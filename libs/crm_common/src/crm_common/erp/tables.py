"""The ERP's catalogue as a service keeps it: one definition of the product groups' and the
products' tables for every service that reads ``erp.catalog.product.upserted`` (pricing,
analytics). The columns are what :class:`~crm_common.erp.catalogue.ErpProduct` says; a service
adds its own (analytics the base price as sent, pricing an index by group) and names the tables
with its prefix. Each service's Alembic revisions create them (the kit's ``check_migrations``
compares)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from crm_common.columns import updated_at

__all__ = ["define_catalogue_tables"]


def define_catalogue_tables(
    metadata: sa.MetaData, *, prefix: str = "",
    version_type: type[sa.Integer] = sa.BigInteger,
    extra: Sequence[sa.schema.SchemaItem] = (),
) -> tuple[sa.Table, sa.Table]:
    """Add ``<prefix>product_groups`` (code, name) and ``<prefix>products`` (code, name,
    group_code, unit, vat_rate, active, version, updated_at, then ``extra``: the service's own
    columns and indexes) to ``metadata``; returns (groups, products). ``version_type``: the
    ERP's version as the service keeps it (BIGINT holds every version the contract allows)."""
    groups = sa.Table(
        f"{prefix}product_groups",
        metadata,
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        updated_at(),
    )
    products = sa.Table(
        f"{prefix}products",
        metadata,
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("group_code", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        #: a product the ERP withdrew (``active: false``) is kept
        sa.Column("active", sa.Boolean, nullable=False),
        #: the ERP's version of the product (older or repeated versions change nothing)
        sa.Column("version", version_type, nullable=False),
        updated_at(),
        *extra,
    )
    return groups, products
