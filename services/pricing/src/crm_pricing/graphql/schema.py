"""The pricing subgraph: the queries and mutations of each area, merged into one schema."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from crm_common.graphql.schema import Extensions, subgraph_schema
from crm_pricing.graphql.catalogue import CatalogueMutation, CatalogueQuery
from crm_pricing.graphql.entities import Client
from crm_pricing.graphql.quotes import QuoteQuery
from crm_pricing.graphql.rules import RuleMutation, RuleQuery

SERVICE = "pricing"

Query = merge_types("Query", (CatalogueQuery, RuleQuery, QuoteQuery))
Mutation = merge_types("Mutation", (CatalogueMutation, RuleMutation))


def build_schema(extensions: Extensions | None = None) -> strawberry.Schema:
    return subgraph_schema(query=Query, mutation=Mutation, types=[Client], extensions=extensions)
