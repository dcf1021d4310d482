"""The report files' part of the analytics subgraph: ``createReportFile`` (a report run as a
CSV, XLSX or PDF file), ``reportFile`` (its status and a fresh signed download URL). Resolvers
parse, call the service layer (``service_layer.report_file``), map."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import strawberry
from sqlalchemy import RowMapping

from crm_analytics.adapters.tables import report_files
from crm_analytics.graphql.reports import ReportDefinitionInput, ReportParametersInput
from crm_analytics.graphql.resolvers import context
from crm_analytics.reports.files import FileFormat
from crm_analytics.service_layer import report_file, report_file_queries
from crm_common.attachments.urls import Action
from crm_common.graphql.errors import UserError
from crm_common.graphql.mutations import mutate
from crm_common.problems import not_found, problem

SERVICE = "analytics"


@strawberry.enum(description="The format of a report file.")
class ReportFileFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


@strawberry.enum
class ReportFileKind(enum.Enum):
    REPORT = "report"
    CLIENT_BRIEF = "client_brief"


@strawberry.enum(description="WRITING: being made; READY: download it from url; FAILED: see "
                             "errorCode and error; EXPIRED: past its keeping time, deleted.")
class ReportFileStatus(enum.Enum):
    WRITING = "writing"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


_STATUS = {"pending": ReportFileStatus.WRITING, "uploading": ReportFileStatus.WRITING,
           "stored": ReportFileStatus.READY, "failed": ReportFileStatus.FAILED,
           "removed": ReportFileStatus.EXPIRED}


@strawberry.type(description="A report file or client brief you asked for, kept until "
                             "expiresAt.")
class ReportFile:
    id: strawberry.ID
    kind: ReportFileKind
    format: ReportFileFormat
    title: str
    file_name: str
    status: ReportFileStatus
    row_count: int | None
    size: int | None = strawberry.field(description="Bytes.")
    sha256: str | None
    error_code: str | None = strawberry.field(
        description="TOO_MANY_ROWS, STORE_UNAVAILABLE or FAILED when status is FAILED.")
    error: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    url: str | None = strawberry.field(description="A signed download URL, good for a few "
                                                   "minutes (ask again for a fresh one); null "
                                                   "unless READY.")
    url_expires_at: dt.datetime | None

    @classmethod
    def of(cls, row: RowMapping, info: strawberry.Info) -> ReportFile:
        ctx = context(info)
        status = _STATUS[row["status"]]
        if status is ReportFileStatus.READY and row["expires_at"] <= ctx.now:
            status = ReportFileStatus.EXPIRED
        url = url_expires = None
        if status is ReportFileStatus.READY:
            url, url_expires = ctx.files.urls.signed_url(Action.DOWNLOAD, row["id"],
                                                         by=row["requested_by"])
            url_expires = min(url_expires, row["expires_at"])
        return cls(id=strawberry.ID(str(row["id"])), kind=ReportFileKind(row["kind"]),
                   format=ReportFileFormat(row["format"]), title=row["title"],
                   file_name=row["file_name"], status=status, row_count=row["row_count"],
                   size=row["size"], sha256=row["sha256"], error_code=row["error_code"],
                   error=row["failure"] if status is ReportFileStatus.FAILED else None,
                   created_at=row["created_at"], expires_at=row["expires_at"], url=url,
                   url_expires_at=url_expires)


@strawberry.input
class CreateReportFileInput:
    report_id: strawberry.ID | None = strawberry.field(default=None,
                                                       description="A saved report.")
    definition: ReportDefinitionInput | None = None
    parameters: ReportParametersInput | None = None
    format: ReportFileFormat


@strawberry.input
class CreateClientBriefInput:
    client_id: strawberry.ID


@strawberry.type
class ReportFilePayload:
    file: ReportFile | None
    user_errors: list[UserError]


def _uuid(raw: str, field: tuple[str, ...]) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise problem(field, "INVALID_ID", "not a valid id") from None


async def file_payload(info: strawberry.Info, file_id: uuid.UUID | None,
                       errors: list[UserError]) -> ReportFilePayload:
    if file_id is None:
        return ReportFilePayload(file=None, user_errors=errors)
    ctx = context(info)
    row = await report_file_queries.file_for(ctx.runtime.reader, report_files, file_id,
                                             ctx.principal)
    return ReportFilePayload(file=None if row is None else ReportFile.of(row, info),
                             user_errors=errors)


@strawberry.type
class ReportFileQuery:
    @strawberry.field(description="A report file or client brief you asked for (admins: any), "
                                  "with a fresh download URL when it is ready.")
    async def report_file(self, info: strawberry.Info, id: strawberry.ID) -> ReportFile | None:
        ctx = context(info)
        try:
            file_id = uuid.UUID(str(id))
        except ValueError:
            return None
        row = await report_file_queries.file_for(ctx.runtime.reader, report_files, file_id,
                                                 ctx.principal)
        return None if row is None else ReportFile.of(row, info)


@strawberry.type
class ReportFileMutation:
    @strawberry.mutation(description="Make a file (CSV, XLSX or PDF) of a saved report "
                                      "(reportId) or a definition, run with your access. Small "
                                      "files are READY in the answer; otherwise WRITING: ask "
                                      "reportFile(id) until READY.")
    async def create_report_file(self, info: strawberry.Info, input: CreateReportFileInput
                                 ) -> ReportFilePayload:
        ctx = context(info)

        async def act() -> uuid.UUID:
            report_id = None if input.report_id is None else \
                _uuid(input.report_id, ("input", "reportId"))
            return await report_file.request_report_file(
                ctx.runtime, ctx.files, ctx.access, report_id=report_id,
                definition=None if input.definition is None else input.definition.domain(),
                parameters=None if input.parameters is None else input.parameters.domain(),
                fmt=FileFormat(input.format.value))

        file_id, errors = await mutate(info, act, service=SERVICE)
        return await file_payload(info, file_id, errors)

    @strawberry.mutation(description="Make the one-page client brief (PDF) for a visit: the "
                                      "dossier's essentials, turnover by month with the year "
                                      "before, stopped product groups, pricing tiers, open "
                                      "tasks, last contacts. Only for a client you may see.")
    async def create_client_brief(self, info: strawberry.Info, input: CreateClientBriefInput
                                  ) -> ReportFilePayload:
        ctx = context(info)

        async def act() -> uuid.UUID:
            client_id = _uuid(input.client_id, ("input", "clientId"))
            return await report_file.request_client_brief(ctx.runtime, ctx.files, ctx.access,
                                                          client_id, ctx.ranking)

        file_id, errors = await mutate(info, act, service=SERVICE)
        return await file_payload(info, file_id, errors)


__all__ = ["ReportFileMutation", "ReportFileQuery", "file_payload", "not_found"]
