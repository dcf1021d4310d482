"""The catalogue's tables (crm_common.erp.tables): one definition, named and extended by each
service (both services' migration tests check their tables against their Alembic revisions)."""

from __future__ import annotations

import sqlalchemy as sa

from crm_common.erp.tables import define_catalogue_tables


def test_the_tables_as_pricing_keeps_them() -> None:
    metadata = sa.MetaData()
    groups, products = define_catalogue_tables(
        metadata, extra=[sa.Index("ix_products_group", "group_code", "code")])
    assert (groups.name, products.name) == ("product_groups", "products")
    assert [c.name for c in groups.c] == ["code", "name", "updated_at"]
    assert [c.name for c in products.c] == ["code", "name", "group_code", "unit", "vat_rate",
                                            "active", "version", "updated_at"]
    assert isinstance(products.c.version.type, sa.BigInteger)
    assert [c.name for c in products.primary_key] == ["code"]
    assert {i.name for i in products.indexes} == {"ix_products_group"}
    assert all(not c.nullable for c in products.c)


def test_a_prefix_an_integer_version_and_columns_of_its_own() -> None:
    metadata = sa.MetaData()
    groups, products = define_catalogue_tables(
        metadata, prefix="erp_", version_type=sa.Integer,
        extra=[sa.Column("base_amount", sa.Numeric(18, 2))])
    assert set(metadata.tables) == {"erp_product_groups", "erp_products"}
    assert type(products.c.version.type) is sa.Integer
    assert products.c.base_amount.nullable and "base_amount" not in groups.c
