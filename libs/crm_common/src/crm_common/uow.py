"""The unit of work: one transaction that holds a change, its audit history and its events.

Handlers open a unit of work, change rows through ``uow.session``, record domain events with
``uow.record(...)`` and call ``commit()``; ``commit`` writes the events to the outbox in the same
transaction, so an event exists exactly when its change does (DESIGN section 5). Leaving the
``async with`` block without ``commit()`` rolls everything back.
"""

from __future__ import annotations

import uuid
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_common.correlation import correlation_id as current_correlation_id
from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.messaging.outbox import write_to_outbox


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        source: str,
        actor_id: uuid.UUID | None,
    ) -> None:
        self._factory = session_factory
        self._source = source
        self.actor_id = actor_id
        self._events: list[DomainEvent] = []
        self._session: AsyncSession | None = None
        self.committed = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._factory()
        await self._session.begin()
        self._events = []
        self.committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            if not self.committed:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        envelopes = [
            to_cloudevent(
                event,
                source=self._source,
                actor_id=str(self.actor_id) if self.actor_id else "system",
                correlation_id=current_correlation_id.get(),
            )
            for event in self._events
        ]
        if envelopes:
            await write_to_outbox(self.session, envelopes)
        await self.session.commit()
        self.committed = True
        self._events = []

    async def rollback(self) -> None:
        await self.session.rollback()
        self._events = []
