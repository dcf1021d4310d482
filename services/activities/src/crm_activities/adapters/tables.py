"""Table definitions of the activities database (SQLAlchemy Core). Alembic migrations mirror them
(``tests/integration/test_migrations.py`` compares the two)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from crm_common.client_access import define_client_access_tables
from crm_common.columns import created_at, timestamptz, updated_at
from crm_common.history import define_history_table
from crm_common.idempotency import define_idempotency_table
from crm_common.messaging.inbox import define_inbox_table
from crm_common.messaging.outbox import define_outbox_table

metadata = MetaData()

activities = Table(
    "activities",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("contact_person_id", UUID(as_uuid=True)),
    Column("employee_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("direction", Text, nullable=False),
    Column("occurred_at", timestamptz(), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("location", Text),
    Column("subject", Text),
    Column("notes", Text, nullable=False),
    Column("agreements", Text),
    Column("next_steps", Text),
    Column("meeting_id", UUID(as_uuid=True), unique=True),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    created_at(),
    CheckConstraint("duration_minutes >= 0", name="ck_activities_duration"),
)
# the timeline: WHERE client_id = :c ORDER BY occurred_at DESC, id DESC (keyset)
Index("ix_activities_client_timeline", activities.c.client_id, activities.c.occurred_at.desc(),
      activities.c.id.desc())
Index("ix_activities_employee_timeline", activities.c.employee_id,
      activities.c.occurred_at.desc(), activities.c.id.desc())
Index("ix_activities_timeline", activities.c.occurred_at.desc(), activities.c.id.desc())

meetings = Table(
    "meetings",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("employee_id", UUID(as_uuid=True), nullable=False),
    Column("contact_person_ids", ARRAY(UUID(as_uuid=True)), nullable=False,
           server_default="{}"),
    Column("starts_at", timestamptz(), nullable=False),
    Column("ends_at", timestamptz(), nullable=False),
    Column("place", Text),
    Column("purpose", Text),
    Column("status", Text, nullable=False),
    Column("cancel_reason", Text),
    Column("activity_id", UUID(as_uuid=True)),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    created_at(),
    Column("updated_by", UUID(as_uuid=True), nullable=False),
    updated_at(),
    CheckConstraint("ends_at > starts_at", name="ck_meetings_ends_after_start"),
)
Index("ix_meetings_employee_start", meetings.c.employee_id, meetings.c.starts_at, meetings.c.id)
Index("ix_meetings_client_start", meetings.c.client_id, meetings.c.starts_at, meetings.c.id)
Index("ix_meetings_start", meetings.c.starts_at, meetings.c.id)

competitors = Table(
    "competitors",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("eik", Text),
    Column("website", Text),
    Column("product_groups", ARRAY(Text), nullable=False, server_default="{}"),
    Column("notes", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    created_at(),
    Column("updated_by", UUID(as_uuid=True), nullable=False),
    updated_at(),
)
Index("ux_competitors_name", func.lower(competitors.c.name), unique=True)
Index("ix_competitors_name_order", competitors.c.name, competitors.c.id)

observations = Table(
    "competitor_observations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("competitor_id", UUID(as_uuid=True), ForeignKey("competitors.id"), nullable=False),
    Column("observed_on", Date, nullable=False),
    Column("kind", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("product_group", Text),
    Column("source", Text),
    Column("impact", Text, nullable=False),
    Column("reported_by", UUID(as_uuid=True), nullable=False),
    created_at(),
)
Index("ix_observations_competitor", observations.c.competitor_id,
      observations.c.observed_on.desc(), observations.c.id.desc())
Index("ix_observations_client", observations.c.client_id, observations.c.observed_on.desc(),
      observations.c.id.desc())
Index("ix_observations_timeline", observations.c.observed_on.desc(), observations.c.id.desc())

calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("employee_id", UUID(as_uuid=True), primary_key=True),
    # SHA-256 of the secret in the URL; the secret itself is never stored
    Column("token_hash", Text, nullable=False, unique=True),
    Column("rotated_at", timestamptz(), nullable=False, server_default=func.now()),
    Column("rotated_by", UUID(as_uuid=True), nullable=False),
)

history = define_history_table(metadata)
Index("ix_history_entity", history.c.entity_id, history.c.id.desc())

outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)
#: the stored outcomes of mutations sent with an Idempotency-Key (crm_common.idempotency)
idempotency_keys = define_idempotency_table(metadata)

#: projections of clients, employees and meeting grants (crm_common.client_access)
access = define_client_access_tables(metadata)
