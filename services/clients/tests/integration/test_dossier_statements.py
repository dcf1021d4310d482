"""The dossier query makes the same number of SQL statements for 1 contact person as for 50."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .conftest import Service
from .fragments import CREATE, company

pytestmark = pytest.mark.integration

DOSSIER = """query($id: ID!) { client(id: $id) {
  id legalName addresses { id city } contactPersons { id name phones }
  bankAccounts { iban } } }"""


async def _statements_for(service: Service, client_id: str) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        if not statement.lstrip().upper().startswith(("SELECT 1", "LISTEN", "NOTIFY")):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        # the relay may poll the outbox meanwhile: count only statements on our tables
        await service.data(service.token("manager"), DOSSIER, {"id": client_id})
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len([s for s in seen if "outbox" not in s])


async def test_dossier_statement_count_does_not_grow_with_contacts(service: Service) -> None:
    manager = service.token("manager")

    async def make(n: int) -> str:
        contacts = [{"name": f"Лице {i}", "phones": [f"+35988{i:07d}"]} for i in range(n)]
        return (await service.data(manager, CREATE, {"input": company(
            f"Контакти {n}", contactPersons=contacts,
            addresses=[{"kind": "OFFICE", "city": "Варна", "street": "ул. 2"}])}
        ))["createClient"]["client"]["id"]

    one, fifty = await make(1), await make(50)
    small = await _statements_for(service, one)
    large = await _statements_for(service, fifty)
    assert small == large
    assert 3 <= small <= 4  # client, addresses, contacts, bank accounts: one each
