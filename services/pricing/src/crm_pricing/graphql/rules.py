"""Pricing rules: reads, the managers' mutations and the simulation.

NOT BUILT YET (in progress on a branch of issue 11)."""

from __future__ import annotations

import strawberry


@strawberry.type
class RuleQuery:
    @strawberry.field(description="Placeholder while the rules is built.")
    def pricing_rules_ready(self) -> bool:
        return False


@strawberry.type
class RuleMutation:
    @strawberry.mutation(description="Placeholder while the rules is built.")
    def pricing_rules_noop(self) -> bool:
        return False
