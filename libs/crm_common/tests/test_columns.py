"""The columns every service declares alike (crm_common.columns): each call makes new columns,
of the types and defaults the services' migrations create (their migration tests compare)."""

from __future__ import annotations

import sqlalchemy as sa

from crm_common.columns import created_at, timestamptz, updated_at, version_columns


def test_two_tables_each_get_their_own_columns() -> None:
    metadata = sa.MetaData()
    one = sa.Table("one", metadata, sa.Column("id", sa.Integer, primary_key=True),
                   created_at(), *version_columns())
    two = sa.Table("two", metadata, sa.Column("id", sa.Integer, primary_key=True),
                   updated_at())
    assert [c.name for c in one.c] == ["id", "created_at", "version", "updated_at"]
    assert [c.name for c in two.c] == ["id", "updated_at"]
    assert one.c.updated_at is not two.c.updated_at


def test_moments_are_timezone_aware_and_default_to_the_database_clock() -> None:
    assert timestamptz().timezone is True
    for column in (created_at(), updated_at()):
        assert isinstance(column.type, sa.DateTime) and column.type.timezone
        assert not column.nullable
        assert column.server_default is not None
    version, _ = version_columns()
    assert isinstance(version.type, sa.Integer) and not version.nullable
