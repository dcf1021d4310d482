"""The client's price list as a file over plain HTTP, outside GraphQL, authorised by the signed
URL alone (``Client.priceListExport`` hands it out).

``GET /exports/price-lists/{client id}.{csv|xlsx}?date=..&by=..&roles=..&exp=..&sig=..``: the
signature binds the client, the day, the format, who asked (employee id and roles) and the
expiry; changing any of them, or coming after the expiry, is refused (403). The access rule is
applied again at download time for the employee who asked, so a rep who lost the client in the
meantime gets 404. The file is written while it is read (``price_list_export``): CSV streams
page by page; XLSX is built in constant memory into a temporary file, then streamed and deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crm_common.auth import ROLES, Principal
from crm_common.service import runtime_of, state_of
from crm_common.signing import BadSignature, sign, verify
from crm_pricing.adapters.tables import access as access_tables
from crm_pricing.config import PricingConfig
from crm_pricing.service_layer import price_list_export as export
from crm_pricing.service_layer.pricing_inputs import RuleBook
from crm_pricing.service_layer.quote import visible_client_facts
from crm_pricing.service_layer.visibility import Access

log = logging.getLogger("crm.pricing.exports")

PURPOSE = "crm-pricing-price-list-export"
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class SignedExport:
    url: str
    expires_at: dt.datetime


def _subject(client_id: uuid.UUID, day: dt.date, fmt: str, by: uuid.UUID,
             roles: str) -> str:
    return f"{client_id}\n{day.isoformat()}\n{fmt}\n{by}\n{roles}"


def signed_url(config: PricingConfig, principal: Principal, client_id: uuid.UUID,
               day: dt.date, fmt: str, now: float | None = None) -> SignedExport:
    """A short-lived URL of the export, for ``principal`` (who must see the client now)."""
    roles = ",".join(sorted(principal.roles))
    expires = int((now or time.time()) + config.export_url_ttl.total_seconds())
    signature = sign(config.url_secret, PURPOSE,
                     _subject(client_id, day, fmt, principal.subject, roles), expires)
    query = urlencode({"date": day.isoformat(), "by": str(principal.subject), "roles": roles,
                       "exp": str(expires), "sig": signature})
    return SignedExport(
        f"{config.public_base_url.rstrip('/')}/exports/price-lists/{client_id}.{fmt}?{query}",
        dt.datetime.fromtimestamp(expires, dt.UTC))


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers={"cache-control": "no-store"})


def _parse(request: Request, config: PricingConfig) -> tuple[uuid.UUID, dt.date, str,
                                                             Principal] | Response:
    name = str(request.path_params.get("name", ""))
    stem, _, fmt = name.rpartition(".")
    try:
        client_id = uuid.UUID(stem)
    except ValueError:
        return _error(404, "NOT_FOUND", "no such export")
    if fmt not in FORMATS:
        return _error(404, "NOT_FOUND", "no such export format (csv or xlsx)")
    q = request.query_params
    try:
        day = dt.date.fromisoformat(q.get("date", ""))
        by = uuid.UUID(q.get("by", ""))
    except ValueError:
        return _error(403, "BAD_SIGNATURE", "the URL is not valid: malformed signature")
    roles = q.get("roles", "")
    try:
        verify(config.url_secret, PURPOSE, _subject(client_id, day, fmt, by, roles),
               q.get("exp"), q.get("sig"), time.time())
    except BadSignature as exc:
        return _error(403, "BAD_SIGNATURE", f"the URL is not valid: {exc.reason}")
    principal = Principal(subject=by, roles=frozenset(r for r in roles.split(",") if r in ROLES))
    return client_id, day, fmt, principal


async def download(request: Request) -> Response:
    config = state_of(request, "pricing_config", PricingConfig)
    parsed = _parse(request, config)
    if isinstance(parsed, Response):
        return parsed
    client_id, day, fmt, principal = parsed
    runtime = runtime_of(request)
    book = state_of(request, "rules", RuleBook)
    access = Access(principal, dt.datetime.now(dt.UTC), runtime.settings.access_grace)
    async with runtime.reader.connect() as conn:
        facts = await visible_client_facts(conn, access, client_id, book.turnovers)
        if facts is None:
            return _error(404, "NOT_FOUND", "no such client")
        c = access_tables.require_clients().c
        name = await conn.scalar(sa.select(c.name).where(c.client_id == client_id))
    job = export.ExportRequest(client_id, name, day, config.contract_priority)
    pages = export.entries(runtime.reader, book, facts, job)
    filename = f"price-list-{client_id}-{day.isoformat()}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{filename}"',
               "cache-control": "no-store"}
    if fmt == "csv":
        return StreamingResponse(export.csv_chunks(pages), media_type=FORMATS[fmt],
                                 headers=headers)
    path = export.temporary_path()
    try:
        await export.write_xlsx(pages, job, path)
    except BaseException:
        export.discard(path)
        raise
    return StreamingResponse(iterate_in_threadpool(export.file_chunks(path)),
                             media_type=FORMATS[fmt], headers=headers,
                             background=BackgroundTask(export.discard, path))


def export_routes() -> list[Route]:
    return [Route("/exports/price-lists/{name}", download, methods=["GET"])]

