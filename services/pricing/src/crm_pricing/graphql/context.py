"""The per-request GraphQL context: the principal, the runtime, the service's config, the access
moment and fresh DataLoaders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from crm_common.graphql.context import RequestContext
from crm_pricing.config import PricingConfig
from crm_pricing.graphql.catalogue_loaders import CatalogueLoaders
from crm_pricing.service_layer.pricing_inputs import RuleBook
from crm_pricing.service_layer.rule_queries import RuleLoaders
from crm_pricing.service_layer.visibility import Access


@dataclass
class Context(RequestContext):
    config: PricingConfig = field(default_factory=PricingConfig)
    #: the process's parsed rules (one per app, from the lifespan state)
    rules: RuleBook = field(default_factory=RuleBook)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def access(self) -> Access:
        return Access(self.principal, self.now, self.grace)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @cached_property
    def catalogue(self) -> CatalogueLoaders:
        """The catalogue's and price lists' loaders, made on first use in the request."""
        return CatalogueLoaders.make(self.runtime.reader)

    @cached_property
    def rule_loaders(self) -> RuleLoaders:
        """The rules area's loaders, made on first use in the request."""
        return RuleLoaders.create(self.runtime.reader)
