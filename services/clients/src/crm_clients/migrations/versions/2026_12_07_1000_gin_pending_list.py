"""trigram indexes: a pending list of at most 256 kB (issue 15, createClient)

A GIN index with ``fastupdate`` (PostgreSQL's default) queues new entries in a pending list that
every search reads in full, until a vacuum — or an insert that takes the list past
``gin_pending_list_limit`` (4 MB by default) — merges it into the index. On the bench database
after a run of creates and renames, 9,000 entries waited in the list of
``ix_clients_name_trgm`` and the similar-name warning of ``createClient`` took 42 ms instead
of 11 ms (``bench/similar_names.py``, 200 names; docs/benchmarks.md): the "unexplained" 52–58 ms
of PostgreSQL per create. Autovacuum merges the list in production too, but only after
``autovacuum_vacuum_insert_threshold`` rows or the change-count threshold, so a busy day of
writes can keep a multi-megabyte list between runs.

256 kB bounds what a search reads (~2 ms at most) while writes keep the list's batching; with
``fastupdate`` off instead, 5,000 renames took 15.8 s against 6.5 s at 256 kB and 2.9 s at 4 MB
(the three indexes, one statement, same machine). The lists are merged now, so the limit holds
from the start.

Revision ID: clients_gin_pending_list
Revises: clients_idempotency
Create Date: 2026-12-07 23:10:00
"""
from alembic import op

revision = 'clients_gin_pending_list'
down_revision = 'clients_idempotency'
branch_labels = None
depends_on = None

INDEXES = ("ix_clients_search", "ix_clients_search_names", "ix_clients_name_trgm")
#: kB
PENDING_LIST_LIMIT = 256


def upgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {PENDING_LIST_LIMIT})")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
