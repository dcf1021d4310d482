"""The activities context makes each loader when first asked for (``LazyLoaders``): every
declared loader has a factory that makes it, once per request."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from crm_activities.graphql.context import Context, Loaders


def test_every_declared_loader_has_a_factory_and_is_made_once() -> None:
    runtime: Any = SimpleNamespace(reader=object(), settings=SimpleNamespace(
        access_grace=dt.timedelta(hours=24)))
    principal: Any = SimpleNamespace(subject=None, sees_all_clients=False)
    ctx = Context(principal=principal, runtime=runtime, calendar_base_url="https://x")
    factories = set(vars(ctx.loaders)["_factories"])
    assert Loaders.declared() == factories and len(factories) == 11
    made = {name: getattr(ctx.loaders, name) for name in sorted(factories)}
    assert all(getattr(ctx.loaders, name) is loader for name, loader in made.items())
