"""Commands on pricing rules (issue 11): create, update (a new version), activate, retire.

- Only admins and managers change rules (``Access.require_manager``); FORBIDDEN otherwise.
- The rule is validated by the domain (``parse_rule``: every problem names its field); audience
  and client-group ids must be UUIDs (the client need not be known to pricing yet: its events may
  arrive later, and a rule for it simply covers nobody until then).
- ``pricing_rules`` holds the current version (filter columns + ``definition``, the stored form
  of ``rule_to_definition``); every version, the first included, is appended to
  ``pricing_rule_versions``. Status changes are versions too.
- An active exclusive rule that no quote could tell apart from another active rule is refused
  (INDISTINGUISHABLE, naming the other). Two such saves at once are serialised by a
  transaction-level advisory lock on a hash of (scope, audience, priority) — the three things
  two indistinguishable rules share — taken before the other active rules are read; so exactly
  one of two concurrent managers wins.
- Events through the outbox: ``crm.pricing.rule.activated`` (created active, or activated),
  ``crm.pricing.rule.updated`` (a new version of the content, whatever the status),
  ``crm.pricing.rule.retired``; the payload is the rule as the API shows it (camelCase) with its
  version.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.history import HistoryWriter, Spelling, api_changes
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import FieldProblem, Problems, problem
from crm_common.uow import UnitOfWork
from crm_common.versioning import lock_versioned
from crm_pricing.adapters.tables import history, pricing_rule_versions, pricing_rules
from crm_pricing.domain.effect import EffectKind
from crm_pricing.domain.rule import (
    AudienceKind,
    InClientGroup,
    Rule,
    RuleStatus,
    ScopeKind,
    Stacking,
    definition_columns,
    indistinguishable_problem,
    parse_rule,
    rule_to_definition,
)
from crm_pricing.domain.turnover import Basis, Metric, Window
from crm_pricing.service_layer.visibility import Access

EVENT_ACTIVATED = "crm.pricing.rule.activated"
EVENT_UPDATED = "crm.pricing.rule.updated"
EVENT_RETIRED = "crm.pricing.rule.retired"

ENTITY = "pricing_rule"

class ConditionKind(enum.Enum):
    """A condition's ``kind`` as the definition stores it (the API's PricingRuleConditionKind)."""

    TURNOVER = "turnover"
    ORDER = "order"
    GROUP_PURCHASE = "group_purchase"
    PAYMENT_BEHAVIOUR = "payment_behaviour"
    PAYMENT_TERM = "payment_term"
    CLIENT_GROUP = "client_group"


#: the rule's enum fields, spelled in its history as the API's enums (``ACTIVE``)
SPELLING: dict[str, Spelling] = {ENTITY: {
    "status": RuleStatus, "stacking": Stacking, "scope": {"kind": ScopeKind},
    "audience": {"kind": AudienceKind}, "effect": {"kind": EffectKind},
    "conditions": {"kind": ConditionKind, "window": Window, "basis": Basis, "metric": Metric,
                   "tiers": {"effect": {"kind": EffectKind}}}}}

record_history = HistoryWriter(history, SPELLING)


# --- reading a stored rule ---------------------------------------------------------------------


def stored_rule(row: Mapping[Any, Any]) -> Rule:
    """The rule a ``pricing_rules`` or ``pricing_rule_versions`` row holds (the status column
    is the truth; the definition mirrors it)."""
    definition = dict(row["definition"])
    definition["status"] = row["status"]
    return parse_rule(definition, version=row["version"])


def rule_state(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The rule as the API shows it (camelCase, JSON values; enums their lower-case values, as
    in every event payload): the payload of the rule's events."""
    definition = dict(row["definition"])
    definition["status"] = row["status"]
    state: dict[str, Any] = api_changes({
        "id": row["id"], **definition, "version": row["version"],
        "created_at": row["created_at"], "updated_at": row["updated_at"]})
    return state


# --- checks ------------------------------------------------------------------------------------


