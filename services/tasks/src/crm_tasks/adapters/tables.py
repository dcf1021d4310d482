"""Table definitions of the tasks database (SQLAlchemy Core). Alembic migrations mirror them."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from crm_common.attachments.tables import define_attachment_table
from crm_common.client_access import define_client_access_tables
from crm_common.columns import created_at, timestamptz, updated_at
from crm_common.history import define_history_table
from crm_common.idempotency import define_idempotency_table
from crm_common.messaging.inbox import define_inbox_table
from crm_common.messaging.outbox import define_outbox_table

metadata = MetaData()

task_number_seq = Sequence("task_number_seq", metadata=metadata)

OPEN_STATUS_SQL = "status IN ('assigned', 'in_progress', 'in_production', 'on_hold')"

tasks = Table(
    "tasks",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("kind", Text, nullable=False),
    Column("commitment_type", Text),
    Column("client_id", UUID(as_uuid=True)),
    Column("activity_id", UUID(as_uuid=True)),
    Column("meeting_id", UUID(as_uuid=True)),
    Column("contract_id", UUID(as_uuid=True)),
    Column("assignee_id", UUID(as_uuid=True), nullable=False),
    Column("assigned_by", UUID(as_uuid=True), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("outcome", Text),
    Column("refusal_reason", Text),
    Column("watchers", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    Column("version", Integer, nullable=False, server_default="1"),
    created_at(),
    updated_at(),
    Column("closed_at", timestamptz()),
)
# every list is ordered by (due_date, id): one index per way in
Index("ix_tasks_assignee_due", tasks.c.assignee_id, tasks.c.due_date, tasks.c.id)
Index("ix_tasks_assigned_by_due", tasks.c.assigned_by, tasks.c.due_date, tasks.c.id)
Index("ix_tasks_client_due", tasks.c.client_id, tasks.c.due_date, tasks.c.id,
      postgresql_where=text("client_id IS NOT NULL"))
Index("ix_tasks_due", tasks.c.due_date, tasks.c.id)
Index("ix_tasks_open_due", tasks.c.due_date, tasks.c.id, postgresql_where=text(OPEN_STATUS_SQL))

#: the history of tasks (entity type "task"); the status columns and the comment are its own
task_history = define_history_table(
    metadata,
    Column("from_status", Text),
    Column("to_status", Text),
    Column("comment", Text),
    name="task_history", identity=True,
    entity=("task", Column("task_id", UUID(as_uuid=True), ForeignKey("tasks.id"),
                           nullable=False)),
)
Index("ix_task_history_task", task_history.c.task_id, task_history.c.id)

# "once per task and due date": the primary key makes a second send a no-op
task_reminders = Table(
    "task_reminders",
    metadata,
    Column("task_id", UUID(as_uuid=True), ForeignKey("tasks.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("sent_at", timestamptz(), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("task_id", "kind", "due_date", name="pk_task_reminders"),
)

#: the attachments of tasks: the kit's attachment table (crm_common.attachments), owned by a task
attachments = define_attachment_table(
    metadata, name="attachments",
    owner=("task", Column("task_id", UUID(as_uuid=True), ForeignKey("tasks.id"),
                          nullable=False)))

# the task each missing or damaged inventory audit line raised: the primary key makes the
# second event of a line (a redelivery, or crm.clients.asset.missing beside .audited) a no-op
audit_line_tasks = Table(
    "audit_line_tasks",
    metadata,
    Column("audit_id", UUID(as_uuid=True), nullable=False),
    Column("asset_id", UUID(as_uuid=True), nullable=False),
    Column("task_id", UUID(as_uuid=True),
           ForeignKey("tasks.id", deferrable=True, initially="DEFERRED"), nullable=False),
    Column("result", Text, nullable=False),
    created_at(),
    PrimaryKeyConstraint("audit_id", "asset_id", name="pk_audit_line_tasks"),
)

outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)
#: the stored outcomes of mutations sent with an Idempotency-Key (crm_common.idempotency)
idempotency_keys = define_idempotency_table(metadata)
access = define_client_access_tables(metadata)
