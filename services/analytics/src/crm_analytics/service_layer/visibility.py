"""The access rule of DESIGN §6 for the figures: admins and managers see every client's, a sales
rep those of the clients they may see (owned, or a standing meeting grant) — the shared rule over
this service's projections. The list of unmatched ERP documents and parked messages is for
admins. This is the one place the rule is stated; the turnover reads take the scope it returns.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crm_analytics.adapters.tables import access
from crm_analytics.service_layer.turnover_queries import Scope
from crm_common.client_access import ClientAccess, visible_client_condition


class Access(ClientAccess):
    """Who asks, and the moment and grace period the access rule is evaluated with."""

    tables = access

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin

    def scope(self) -> Scope:
        """The clients whose figures the principal may see, as a condition on a column."""
        principal, now, grace = self.principal, self.now, self.grace

        def condition(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
            return visible_client_condition(access, principal, column, now, grace)
        return condition
