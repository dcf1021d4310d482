"""The unit of work: one transaction that holds a change, its audit history and its events.

Handlers open a unit of work (its transaction begins on a connection that answered a ping,
``crm_common.db.begin_checked``), change rows through ``uow.session``, record domain events with
``uow.record(...)`` and call ``commit()``; ``commit`` writes the events to the outbox in the same
transaction, so an event exists exactly when its change does (DESIGN section 5). Leaving the
``async with`` block without ``commit()`` rolls everything back.

Under an idempotency key (``crm_common.idempotency``; the mutation helper sets the claim) the
first unit of work a command opens starts its transaction by taking the key's lock and looking
for an outcome a concurrent request stored (``Replay`` when there is one: the command does not
run), and its ``commit()`` writes the outbox and hands the still open transaction to the helper,
which adds the stored outcome and commits: change, events and outcome commit together.
"""

from __future__ import annotations

import uuid
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_common.correlation import correlation_id as current_correlation_id
from crm_common.db import begin_checked
from crm_common.idempotency import Claim, Replay, current_claim
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
        #: the idempotency claim whose lock this unit's transaction holds
        self._claim: Claim | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        session = self._session = await begin_checked(self._factory)
        self._events = []
        self.committed = False
        self._claim = None
        try:
            claim = current_claim.get()
            if claim is not None and claim.owner is None:
                stored = await claim.lock_and_find(session)
                if stored is not None:
                    raise Replay(stored)
                claim.owner = self
                self._claim = claim
        except BaseException:
            self._session = None
            try:
                await session.rollback()
            finally:
                await session.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        if self._claim is not None and self._claim.session is self._session:
            self._session = None  # handed over: the mutation helper commits or rolls back
            return
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
        if self._claim is not None and self._claim.session is None:
            await self.session.flush()
            self._claim.session = self.session
            self.committed = True
            self._events = []
            return
        await self.session.commit()
        self.committed = True
        self._events = []

    async def rollback(self) -> None:
        await self.session.rollback()
        self._events = []
