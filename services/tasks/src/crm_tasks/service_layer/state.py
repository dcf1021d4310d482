"""Snapshots of a task and an attachment as events carry them (plain JSON values, camelCase)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.jsonvalues import snapshot

TASK_FIELDS = (
    "id", "number", "title", "description", "kind", "commitment_type", "client_id",
    "activity_id", "meeting_id", "contract_id", "assignee_id", "assigned_by", "due_date",
    "priority", "status", "outcome", "refusal_reason", "watchers", "version", "created_at",
    "updated_at", "closed_at",
)
ATTACHMENT_FIELDS = (
    "id", "task_id", "file_name", "declared_type", "detected_type", "size", "sha256", "status",
    "created_by", "created_at", "stored_at", "removed_at",
)


def task_snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, TASK_FIELDS)


def attachment_snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, ATTACHMENT_FIELDS)
