"""Audit lines as the inventory publishes them, read strictly; the task they raise."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm_common.client_access import MalformedEvent
from crm_tasks.domain.audit_line import (
    EVENT_AUDITED,
    EVENT_MISSING,
    AuditResult,
    due_date,
    parse_audit_line,
    plain,
    task_text,
)
from crm_tasks.domain.task import MAX_DESCRIPTION, MAX_TITLE

SOFIA = ZoneInfo("Europe/Sofia")


def _data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "auditId": str(uuid.uuid4()), "assetId": str(uuid.uuid4()),
        "inventoryNumber": "INV-123", "assetTypeName": "Fridge",
        "clientId": str(uuid.uuid4()), "clientOwnerId": None, "placementId": None,
        "result": "missing", "condition": None, "notes": None,
        "auditedBy": str(uuid.uuid4()), "auditedAt": "2026-12-07T09:15:00Z",
        "activityId": None, "version": 3,
    }
    data.update(changes)
    return data


def _envelope(data: Any, type_: str = EVENT_AUDITED) -> dict[str, Any]:
    return {"type": type_, "data": data}


def test_a_line_is_read() -> None:
    owner = uuid.uuid4()
    got = parse_audit_line(_envelope(_data(clientOwnerId=str(owner), result="damaged",
                                           condition="dented")))
    assert got.result is AuditResult.DAMAGED and got.raises_task
    assert got.client_owner_id == owner and got.condition == "dented"
    assert got.audited_at == dt.datetime(2026, 12, 7, 9, 15, tzinfo=dt.UTC)
    assert got.version == 3
    for result in ("found", "moved", "unrecorded"):
        assert not parse_audit_line(_envelope(_data(result=result))).raises_task


@pytest.mark.parametrize("data", [
    None, "text", [], _data(auditId="nope"), _data(assetId=None), _data(clientId=7),
    _data(auditedBy=""), _data(clientOwnerId="x"), _data(activityId={"id": 1}),
    _data(result="stolen"), _data(result=None), _data(inventoryNumber=""),
    _data(inventoryNumber="   "), _data(inventoryNumber=123), _data(assetTypeName=None),
    _data(condition=5), _data(notes=["a"]), _data(auditedAt="yesterday"),
    _data(auditedAt="2026-12-07T09:15:00"), _data(auditedAt=1733562900),
    _data(auditedAt="2026-12-07T09:15:00+00:00" + " " * 100), _data(version=0),
    _data(version=True), _data(version="3"), _data(version=None),
])
def test_a_malformed_line_is_refused(data: Any) -> None:
    with pytest.raises(MalformedEvent):
        parse_audit_line(_envelope(data))


def test_a_missing_event_must_carry_a_missing_line() -> None:
    assert parse_audit_line(_envelope(_data(), EVENT_MISSING)).result is AuditResult.MISSING
    with pytest.raises(MalformedEvent):
        parse_audit_line(_envelope(_data(result="damaged"), EVENT_MISSING))


def test_due_date_counts_from_the_day_of_the_audit_in_the_service_zone() -> None:
    late = parse_audit_line(_envelope(_data(auditedAt="2026-12-07T22:30:00+00:00")))
    assert due_date(late, SOFIA, 7) == dt.date(2026, 12, 15)  # already the 8th in Sofia
    assert due_date(late, ZoneInfo("UTC"), 7) == dt.date(2026, 12, 14)
    assert due_date(late, SOFIA, 0) == dt.date(2026, 12, 8)


def test_the_task_text_names_the_asset_and_the_client() -> None:
    line = parse_audit_line(_envelope(_data(notes="На склад\r\nпри дистрибутора")))
    title, description = task_text(line, "Тракия Дистрибуция АД")
    assert title == "Asset INV-123 (Fridge) missing at Тракия Дистрибуция АД"
    assert str(line.audit_id) in description and "Notes: На склад" in description
    assert "\r" not in description
    assert f"(audited by employee {line.audited_by})" in description
    title, description = task_text(line, None, "Петър Иванов")
    assert title.endswith(f"missing at client {line.client_id}")
    assert "(audited by Петър Иванов)" in description


def test_hostile_and_huge_text_is_made_safe_and_cut() -> None:
    line = parse_audit_line(_envelope(_data(
        inventoryNumber="INV\u202e-1\x00\r\n" + "9" * 10_000, assetTypeName="a\u2066b" * 5000,
        notes="\x07" + "x" * 1_000_000, condition="\ud800bad")))
    title, description = task_text(line, "\u202eevil\x1b[31m" * 100)
    assert len(title) <= MAX_TITLE and len(description) <= MAX_DESCRIPTION
    for text in (title, description):
        assert not any(c in text for c in "\u202e\u2066\x00\x07\x1b\r\ud800")
    assert "\n" not in title and "…" in title


@pytest.mark.parametrize(("value", "limit", "expected"), [
    ("  a\tb\n c  ", 20, "a b c"), ("abcdef", 4, "abc…"), ("\u202e", 5, ""),
])
def test_plain(value: str, limit: int, expected: str) -> None:
    assert plain(value, limit) == expected
