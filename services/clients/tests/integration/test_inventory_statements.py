"""The inventory's reads make the same number of SQL statements for one placement as for many
(every relation goes through a per-request DataLoader)."""

from __future__ import annotations

import pytest

from .conftest import Service
from .inventory_helpers import AUDIT_MUTATION, new_asset, new_client, new_type, ok, placed
from .test_dossier_statements import _statements_for

pytestmark = pytest.mark.integration

INVENTORY = """query($id: ID!) { client(id: $id) { id inventory {
  assetCount placedValue { amount }
  placements { id nextAuditDue address { city } protocols { id }
    asset { id inventoryNumber type { name } auditLines { result audit { id photos { id } } }
            placements { id } }
    lastAudit { result audit { id lines { asset { id } } } } }
  materialIssues(first: 10) { id assetType { name } } } } }"""


async def test_inventory_statement_count_does_not_grow_with_placements(service: Service
                                                                      ) -> None:
    kind = await new_type(service)

    async def make(n: int) -> str:
        client_id, (address_id,) = await new_client(service)
        lines = []
        for _ in range(n):
            _, asset = await placed(service, client_id, address_id, type_id=kind["id"])
            lines.append({"assetId": asset["id"], "result": "FOUND"})
        await ok(service, service.token("manager"), AUDIT_MUTATION, clientId=client_id,
                 lines=lines)
        await new_asset(service, kind["id"])  # in stock: not part of any inventory
        return client_id

    one, many = await make(1), await make(8)
    small = await _statements_for(service, one, INVENTORY)
    large = await _statements_for(service, many, INVENTORY)
    assert small == large, (small, large)