def _uuid_text(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def validated(raw: Mapping[str, Any], *, version: int = 1,
              prefix: tuple[str, ...] = ("input",)) -> Rule:
    """``parse_rule`` plus what the service adds: client and client-group ids are UUIDs (stored
    in their canonical lower-case spelling, so that they compare with the clients' ids)."""
    rule = parse_rule(raw, version=version, prefix=prefix)
    found: list[FieldProblem] = []
    audience = rule.audience
    if audience.kind is not AudienceKind.ALL:
        canonical = _uuid_text(audience.id)
        if canonical is None:
            found.append(FieldProblem(prefix + ("audience", "id"), "INVALID_ID",
                                      "the audience's id must be the id of a client or a "
                                      "client group"))
        else:
            audience = type(audience)(audience.kind, canonical)
    conditions = list(rule.conditions)
    for i, c in enumerate(conditions):
        if isinstance(c, InClientGroup):
            canonical = _uuid_text(c.group_id)
            if canonical is None:
                found.append(FieldProblem(prefix + ("conditions", str(i), "group_id"),
                                          "INVALID_ID", "group_id must be a client group's id"))
            else:
                conditions[i] = InClientGroup(canonical)
    if found:
        raise Problems(found)
    return replace(rule, audience=audience, conditions=tuple(conditions))


async def _lock_and_check(session: AsyncSession, rule: Rule, rule_id: uuid.UUID | None) -> None:
    """INDISTINGUISHABLE when ``rule`` (active, exclusive) meets another active exclusive rule
    with the same scope, audience and priority and an overlapping validity. The advisory lock
    on (scope, audience, priority) is held to the end of the transaction: a concurrent save of a
    rule that could clash waits for this one to commit and then sees it."""
    if rule.status is not RuleStatus.ACTIVE or rule.stacking is not Stacking.EXCLUSIVE:
        return
    scope_code = (rule.scope.code or "").upper()
    key = f"crm.pricing.rule|{rule.scope.kind.value}|{scope_code}|" \
          f"{rule.audience.kind.value}|{rule.audience.id or ''}|{rule.priority}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    c = pricing_rules.c
    statement = select(pricing_rules).where(
        c.status == RuleStatus.ACTIVE.value, c.stacking == Stacking.EXCLUSIVE.value,
        c.priority == rule.priority, c.scope_kind == rule.scope.kind.value,
        func.upper(func.coalesce(c.scope_code, "")) == scope_code,
        c.audience_kind == rule.audience.kind.value,
        func.coalesce(c.audience_id, "") == (rule.audience.id or ""))
    if rule_id is not None:
        statement = statement.where(c.id != rule_id)
    others = [stored_rule(r) for r in (await session.execute(statement)).mappings()]
    clash = indistinguishable_problem(rule, others)
    if clash is not None:
        raise clash


async def _duplicate_code(session: AsyncSession, code: str) -> Problems | None:
    other = await session.scalar(select(pricing_rules.c.id).where(
        func.lower(pricing_rules.c.code) == code.lower()).limit(1))
    if other is None:
        return None
    return problem(("input", "code"), "DUPLICATE",
                   f"a pricing rule with the code {code} already exists (id {other})")


async def _row(session: AsyncSession, rule_id: uuid.UUID) -> RowMapping:
    row: RowMapping = (await session.execute(
        select(pricing_rules).where(pricing_rules.c.id == rule_id))).mappings().one()
    return row


async def _record_version(session: AsyncSession, row: RowMapping, actor: uuid.UUID | None
                          ) -> None:
    await session.execute(insert(pricing_rule_versions).values(
        rule_id=row["id"], version=row["version"], status=row["status"],
        definition=row["definition"], recorded_by=actor))


def _event(type_: str, row: RowMapping, **extra: Any) -> DomainEvent:
    return DomainEvent(type=type_, subject=str(row["id"]),
                       data={"rule": rule_state(row), **api_changes(extra)})


# --- the commands ------------------------------------------------------------------------------


async def create_rule(uow: UnitOfWork, who: Access, raw: Mapping[str, Any]) -> uuid.UUID:
    """A new rule, version 1; draft unless the input says active (retired is refused: a rule
    is born draft or active)."""
    who.require_manager("create pricing rules")
    rule = validated(raw)
    if rule.status is RuleStatus.RETIRED:
        raise problem(("input", "status"), "INVALID_VALUE",
                      "a new rule is draft or active; retire it once it exists")
    session = uow.session
    # codes are unique in any case; the unique index is case-sensitive, so concurrent creations
    # of one code in two spellings are serialised here before the check
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(
        f"crm.pricing.rule.code|{rule.code.upper()}", 0))))
    duplicate = await _duplicate_code(session, rule.code)
    if duplicate is not None:
        raise duplicate
    await _lock_and_check(session, rule, None)
    rule_id = uuid.uuid4()
    actor = who.principal.subject
    try:
        async with session.begin_nested():
            await session.execute(insert(pricing_rules).values(
                id=rule_id, definition=rule_to_definition(rule), version=1,
                created_by=actor, updated_by=actor, **definition_columns(rule)))
    except IntegrityError:  # the same code saved concurrently
        duplicate = await _duplicate_code(session, rule.code)
        if duplicate is not None:
            raise duplicate from None
        raise
    row = await _row(session, rule_id)
    await _record_version(session, row, actor)
    await record_history(session, actor=actor, entity_type=ENTITY, entity_id=rule_id,
                         operation="create", changes={"new": rule_state(row)})
    if rule.status is RuleStatus.ACTIVE:
        uow.record(_event(EVENT_ACTIVATED, row))
    await uow.commit()
    return rule_id


