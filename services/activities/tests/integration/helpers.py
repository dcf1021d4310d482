"""Shared set-up of the integration tests: a world of clients and employees known to the
service (through the events the clients service would publish)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from .conftest import Publisher, Service, wait_until

USER_ERRORS = "userErrors { field code message }"
ACTIVITY = """id clientId contactPersonId employeeId kind direction occurredAt durationMinutes
  location subject notes agreements nextSteps meetingId createdBy"""
MEETING = """id clientId employeeId contactPersonIds startsAt endsAt place purpose status
  cancelReason activityId version"""

LOG = f"""mutation($input: LogActivityInput!) {{ logActivity(input: $input) {{
  activity {{ {ACTIVITY} }} {USER_ERRORS} }} }}"""
SCHEDULE = f"""mutation($input: ScheduleMeetingInput!) {{ scheduleMeeting(input: $input) {{
  meeting {{ {MEETING} }} {USER_ERRORS} }} }}"""
RESCHEDULE = f"""mutation($input: RescheduleMeetingInput!) {{ rescheduleMeeting(input: $input) {{
  meeting {{ {MEETING} }} {USER_ERRORS} }} }}"""
CANCEL = f"""mutation($input: CancelMeetingInput!) {{ cancelMeeting(input: $input) {{
  meeting {{ {MEETING} }} {USER_ERRORS} }} }}"""
COMPLETE = f"""mutation($input: CompleteMeetingInput!) {{ completeMeeting(input: $input) {{
  meeting {{ {MEETING} }} activity {{ {ACTIVITY} }} {USER_ERRORS} }} }}"""
TIMELINE = f"""query($filter: ActivityFilterInput, $first: Int, $after: String) {{
  activities(filter: $filter, first: $first, after: $after) {{
    edges {{ cursor node {{ {ACTIVITY} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""


async def sql(service: Service, statement: str, **params: object) -> list[dict[str, object]]:
    engine = create_async_engine(service.database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text(statement), params)).mappings().all()
            return [dict(r) for r in rows]
    finally:
        await engine.dispose()


@dataclass
class World:
    manager: uuid.UUID
    rep: uuid.UUID
    other_rep: uuid.UUID
    rep_client: uuid.UUID      # owned by rep
    other_client: uuid.UUID    # owned by other_rep
    free_client: uuid.UUID     # owned by nobody


async def make_world(service: Service, publisher: Publisher) -> World:
    """Employees and clients the service knows through its projections (waits until it does)."""
    w = World(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(),
              uuid.uuid4())
    await publisher.employee(w.manager, role="manager", name="Мария Манева")
    await publisher.employee(w.rep, name="Иван Петров")
    await publisher.employee(w.other_rep, name="Петър Иванов")
    await publisher.client(w.rep_client, owner=w.rep, name="Тракия Дистрибуция АД")
    await publisher.client(w.other_client, owner=w.other_rep, name="Родопа Трейд ООД")
    await publisher.client(w.free_client, owner=None, name="Дунав Агро ЕАД")

    async def known() -> bool:
        clients = await sql(service, "SELECT count(*) AS n FROM access_clients WHERE client_id "
                            "IN (:a, :b, :c)", a=w.rep_client, b=w.other_client, c=w.free_client)
        employees = await sql(service, "SELECT count(*) AS n FROM access_employees WHERE "
                              "employee_id IN (:a, :b, :c)", a=w.manager, b=w.rep, c=w.other_rep)
        return clients[0]["n"] == 3 and employees[0]["n"] == 3

    await wait_until(known)
    return w
