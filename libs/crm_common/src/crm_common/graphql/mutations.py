"""Every mutation resolver runs its command through :func:`mutate`, in the spirit of saleor's
``BaseMutation.mutate`` (saleor/saleor ``saleor/graphql/core/mutations.py``).

A resolver parses its input inside an ``action`` (a coroutine function that opens the unit of
work and calls the service layer), hands it to :func:`mutate` and builds its payload from the
:class:`Outcome`. ``mutate`` is the one place where

- expected failures (``crm_common.problems.Problems``, raised by input parsing, the domain or
  the service layer) become ``userErrors`` with the service's name on their metric;
- the DataLoader entries a successful command made stale are dropped, so that the payload, loaded
  through the same request's loaders, shows the state after the change;
- text no field may hold (control characters, ``crm_common.graphql.text_arguments``) is
  refused as ``CONTROL_CHARACTERS`` userErrors before the command runs;
- anything every mutation must do later lives: an idempotency key (issue 14) would be read from
  ``info`` here, a stored outcome returned instead of running ``action`` again, and the new
  outcome stored, without touching a single resolver.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from crm_common.graphql.errors import UserError, user_errors
from crm_common.graphql.text_arguments import control_character_problems
from crm_common.problems import Problems

T = TypeVar("T")

#: a loader and the key of an entry a command made stale
Stale = tuple[DataLoader[Any, Any], Any]


class Outcome(NamedTuple, Generic[T]):
    """What a command gave: its value, or None and the ``userErrors`` that stopped it. Unpacks
    as ``value, errors = await mutate(...)``."""

    value: T | None
    user_errors: list[UserError]


def forget(loader: DataLoader[Any, Any], key: Any) -> None:
    """Drop ``key``'s cached value from ``loader`` (nothing happens when it was not loaded)."""
    try:
        loader.clear(key)
    except KeyError:  # not loaded in this request yet
        pass


def changed_in(*loaders: DataLoader[Any, Any]) -> Callable[[Any], list[Stale]]:
    """``changed`` for the usual command, whose value is the id of the entity it changed: that
    key is stale in each of ``loaders``."""
    return lambda key: [(loader, key) for loader in loaders]


async def mutate(
    info: strawberry.Info,
    action: Callable[[], Awaitable[T]],
    *,
    service: str,
    changed: Callable[[Any], Iterable[Stale]] | None = None,
) -> Outcome[T]:
    """Run ``action``; ``Problems`` become ``userErrors`` of ``service``. After success,
    ``changed(value)`` names the ``(loader, key)`` entries the command made stale; they are
    forgotten before the resolver loads its payload.

    ``info`` is the request: unused today, it is where cross-cutting concerns of every mutation
    (the idempotency key of issue 14) will be read, so that resolvers need not change for them.
    """
    refused = control_character_problems(info)
    if refused:  # never handed to the command (PostgreSQL cannot store a NUL)
        return Outcome(None, user_errors(refused, service))
    try:
        value = await action()
    except Problems as exc:
        return Outcome(None, user_errors(exc.problems, service))
    if changed is not None:
        for loader, key in changed(value):
            forget(loader, key)
    return Outcome(value, [])
