"""The request context's loaders are made when a resolver first asks for one
(``crm_common.graphql.context.LazyLoaders``, issue 15): every declared loader has a factory, a
loader is made once per request and not before it is asked for, and an unknown name is an
AttributeError, not a silent None."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from strawberry.dataloader import DataLoader

from crm_clients.graphql.context import Context, Loaders
from crm_common.history import HistoryLoader


def _context() -> Context:
    runtime: Any = SimpleNamespace(reader=object(), settings=SimpleNamespace(
        access_grace=dt.timedelta(hours=24)))
    principal: Any = SimpleNamespace(subject=None, sees_all_clients=True)
    return Context(principal=principal, runtime=runtime, contract_job=None,  # type: ignore[arg-type]
                   files=None)  # type: ignore[arg-type]


def test_every_declared_loader_is_made_on_first_use_and_kept() -> None:
    ctx = _context()
    declared = Loaders.declared()
    assert declared == set(vars(ctx.loaders)["_factories"]) and len(declared) == 24
    assert not declared & set(vars(ctx.loaders))  # none made up front
    for name in sorted(declared):
        loader = getattr(ctx.loaders, name)
        assert isinstance(loader, DataLoader | HistoryLoader), name
        assert getattr(ctx.loaders, name) is loader  # one per request
    assert _context().loaders.client is not ctx.loaders.client  # a new one per request


def test_an_unknown_loader_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no loader 'clients'"):
        _ = _context().loaders.clients  # type: ignore[attr-defined]
