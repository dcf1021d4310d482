"""Snapshots of a task and an attachment as events carry them (plain JSON values, camelCase)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from crm_common.problems import camel

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


def jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def snapshot(row: Mapping[Any, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {camel(f): jsonable(row[f]) for f in fields}


def task_snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, TASK_FIELDS)


def attachment_snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, ATTACHMENT_FIELDS)
