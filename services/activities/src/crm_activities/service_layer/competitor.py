"""Commands on competitors and their observed changes of strategy.

Competitors are shared reference data: every employee may add one and record observations (reps
see competitors at their clients first); a competitor is changed by managers, admins or the
employee who added it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_activities.adapters.tables import competitors, observations
from crm_activities.domain import access as rules
from crm_activities.domain.competitor import validate_competitor, validate_observation
from crm_activities.service_layer.history import diff, record_history
from crm_activities.service_layer.visibility import check_client
from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import forbidden, not_found, problem
from crm_common.uow import UnitOfWork
from crm_common.versioning import lock_versioned

EVENT_OBSERVATION_RECORDED = "crm.activities.competitor.observation.recorded"

COMPETITOR_FIELDS = ("id", "name", "eik", "website", "product_groups", "notes", "version")
OBSERVATION_FIELDS = ("id", "competitor_id", "observed_on", "kind", "description", "client_id",
                      "product_group", "source", "impact", "reported_by", "created_at")


async def _duplicate(session: AsyncSession, name: str, exclude: uuid.UUID | None) -> None:
    statement = select(competitors.c.id).where(func.lower(competitors.c.name) == name.lower())
    if exclude is not None:
        statement = statement.where(competitors.c.id != exclude)
    other = await session.scalar(statement.limit(1))
    if other is not None:
        raise problem(("input", "name"), "DUPLICATE",
                      f"a competitor with this name already exists (id {other})")


async def _store(session: AsyncSession, statement: Any, name: str | None,
                 exclude: uuid.UUID | None) -> None:
    """Run the insert or update; a concurrent one with the same name is a DUPLICATE userError."""
    try:
        async with session.begin_nested():
            await session.execute(statement)
    except IntegrityError:
        if name is not None:
            await _duplicate(session, name, exclude)
        raise


async def create_competitor(uow: UnitOfWork, principal: Principal,
                            raw: Mapping[str, Any]) -> uuid.UUID:
    values = validate_competitor(raw, creating=True)
    session = uow.session
    await _duplicate(session, values["name"], None)
    competitor_id = uuid.uuid4()
    await _store(session, insert(competitors).values(
        id=competitor_id, created_by=principal.subject, updated_by=principal.subject, **values),
        values["name"], None)
    row = await _row(session, competitor_id)
    await record_history(session, actor=principal.subject, entity_type="competitor",
                         entity_id=competitor_id, operation="create",
                         changes={"new": snapshot(row, COMPETITOR_FIELDS)})
    await uow.commit()
    return competitor_id


async def _row(session: AsyncSession, competitor_id: uuid.UUID) -> RowMapping:
    row: RowMapping = (await session.execute(
        select(competitors).where(competitors.c.id == competitor_id))).mappings().one()
    return row


async def update_competitor(uow: UnitOfWork, principal: Principal, competitor_id: uuid.UUID,
                            version: Any, raw: Mapping[str, Any]) -> uuid.UUID:
    values = validate_competitor(raw, creating=False)
    session = uow.session

    def allowed(row: RowMapping) -> None:
        if not (rules.acts_for_others(principal) or row["created_by"] == principal.subject):
            raise forbidden("a competitor is changed by managers or the employee who added it",
                            field=("input", "id"))

    row = await lock_versioned(session, competitors, competitor_id, version, what="competitor",
                               allowed=allowed)
    changes = diff(row, values)
    if not changes:
        return competitor_id
    if "name" in values:
        await _duplicate(session, values["name"], competitor_id)
    await _store(session, update(competitors).where(competitors.c.id == competitor_id).values(
        **values, version=competitors.c.version + 1, updated_at=func.now(),
        updated_by=principal.subject), values.get("name"), competitor_id)
    await record_history(session, actor=principal.subject, entity_type="competitor",
                         entity_id=competitor_id, operation="update", changes=changes)
    await uow.commit()
    return competitor_id


async def record_observation(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                             now: dt.datetime, grace: dt.timedelta) -> uuid.UUID:
    values = validate_observation(raw, now.date())
    session = uow.session
    competitor = (await session.execute(
        select(competitors.c.id, competitors.c.name)
        .where(competitors.c.id == values.competitor_id))).mappings().one_or_none()
    if competitor is None:
        raise not_found("competitor", field=("input", "competitorId"))
    if values.client_id is not None:
        await check_client(session, principal, values.client_id, ("input", "clientId"), now,
                           grace)
    observation_id = uuid.uuid4()
    await session.execute(insert(observations).values(
        id=observation_id, competitor_id=values.competitor_id, observed_on=values.observed_on,
        kind=values.kind.value, description=values.description, client_id=values.client_id,
        product_group=values.product_group, source=values.source, impact=values.impact.value,
        reported_by=principal.subject))
    row = (await session.execute(
        select(observations).where(observations.c.id == observation_id))).mappings().one()
    state = snapshot(row, OBSERVATION_FIELDS)
    await record_history(session, actor=principal.subject, entity_type="competitor_observation",
                         entity_id=observation_id, operation="create", changes={"new": state},
                         client_id=values.client_id)
    uow.record(DomainEvent(
        type=EVENT_OBSERVATION_RECORDED, subject=str(observation_id),
        data={"observation": state,
              "competitor": {"id": str(competitor["id"]), "name": competitor["name"]}}))
    await uow.commit()
    return observation_id