async def _locked(session: AsyncSession, who: Access, rule_id: uuid.UUID, version: Any,
                  what: str) -> RowMapping:
    def allowed(_row: RowMapping) -> None:
        who.require_manager(what)
    return await lock_versioned(session, pricing_rules, rule_id, version, what="pricing rule",
                                allowed=allowed)


def _retired(row: RowMapping) -> Problems:
    return problem(("input", "id"), "RETIRED",
                   f"pricing rule {row['code']} is retired, which is final; create a new rule")


async def _save(uow: UnitOfWork, who: Access, row: RowMapping, rule: Rule, *,
                operation: str, event: str, extra: Mapping[str, Any] | None = None) -> None:
    """Write ``rule`` as the next version of ``row``, its version row, history and event."""
    session = uow.session
    actor = who.principal.subject
    await session.execute(update(pricing_rules).where(pricing_rules.c.id == row["id"]).values(
        definition=rule_to_definition(rule), version=pricing_rules.c.version + 1,
        updated_at=func.now(), updated_by=actor, **definition_columns(rule)))
    new = await _row(session, row["id"])
    await _record_version(session, new, actor)
    old_state, new_state = rule_state(row), rule_state(new)
    changes: dict[str, Any] = {k: [old_state[k], v] for k, v in new_state.items()
                               if k not in ("version", "updatedAt") and old_state[k] != v}
    changes["version"] = [row["version"], new["version"]]
    await record_history(session, actor=actor, entity_type=ENTITY, entity_id=row["id"],
                         operation=operation, changes=changes)
    uow.record(_event(event, new, **(extra or {})))
    await uow.commit()


async def update_rule(uow: UnitOfWork, who: Access, rule_id: uuid.UUID, version: Any,
                      raw: Mapping[str, Any]) -> uuid.UUID:
    """A new version with every field as given (what is left out takes its default). The code
    stays (quotes name it); the status stays (an active rule stays active: it is checked
    against the other active rules again)."""
    session = uow.session
    row = await _locked(session, who, rule_id, version, "change pricing rules")
    if row["status"] == RuleStatus.RETIRED.value:
        raise _retired(row)
    raw = dict(raw)
    given_code = raw.get("code")
    if given_code is not None and str(given_code).strip().upper() != row["code"].upper():
        raise problem(("input", "code"), "INVALID_VALUE",
                      "the code of a rule does not change (quotes name it); create a rule with "
                      "the new code and retire this one")
    raw["code"] = row["code"]
    raw["status"] = row["status"]
    rule = validated(raw, version=row["version"] + 1)
    if rule_to_definition(rule) == dict(row["definition"]) | {"status": row["status"]}:
        return rule_id  # nothing changed: no new version
    await _lock_and_check(session, rule, rule_id)
    await _save(uow, who, row, rule, operation="update", event=EVENT_UPDATED)
    return rule_id


async def activate_rule(uow: UnitOfWork, who: Access, rule_id: uuid.UUID,
                        version: Any) -> uuid.UUID:
    """draft → active (a new version), after the indistinguishable check; an active rule is
    left as it is; a retired one is refused."""
    session = uow.session
    row = await _locked(session, who, rule_id, version, "activate pricing rules")
    if row["status"] == RuleStatus.RETIRED.value:
        raise _retired(row)
    if row["status"] == RuleStatus.ACTIVE.value:
        return rule_id
    rule = replace(stored_rule(row), status=RuleStatus.ACTIVE, version=row["version"] + 1)
    await _lock_and_check(session, rule, rule_id)
    await _save(uow, who, row, rule, operation="activate", event=EVENT_ACTIVATED)
    return rule_id


async def retire_rule(uow: UnitOfWork, who: Access, rule_id: uuid.UUID,
                      version: Any) -> uuid.UUID:
    """draft or active → retired (final; a new version). Retiring a retired rule changes
    nothing."""
    session = uow.session
    row = await _locked(session, who, rule_id, version, "retire pricing rules")
    if row["status"] == RuleStatus.RETIRED.value:
        return rule_id
    rule = replace(stored_rule(row), status=RuleStatus.RETIRED, version=row["version"] + 1)
    await _save(uow, who, row, rule, operation="retire", event=EVENT_RETIRED,
                extra={"previous_status": row["status"]})
    return rule_id
