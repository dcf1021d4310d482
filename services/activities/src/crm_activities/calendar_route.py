"""``GET /calendar/{token}.ics``: an employee's meetings as an iCalendar feed.

No bearer token (calendar programs cannot send one): the secret in the URL is the credential.
An unknown or rotated secret is a plain 404. The gateway does not proxy this route; the URL is the
activities service's own (``CALENDAR_BASE_URL``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import icalendar
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crm_activities.domain.meeting import MeetingStatus
from crm_activities.service_layer.calendar_feed_queries import feed_meetings
from crm_common.service import runtime_of

PRODID = "-//CRM//activities//EN"


def calendar_of(employee: str, rows: Sequence[Mapping[Any, Any]],
                stamp: dt.datetime) -> bytes:
    """The VCALENDAR: one VEVENT per meeting (UID = meeting id, SEQUENCE = its version, a
    cancelled meeting STATUS:CANCELLED so that calendar programs drop it)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "CRM meetings")
    for row in rows:
        event = icalendar.Event()
        event.add("uid", f"{row['id']}@crm-activities")
        event.add("dtstamp", stamp)
        event.add("dtstart", row["starts_at"])
        event.add("dtend", row["ends_at"])
        event.add("sequence", row["version"])
        client = row.get("client_name") or "client"
        event.add("summary", f"{client}: {row['purpose']}" if row["purpose"] else
                  f"Meeting with {client}")
        if row["place"]:
            event.add("location", row["place"])
        if row["purpose"]:
            event.add("description", row["purpose"])
        status = row["status"]
        event.add("status", "CANCELLED" if status == MeetingStatus.CANCELLED.value else
                  "CONFIRMED")
        event.add("last-modified", row["updated_at"])
        cal.add_component(event)
    del employee
    return bytes(cal.to_ical())


def calendar_routes() -> list[Route]:
    """The feed route; it reads through the runtime in the request's lifespan state."""

    async def feed(request: Request) -> Response:
        token = str(request.path_params["token"])
        now = dt.datetime.now(dt.UTC)
        found = await feed_meetings(runtime_of(request).reader, token, now)
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        employee, rows = found
        return Response(calendar_of(str(employee), rows, now),
                        media_type="text/calendar; charset=utf-8",
                        headers={"cache-control": "private, max-age=300"})

    return [Route("/calendar/{token}.ics", feed, methods=["GET"])]
