"""Products, product groups and price lists: reads and the managers' mutations.

NOT BUILT YET (in progress on a branch of issue 11)."""

from __future__ import annotations

import strawberry


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="Placeholder while the catalogue is built.")
    def pricing_catalogue_ready(self) -> bool:
        return False


@strawberry.type
class CatalogueMutation:
    @strawberry.mutation(description="Placeholder while the catalogue is built.")
    def pricing_catalogue_noop(self) -> bool:
        return False
