"""The rule index's view of one client (``RuleIndex.for_client``): the parts for everyone, for
the client's groups and for the client name exactly the rules whose audience covers the client
and whose scope may cover the product, the same set as filtering every rule one by one.

Generated with a seeded ``random.Random`` (as test_properties.py: the same cases on every run)."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

import pytest

from crm_pricing.domain.effect import Effect, EffectKind
from crm_pricing.domain.resolution import Client
from crm_pricing.domain.rule import Audience, AudienceKind, Rule, Scope, ScopeKind
from crm_pricing.service_layer.pricing_inputs import RuleIndex, StoredRule

PRODUCTS = ["BEER-05", "beer-05", "WATER-15", "CHOC-100"]
GROUPS = ["BEV", "bev", "CONF", None]
CLIENT_IDS = ["c-1", "c-2", "C-1"]
GROUP_IDS = ["g-1", "g-2", "G-1"]
SEEDS = range(200)


def scope(rnd: random.Random) -> Scope:
    kind = rnd.choice(list(ScopeKind))
    if kind is ScopeKind.PRODUCT:
        return Scope(kind, rnd.choice([*PRODUCTS, None]))
    if kind is ScopeKind.PRODUCT_GROUP:
        return Scope(kind, rnd.choice(GROUPS))
    return Scope(kind)


def audience(rnd: random.Random) -> Audience:
    kind = rnd.choice(list(AudienceKind))
    if kind is AudienceKind.CLIENT:
        return Audience(kind, rnd.choice([*CLIENT_IDS, None]))
    if kind is AudienceKind.CLIENT_GROUP:
        return Audience(kind, rnd.choice([*GROUP_IDS, None]))
    return Audience(kind)


def rule_set(rnd: random.Random) -> list[StoredRule]:
    return [StoredRule(uuid.uuid4(), Rule(
        code=f"R{i:03d}", name=f"R{i}", scope=scope(rnd), audience=audience(rnd),
        effect=Effect(EffectKind.PERCENT_OFF, Decimal(rnd.randint(1, 50)))))
        for i in range(rnd.randint(0, 40))]


def one_by_one(stored: list[StoredRule], client: Client, code: str,
               group: str | None) -> set[str]:
    return {s.rule.code for s in stored
            if s.rule.audience.covers(client.id, client.group_ids)
            and s.rule.scope.covers(code, group)}


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed {s}" for s in SEEDS])
def test_a_clients_view_holds_exactly_the_rules_that_may_cover_it(seed: int) -> None:
    rnd = random.Random(seed)
    stored = rule_set(rnd)
    index = RuleIndex.of(stored)
    client = Client(rnd.choice(CLIENT_IDS),
                    frozenset(rnd.sample(GROUP_IDS, rnd.randint(0, len(GROUP_IDS)))))
    view = index.for_client(client)
    for code in PRODUCTS:
        for group in GROUPS:
            found = view.for_product(code, group)
            covering = {r.code for r in found if r.audience.covers(client.id, client.group_ids)
                        and r.scope.covers(code, group)}
            # the view may name a rule whose scope does not cover (the resolution checks it
            # again), never one of another audience, and misses none that covers
            assert covering == one_by_one(stored, client, code, group)
            assert all(r.audience.covers(client.id, client.group_ids) for r in found)
            assert len({r.code for r in found}) == len(found)  # each rule once


def test_a_client_of_no_group_and_no_own_rules_sees_the_rules_for_everyone() -> None:
    everyone = Rule(code="ALL", name="a", scope=Scope(ScopeKind.ALL),
                    audience=Audience(AudienceKind.ALL),
                    effect=Effect(EffectKind.PERCENT_OFF, Decimal(1)))
    theirs = Rule(code="MINE", name="m", scope=Scope(ScopeKind.ALL),
                  audience=Audience(AudienceKind.CLIENT, "c-2"),
                  effect=Effect(EffectKind.PERCENT_OFF, Decimal(2)))
    group = Rule(code="GRP", name="g", scope=Scope(ScopeKind.PRODUCT, "X"),
                 audience=Audience(AudienceKind.CLIENT_GROUP, "g-1"),
                 effect=Effect(EffectKind.PERCENT_OFF, Decimal(3)))
    index = RuleIndex.of(StoredRule(uuid.uuid4(), r) for r in (everyone, theirs, group))
    assert index.for_client(Client("c-1")).for_product("X", None) == [everyone]
    assert index.for_client(Client("c-1", frozenset({"g-1"}))).for_product("x", None) \
        == [everyone, group]
    assert index.for_client(Client("c-2")).for_product("", "") == [everyone, theirs]
    # asking does not grow the index (no empty parts left behind for unknown ids)
    assert set(index.by_client) == {"c-2"} and set(index.by_client_group) == {"g-1"}
