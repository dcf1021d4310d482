"""Saved reports (docs/reports.md, "Saved reports"): a definition with a name and an owner,
private or shared with roles, versioned (every change is a new row of
``saved_report_versions``; a stale ``version`` is a CONFLICT). Built-in reports are seeded at
start-up (:func:`seed_builtins`), shared with every role, changed only by admins.

Who sees a saved report: its owner, anyone holding a role it is shared with, admins. Seeing a
report is not seeing its data: every run applies the runner's access rule (DESIGN §6).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from crm_analytics.adapters.tables import saved_report_versions, saved_reports
from crm_analytics.reports.builtins import BUILTINS
from crm_analytics.reports.definition import Definition, check, from_json
from crm_common.auth import ROLES, Principal
from crm_common.paging import Page, keyset_page
from crm_common.problems import FieldProblem, Problems, conflict, forbidden, not_found, problem

MAX_NAME = 200
MAX_DESCRIPTION = 2000
ALL_ROLES = sorted(ROLES)


@dataclass(frozen=True)
class SavedReport:
    report_id: uuid.UUID
    builtin_key: str | None
    owner_id: uuid.UUID | None
    name: str
    description: str | None
    shared_with: list[str]
    definition: Definition
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: Any) -> SavedReport:
        return cls(row.report_id, row.builtin_key, row.owner_id, row.name, row.description,
                   list(row.shared_with), from_json(row.definition), row.version,
                   row.created_at, row.updated_at)


def visible_condition(principal: Principal) -> sa.ColumnElement[bool]:
    """The saved reports ``principal`` may see and run (not archived)."""
    t = saved_reports
    live = t.c.archived_at.is_(None)
    if principal.is_admin:
        return live
    roles = sorted(principal.roles)
    shared = t.c.shared_with.op("?|")(sa.cast(sa.literal(roles), sa.ARRAY(sa.Text)))
    return sa.and_(live, sa.or_(t.c.owner_id == principal.subject, shared))


async def get(conn: AsyncConnection | AsyncSession, principal: Principal,
              report_id: uuid.UUID) -> SavedReport | None:
    row = (await conn.execute(sa.select(saved_reports).where(
        saved_reports.c.report_id == report_id, visible_condition(principal)))).first()
    return SavedReport.of(row) if row is not None else None


async def page_visible(reader: AsyncEngine, principal: Principal, *, first: int,
                       after: str | None) -> tuple[list[SavedReport], Page]:
    """A page of the saved reports ``principal`` may see, by name (keyset); ``InvalidCursor``
    for a cursor of another ordering."""
    t = saved_reports
    page = await keyset_page(reader, sa.select(t, t.c.report_id.label("id"))
                             .where(visible_condition(principal)),
                             key=t.c.name, key_type=str, id_col=t.c.report_id, first=first,
                             after=after)
    return [SavedReport.of(r) for r in page.rows], page


async def versions(conn: AsyncConnection, report_id: uuid.UUID) -> list[dict[str, Any]]:
    v = saved_report_versions
    rows = await conn.execute(sa.select(v).where(v.c.report_id == report_id)
                              .order_by(v.c.version.desc()))
    return [dict(r._mapping) for r in rows]


def _check_texts(name: str | None, description: str | None,
                 shared_with: list[str] | None) -> None:
    problems: list[FieldProblem] = []
    if name is not None:
        if not name.strip():
            problems.append(FieldProblem(("input", "name"), "REQUIRED", "give a name"))
        elif len(name) > MAX_NAME:
            problems.append(FieldProblem(("input", "name"), "TOO_LONG",
                                         f"at most {MAX_NAME} characters"))
        elif any(ord(ch) < 32 for ch in name):
            problems.append(FieldProblem(("input", "name"), "INVALID_VALUE",
                                         "control characters are not allowed"))
    if description is not None and (len(description) > MAX_DESCRIPTION
                                    or "\x00" in description):
        problems.append(FieldProblem(("input", "description"), "INVALID_VALUE",
                                     f"at most {MAX_DESCRIPTION} characters, no NUL"))
    for i, role in enumerate(shared_with or []):
        if role not in ROLES:
            problems.append(FieldProblem(("input", "sharedWith", str(i)), "INVALID_VALUE",
                                         "one of " + ", ".join(f"'{r}'" for r in ALL_ROLES)))
    if problems:
        raise Problems(problems)


async def _write_version(session: AsyncSession, report_id: uuid.UUID, version: int, name: str,
                         shared_with: list[str], definition: dict[str, Any],
                         changed_by: uuid.UUID | None) -> None:
    await session.execute(insert(saved_report_versions).values(
        report_id=report_id, version=version, name=name, shared_with=shared_with,
        definition=definition, changed_by=changed_by))


async def create(session: AsyncSession, principal: Principal, *, name: str,
                 description: str | None, definition: Definition, shared_with: list[str],
                 today: dt.date) -> uuid.UUID:
    _check_texts(name, description, shared_with)
    check(definition, today)
    report_id = uuid.uuid4()
    raw = definition.to_json()
    shared = sorted(set(shared_with))
    await session.execute(insert(saved_reports).values(
        report_id=report_id, owner_id=principal.subject, name=name.strip(),
        description=description, shared_with=shared, definition=raw, version=1))
    await _write_version(session, report_id, 1, name.strip(), shared, raw, principal.subject)
    return report_id


async def _changeable(session: AsyncSession, principal: Principal, report_id: uuid.UUID,
                      version: int) -> Any:
    row = (await session.execute(sa.select(saved_reports).where(
        saved_reports.c.report_id == report_id, visible_condition(principal))
        .with_for_update())).first()
    if row is None:
        raise not_found("saved report")
    if not principal.is_admin and (row.builtin_key is not None
                                   or row.owner_id != principal.subject):
        raise forbidden("only the report's owner (or an admin; built-in reports: admins) may "
                        "change it")
    if row.version != version:
        raise conflict("saved report")
    return row


async def update(session: AsyncSession, principal: Principal, report_id: uuid.UUID, *,
                 version: int, name: str | None, description: str | None,
                 definition: Definition | None, shared_with: list[str] | None,
                 today: dt.date) -> uuid.UUID:
    _check_texts(name, description, shared_with)
    if definition is not None:
        check(definition, today)
    row = await _changeable(session, principal, report_id, version)
    new_name = name.strip() if name is not None else row.name
    shared = sorted(set(shared_with)) if shared_with is not None else list(row.shared_with)
    raw = definition.to_json() if definition is not None else row.definition
    await session.execute(sa.update(saved_reports).where(
        saved_reports.c.report_id == report_id).values(
        name=new_name, description=description if description is not None else row.description,
        shared_with=shared, definition=raw, version=version + 1, updated_at=sa.func.now()))
    await _write_version(session, report_id, version + 1, new_name, shared, raw,
                         principal.subject)
    return report_id


async def archive(session: AsyncSession, principal: Principal, report_id: uuid.UUID, *,
                  version: int) -> uuid.UUID:
    await _changeable(session, principal, report_id, version)
    await session.execute(sa.update(saved_reports).where(
        saved_reports.c.report_id == report_id).values(
        archived_at=sa.func.now(), version=version + 1, updated_at=sa.func.now()))
    return report_id


async def seed_builtins(engine: AsyncEngine) -> int:
    """Insert the built-in reports not yet present (by key); return how many were added.
    Idempotent and safe with several replicas starting at once (the unique key decides)."""
    added = 0
    async with engine.begin() as conn:
        for b in BUILTINS:
            report_id = uuid.uuid5(uuid.NAMESPACE_URL, f"crm-analytics/builtin/{b.key}")
            raw = b.definition.to_json()
            inserted = await conn.execute(insert(saved_reports).values(
                report_id=report_id, builtin_key=b.key, owner_id=None, name=b.name,
                description=b.description, shared_with=ALL_ROLES, definition=raw, version=1)
                .on_conflict_do_nothing().returning(saved_reports.c.report_id))
            if inserted.first() is not None:
                added += 1
                await conn.execute(insert(saved_report_versions).values(
                    report_id=report_id, version=1, name=b.name, shared_with=ALL_ROLES,
                    definition=sa.cast(raw, JSONB), changed_by=None))
    return added


def require_visible(report: SavedReport | None) -> SavedReport:
    if report is None:
        raise problem(("input", "reportId"), "NOT_FOUND", "saved report not found")
    return report
