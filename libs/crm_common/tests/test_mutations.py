"""The one mutation helper: run a command, problems as userErrors, stale loader entries dropped."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from strawberry.dataloader import DataLoader

from crm_common.graphql.mutations import Outcome, changed_in, forget, mutate
from crm_common.metrics import USER_ERRORS
from crm_common.parsing import parse_id
from crm_common.problems import FieldProblem, Problems, problem

#: a request whose mutation field has no arguments (mutate reads them for control characters,
#: and the request's Idempotency-Key only when one was sent;
#: libs/crm_common/tests/test_text_arguments.py runs it through a real schema)
INFO: Any = SimpleNamespace(_raw_info=SimpleNamespace(field_nodes=[], variable_values={}))


def _counting_loader() -> tuple[DataLoader[uuid.UUID, str], list[list[uuid.UUID]]]:
    batches: list[list[uuid.UUID]] = []

    async def load(keys: list[uuid.UUID]) -> list[str]:
        batches.append(list(keys))
        return [f"state {len(batches)}" for _ in keys]

    return DataLoader(load_fn=load), batches


async def test_success_returns_the_value_and_forgets_what_changed() -> None:
    loader, batches = _counting_loader()
    other, other_batches = _counting_loader()
    key = uuid.uuid4()
    assert await loader.load(key) == "state 1"
    assert await other.load(key) == "state 1"

    async def act() -> uuid.UUID:
        return key

    outcome = await mutate(INFO, act, service="test", changed=changed_in(loader))
    assert outcome == Outcome(key, [])
    value, errors = outcome  # unpacks as resolvers use it
    assert (value, errors) == (key, [])
    assert await loader.load(key) == "state 2"  # loaded again: the payload shows the new state
    assert await other.load(key) == "state 1"  # not named as changed: still cached
    assert len(batches) == 2 and len(other_batches) == 1


async def test_problems_become_user_errors_with_camel_case_paths() -> None:
    loader, _ = _counting_loader()
    calls = []

    async def act() -> uuid.UUID:
        raise Problems([FieldProblem(("input", "client_id"), "REQUIRED", "give the client"),
                        FieldProblem(("input", "addresses", "0", "postal_code"), "INVALID",
                                     "not a postal code")])

    def changed(value: Any) -> list[Any]:
        calls.append(value)
        return []

    before = USER_ERRORS.labels("test", "REQUIRED")._value.get()
    value, errors = await mutate(INFO, act, service="test", changed=changed)
    assert value is None and calls == []
    assert [(e.field, e.code, e.message) for e in errors] == [
        (["input", "clientId"], "REQUIRED", "give the client"),
        (["input", "addresses", "0", "postalCode"], "INVALID", "not a postal code")]
    assert USER_ERRORS.labels("test", "REQUIRED")._value.get() == before + 1


async def test_faults_are_not_user_errors() -> None:
    async def act() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await mutate(INFO, act, service="test")


async def test_forget_ignores_keys_never_loaded() -> None:
    loader, _ = _counting_loader()
    forget(loader, uuid.uuid4())


def test_parse_id() -> None:
    ident = uuid.uuid4()
    assert parse_id(str(ident), ("input", "id")) == ident
    assert parse_id(ident, ("input", "id")) is ident
    for bad in ["nope", "", None, 42, "a" * 65, str(ident) + "x"]:
        with pytest.raises(Problems) as exc:
            parse_id(bad, ("input", "client_id"))
        (p,) = exc.value.problems
        assert (p.field, p.code, p.message) == (("input", "client_id"), "INVALID_ID",
                                                "not a valid id")


def test_problem_is_raisable() -> None:
    with pytest.raises(Problems):
        raise problem(("input",), "X", "y")
