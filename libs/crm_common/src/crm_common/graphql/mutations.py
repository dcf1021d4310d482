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
- the ``Idempotency-Key`` header is honoured (``crm_common.idempotency``): under a key, a
  top-level mutation field's outcome is stored in the transaction of its change, a retry with
  the same input gets the stored outcome without running ``action`` again, and the same key with
  another input is the userError ``IDEMPOTENCY_KEY_REUSED``. Every mutation of every service
  gets this here, without a line in its resolver.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

import strawberry
from graphql import OperationType
from strawberry.dataloader import DataLoader
from strawberry.types.nodes import SelectedField

from crm_common import idempotency
from crm_common.graphql.errors import UserError, user_errors
from crm_common.graphql.text_arguments import control_character_problems
from crm_common.problems import Problems

log = logging.getLogger(__name__)

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

    When the request carries an ``Idempotency-Key`` and ``info`` is a top-level field of a
    mutation, the outcome is stored under the key, or the stored one returned
    (``crm_common.idempotency``). ``action`` must commit through at most one unit of work (the
    first one it opens is the one whose commit carries the outcome).
    """
    refused = control_character_problems(info)
    if refused:  # never handed to the command (PostgreSQL cannot store a NUL)
        return Outcome(None, user_errors(refused, service))
    try:
        claim = _claim_of(info)
        if claim is None:
            value = await action()
        else:
            value = await _run_claimed(info, claim, action)
    except Problems as exc:
        return Outcome(None, user_errors(exc.problems, service))
    _forget_changed(changed, value)
    return Outcome(value, [])


def _forget_changed(changed: Callable[[Any], Iterable[Stale]] | None, value: Any) -> None:
    if changed is not None:
        for loader, key in changed(value):
            forget(loader, key)


def _claim_of(info: strawberry.Info) -> idempotency.Claim | None:
    """The claim of this field when the request sent a key and the field is a mutation's
    top-level field; ``Problems`` for a malformed key."""
    raw = idempotency.requested_key.get()
    if raw is None:
        return None
    if info.operation.operation is not OperationType.MUTATION or info.path.prev is not None:
        return None
    key = idempotency.check_key(raw)
    selected = info.selected_fields[0]  # this field, its arguments with the variables in place
    assert isinstance(selected, SelectedField)
    return idempotency.Claim(
        principal=info.context.principal.subject, key=key, operation=str(info.path.key),
        request_hash=idempotency.fingerprint(selected.name, selected.arguments))


def _answer(claim: idempotency.Claim, stored: idempotency.Stored) -> Any:
    if stored.request_hash != claim.request_hash:
        raise idempotency.reused()
    return stored.value


async def _run_claimed(info: strawberry.Info, claim: idempotency.Claim,
                       action: Callable[[], Awaitable[T]]) -> T:
    runtime = info.context.runtime
    # answered here without a transaction when the outcome is stored; the unit of work looks
    # again under the key's lock (a concurrent twin), and a command that commits through
    # transactions of its own is only ever answered from here
    async with runtime.reader.connect() as conn:
        stored = await claim.find(conn)
    if stored is not None:
        return _answer(claim, stored)  # type: ignore[no-any-return]
    token = idempotency.current_claim.set(claim)
    try:
        value = await action()
    except idempotency.Replay as replay:  # a concurrent request with the key finished first
        await claim.abandon()
        return _answer(claim, replay.stored)  # type: ignore[no-any-return]
    except BaseException:
        await claim.abandon()
        raise
    finally:
        idempotency.current_claim.reset(token)
    session, claim.session = claim.session, None
    if session is None:  # no unit of work committed: the outcome is stored on its own, after
        # the fact: not in the change's transaction, and two concurrent requests with the key
        # may both run (analytics' report mutations use transactions of their own; docs/api.md)
        try:
            await claim.store_alone(runtime.engine, value)
        except TypeError:
            log.exception("outcome of %s not stored under its idempotency key", claim.operation)
        return value
    try:
        try:
            await claim.store(session, value)
        except TypeError:
            log.exception("outcome of %s not stored under its idempotency key", claim.operation)
        await session.commit()
    except BaseException:
        # the cause is what the caller must see, not a rollback refused after a COMMIT
        with contextlib.suppress(Exception):
            await session.rollback()
        raise
    finally:
        await session.close()
    return value
