"""What every subgraph's per-request GraphQL context holds, and how it makes its DataLoaders.

A service's ``graphql/context.py`` subclasses :class:`RequestContext` (a dataclass) with its own
resources and its ``loaders``; the resolvers read ``info.context``. The principal and the runtime
come from the request (``crm_common.service``); the grace period of the access rule and the page
cap come from the settings, their one source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from crm_common.auth import Principal
from crm_common.db import read_retrying
from crm_common.service import Runtime
from crm_common.uow import UnitOfWork

K = TypeVar("K")
V = TypeVar("V")
N = TypeVar("N")

#: keys one loader answers in one statement at most (a list page asks for up to the page cap)
MAX_BATCH = 500


def batch_loader(load_fn: Callable[[list[K]], Awaitable[list[V]]]) -> DataLoader[K, V]:
    """A per-request DataLoader that answers up to :data:`MAX_BATCH` keys per call; a batch
    whose connection was lost under it is read again on a fresh one (``read_retrying``), so the
    payload of a committed change is not answered as an error."""
    async def load(keys: list[K]) -> list[V]:
        return await read_retrying(lambda: load_fn(keys))

    return DataLoader(load_fn=load, max_batch_size=MAX_BATCH)


class LazyLoaders:
    """A request's DataLoaders, each made the first time a resolver asks for it.

    A request uses a few of a service's loaders (the rep's morning 6 of the clients service's
    24, an update 4), and making all of them for every request was 2–5 % of its CPU (issue 15).
    A subclass declares its loaders as annotations (their types are what the type checker
    sees); an instance takes a factory per name (``{"client": lambda: batch_loader(...)}``).
    Asking for a name without a factory raises ``AttributeError``."""

    def __init__(self, factories: Mapping[str, Callable[[], Any]]) -> None:
        self.__dict__["_factories"] = factories

    def __getattr__(self, name: str) -> Any:
        try:
            factory = self.__dict__["_factories"][name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no loader {name!r}") from None
        loader = factory()
        self.__dict__[name] = loader
        return loader

    @classmethod
    def declared(cls) -> set[str]:
        """The loaders a subclass declares (a test checks each has a factory)."""
        return {name for klass in cls.__mro__ for name in getattr(klass, "__annotations__", {})}


@dataclass
class RequestContext:
    principal: Principal
    runtime: Runtime

    @property
    def grace(self) -> dt.timedelta:
        """The access rule's grace period after a meeting's end (``ACCESS_GRACE_HOURS``)."""
        return self.runtime.settings.access_grace

    @property
    def max_page_size(self) -> int:
        return self.runtime.settings.max_page_size

    def release(self) -> None:
        """Drop everything the request's context holds, once the answer is sent (the service's
        GraphQL app calls this).

        graphql-core's and Strawberry's execution objects refer to each other in cycles and to
        this context, so without this the context, its DataLoaders, their caches and every row
        they read (the morning's ~600 records, UUIDs and lists per request) waited for the
        cyclic garbage collector, which was ~8 % of a service's CPU (issue 15). Cleared here,
        they are freed at once by reference counting. Objects a resolver handed on (a
        background job's runtime or access) are not affected; using the context itself after
        its request raises ``AttributeError``."""
        self.__dict__.clear()

    def uow(self) -> UnitOfWork:
        """A unit of work acting as the principal (its events carry the actor)."""
        return UnitOfWork(self.runtime.session_factory, source=self.runtime.settings.source,
                          actor_id=self.principal.subject)


async def load_node(loader: DataLoader[K, V | None], key: K | None,
                    make: Callable[[V], N]) -> N | None:
    """The entity ``key`` through a per-request loader, made into its GraphQL type by ``make``;
    ``None`` when no key is given or the loader finds nothing (unknown, or not visible to the
    caller: the same answer, DESIGN §6)."""
    if key is None:
        return None
    row = await loader.load(key)
    return make(row) if row is not None else None
