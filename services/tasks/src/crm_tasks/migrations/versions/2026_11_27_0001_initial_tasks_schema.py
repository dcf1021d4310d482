"""initial tasks schema

Revision ID: 0001_tasks
Revises:
Create Date: 2026-11-27 11:29:43.354985
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001_tasks'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE task_number_seq")
    op.create_table('access_clients',
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('client_id')
    )
    op.create_index('ix_access_clients_owner', 'access_clients', ['owner_id'], unique=False)
    op.create_table('access_employees',
    sa.Column('employee_id', sa.UUID(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('manager_id', sa.UUID(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('employee_id')
    )
    op.create_table('access_meeting_grants',
    sa.Column('meeting_id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.UUID(), nullable=False),
    sa.Column('employee_id', sa.UUID(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meeting_id')
    )
    op.create_index('ix_access_meeting_grants_employee', 'access_meeting_grants', ['employee_id', 'client_id'], unique=False)
    op.create_table('inbox',
    sa.Column('consumer', sa.Text(), nullable=False),
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('routing_key', sa.Text(), nullable=False),
    sa.Column('envelope', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['created_at'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('tasks',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('commitment_type', sa.Text(), nullable=True),
    sa.Column('client_id', sa.UUID(), nullable=True),
    sa.Column('activity_id', sa.UUID(), nullable=True),
    sa.Column('meeting_id', sa.UUID(), nullable=True),
    sa.Column('contract_id', sa.UUID(), nullable=True),
    sa.Column('assignee_id', sa.UUID(), nullable=False),
    sa.Column('assigned_by', sa.UUID(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('priority', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('watchers', postgresql.ARRAY(sa.UUID()), server_default='{}', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_index('ix_tasks_assigned_by_due', 'tasks', ['assigned_by', 'due_date', 'id'], unique=False)
    op.create_index('ix_tasks_assignee_due', 'tasks', ['assignee_id', 'due_date', 'id'], unique=False)
    op.create_index('ix_tasks_client_due', 'tasks', ['client_id', 'due_date', 'id'], unique=False, postgresql_where=sa.text('client_id IS NOT NULL'))
    op.create_index('ix_tasks_due', 'tasks', ['due_date', 'id'], unique=False)
    op.create_index('ix_tasks_open_due', 'tasks', ['due_date', 'id'], unique=False, postgresql_where=sa.text("status IN ('assigned', 'in_progress', 'in_production', 'on_hold')"))
    op.create_table('attachments',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('file_id', sa.Text(), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('declared_type', sa.Text(), nullable=True),
    sa.Column('detected_type', sa.Text(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('file_state', sa.Text(), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('upload_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('upload_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.UUID(), nullable=True),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.Column('delete_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_delete_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_delete_error', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_id')
    )
    op.create_index('ix_attachments_pending', 'attachments', ['upload_expires_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_attachments_sweep', 'attachments', ['file_state', 'next_delete_at'], unique=False, postgresql_where=sa.text("file_state IN ('writing', 'to_delete')"))
    op.create_index('ix_attachments_task', 'attachments', ['task_id', 'created_at'], unique=False)
    op.create_table('task_history',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('operation', sa.Text(), nullable=False),
    sa.Column('from_status', sa.Text(), nullable=True),
    sa.Column('to_status', sa.Text(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('correlation_id', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_task_history_task', 'task_history', ['task_id', 'id'], unique=False)
    op.create_table('task_reminders',
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('task_id', 'kind', 'due_date', name='pk_task_reminders')
    )


def downgrade() -> None:
    op.drop_table('task_reminders')
    op.drop_index('ix_task_history_task', table_name='task_history')
    op.drop_table('task_history')
    op.drop_index('ix_attachments_task', table_name='attachments')
    op.drop_index('ix_attachments_sweep', table_name='attachments', postgresql_where=sa.text("file_state IN ('writing', 'to_delete')"))
    op.drop_index('ix_attachments_pending', table_name='attachments', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('attachments')
    op.drop_index('ix_tasks_open_due', table_name='tasks', postgresql_where=sa.text("status IN ('assigned', 'in_progress', 'in_production', 'on_hold')"))
    op.drop_index('ix_tasks_due', table_name='tasks')
    op.drop_index('ix_tasks_client_due', table_name='tasks', postgresql_where=sa.text('client_id IS NOT NULL'))
    op.drop_index('ix_tasks_assignee_due', table_name='tasks')
    op.drop_index('ix_tasks_assigned_by_due', table_name='tasks')
    op.drop_table('tasks')
    op.drop_index('ix_outbox_unpublished', table_name='outbox', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('inbox')
    op.drop_index('ix_access_meeting_grants_employee', table_name='access_meeting_grants')
    op.drop_table('access_meeting_grants')
    op.drop_table('access_employees')
    op.drop_index('ix_access_clients_owner', table_name='access_clients')
    op.drop_table('access_clients')
    op.execute("DROP SEQUENCE task_number_seq")
