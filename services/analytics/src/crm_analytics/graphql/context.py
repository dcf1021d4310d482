"""The per-request GraphQL context: the principal, the runtime, the service's config, the access
moment, the process's ranking cache and fresh DataLoaders."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from crm_analytics.config import AnalyticsConfig
from crm_analytics.graphql.loaders import Loaders, make_loaders
from crm_analytics.reports.files.resources import FileResources
from crm_analytics.service_layer import turnover_queries as q
from crm_analytics.service_layer.client_metrics import Ranking, RankingCache
from crm_analytics.service_layer.visibility import Access
from crm_common.graphql.context import RequestContext


@dataclass
class Context(RequestContext):
    config: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    rankings: RankingCache = field(default_factory=RankingCache)
    #: the report files' store, URLs and background jobs (from the lifespan state)
    report_files: FileResources | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    loaders: Loaders = field(init=False)
    _as_of: asyncio.Task[dt.datetime | None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loaders = make_loaders(self.runtime.reader, self.access, self.today, self.ranking)

    async def ranking(self, conn: AsyncConnection) -> Ranking:
        """ABC and RFM of every client, through the process's cache."""
        return await self.rankings.get(conn, self.today, a_cutoff=self.config.abc_a_cutoff,
                                       b_cutoff=self.config.abc_b_cutoff)

    @property
    def files(self) -> FileResources:
        if self.report_files is None:
            raise RuntimeError("the report files are not set up in this process")
        return self.report_files

    @property
    def access(self) -> Access:
        return Access(self.principal, self.now, self.grace)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def prefetch_as_of(self) -> None:
        """Start reading the watermark now (on its own connection), for :meth:`as_of` later."""
        if self._as_of is None:
            self._as_of = asyncio.ensure_future(self._read_as_of())

    async def as_of(self) -> dt.datetime | None:
        """The watermark (the latest ERP message applied), read once per request."""
        self.prefetch_as_of()
        assert self._as_of is not None
        return await asyncio.shield(self._as_of)

    async def _read_as_of(self) -> dt.datetime | None:
        async with self.runtime.reader.connect() as conn:
            return await q.watermark(conn)

    async def names(self, codes: list[str], product: bool) -> dict[str, str]:
        """The catalogue's names of these product (group) codes, batched over the request."""
        found = await self.loaders.names.load_many([(code, product) for code in codes])
        return {code: name for code, name in zip(codes, found, strict=True) if name is not None}
