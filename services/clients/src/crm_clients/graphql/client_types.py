"""GraphQL object types of clients and their dossiers; thin mappings of service-layer rows.

``Client.contracts`` and ``Contract.client`` refer to each other, so ``Contract`` is composed here,
from the contract's own fields (:mod:`contract_types`) and its relations. So are the inventory's
types that lead back to a client (``Client.inventory`` → ``Placement.client``; ``Asset``,
``AuditLine``, ``Audit``, from :mod:`inventory_types`) and ``Employee`` (``auditsDue`` lists
placements; its own fields are in :mod:`directory_types`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from crm_clients.domain import client as domain
from crm_clients.domain.contract import business_today
from crm_clients.graphql.contract_types import ContractDiscount, ContractFields, ContractStatus
from crm_clients.graphql.directory_types import ClientGroup, EmployeeFields
from crm_clients.graphql.inventory_types import (
    AssetFields,
    AuditFields,
    AuditLineFields,
    InventoryFile,
    MaterialIssue,
    PlacementFields,
)
from crm_clients.service_layer import asset_queries, contract_queries
from crm_common.graphql.connections import PageInfo, connection_of, load_page, requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import bad_input
from crm_common.graphql.history import HistoryConnection, history_connection
from crm_common.graphql.money import Money
from crm_common.paging import Page
from crm_common.parsing import lookup_id

# The domain's enums, exposed as they are: GraphQL names are the members (COMPANY, ACTIVE, ...).
ClientKind = domain.ClientKind
ClientStatus = domain.ClientStatus
AddressKind = domain.AddressKind
strawberry.enum(ClientKind, description="Company (legal entity) or individual.")
strawberry.enum(ClientStatus)
strawberry.enum(AddressKind)
DocumentKind = domain.DocumentKind
strawberry.enum(DocumentKind)


@strawberry.type
class Address:
    id: strawberry.ID
    kind: AddressKind
    country: str
    city: str
    postal_code: str | None
    street: str
    is_default: bool
    version: int

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Address:
        return cls(id=strawberry.ID(str(r["id"])), kind=AddressKind(r["kind"]),
                   country=r["country"], city=r["city"], postal_code=r["postal_code"],
                   street=r["street"], is_default=r["is_default"], version=r["version"])


@strawberry.type
class ContactPerson:
    id: strawberry.ID
    name: str
    position: str | None
    phones: list[str]
    emails: list[str]
    is_primary: bool
    notes: str | None
    version: int

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> ContactPerson:
        return cls(id=strawberry.ID(str(r["id"])), name=r["name"], position=r["position"],
                   phones=list(r["phones"]), emails=list(r["emails"]),
                   is_primary=r["is_primary"], notes=r["notes"], version=r["version"])


@strawberry.type
class BankAccount:
    id: strawberry.ID
    iban: str = strawberry.field(description="Compact upper-case IBAN, MOD-97 checked.")
    bic: str | None
    bank_name: str | None
    currency: str
    is_default: bool = strawberry.field(description="At most one default per currency.")
    version: int

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> BankAccount:
        return cls(id=strawberry.ID(str(r["id"])), iban=r["iban"], bic=r["bic"],
                   bank_name=r["bank_name"], currency=r["currency"],
                   is_default=r["is_default"], version=r["version"])


@strawberry.type(description="A text the client wants on one kind of its documents.")
class DocumentDescription:
    kind: DocumentKind
    text: str


@strawberry.federation.type(keys=["id"], description="A client (customer) and its dossier.")
class Client:
    id: strawberry.ID
    code: str = strawberry.field(description="Generated, human-friendly code, e.g. C000042.")
    kind: ClientKind
    legal_name: str
    trade_name: str | None
    eik: str | None = strawberry.field(description="EIK/BULSTAT, 9 or 13 digits.")
    vat_number: str | None
    status: ClientStatus
    owner_id: strawberry.ID | None = strawberry.field(description="Employee id of the owner.")
    phones: list[str] = strawberry.field(description="E.164 phone numbers.")
    emails: list[str]
    website: str | None
    notes: str | None
    tags: list[str]
    version: int = strawberry.field(
        description="Optimistic-concurrency version: send it back with an update.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    group_id: strawberry.ID | None
    payment_term_days: int | None = strawberry.field(
        description="Preferred payment term in days.")
    currency: str = strawberry.field(description="Default currency (ISO 4217).")
    credit_limit: Decimal | None = strawberry.field(description="In the default currency.")
    document_descriptions: list[DocumentDescription] = strawberry.field(
        description="The texts the client wants on its documents, one per document kind.")

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Client:
        return cls(
            id=strawberry.ID(str(r["id"])), code=r["code"], kind=ClientKind(r["kind"]),
            legal_name=r["legal_name"], trade_name=r["trade_name"], eik=r["eik"],
            vat_number=r["vat_number"], status=ClientStatus(r["status"]),
            owner_id=strawberry.ID(str(r["owner_id"])) if r["owner_id"] else None,
            phones=list(r["phones"]), emails=list(r["emails"]), website=r["website"],
            notes=r["notes"], tags=list(r["tags"]), version=r["version"],
            created_at=r["created_at"], updated_at=r["updated_at"], archived_at=r["archived_at"],
            group_id=strawberry.ID(str(r["group_id"])) if r["group_id"] else None,
            payment_term_days=r["payment_term_days"], currency=r["currency"],
            credit_limit=r["credit_limit"],
            document_descriptions=[
                DocumentDescription(kind=DocumentKind(k), text=v)
                for k, v in sorted(r["document_descriptions"].items())],
        )

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> Client | None:
        return await load_node(info.context.loaders.client, lookup_id(id), cls.from_row)

    @strawberry.field(description="Addresses, the default ones first.")
    async def addresses(self, info: strawberry.Info) -> list[Address]:
        rows = await info.context.loaders.addresses.load(uuid.UUID(str(self.id)))
        return [Address.from_row(r) for r in rows]

    @strawberry.field(description="Bank accounts, the default ones first.")
    async def bank_accounts(self, info: strawberry.Info) -> list[BankAccount]:
        rows = await info.context.loaders.bank_accounts.load(uuid.UUID(str(self.id)))
        return [BankAccount.from_row(r) for r in rows]

    @strawberry.field(description="Audit history of the client and its dossier (contracts "
                                  "included), newest first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, info.context.loaders.client_history,
                                        uuid.UUID(str(self.id)),
                                        first, after)

    @strawberry.field(description="The employee who owns the client.")
    async def owner(self, info: strawberry.Info) -> Employee | None:
        return await load_node(info.context.loaders.employee, lookup_id(self.owner_id),
                               Employee.from_row)

    @strawberry.field(description="The client's group, if any.")
    async def group(self, info: strawberry.Info) -> ClientGroup | None:
        return await load_node(info.context.loaders.group, lookup_id(self.group_id),
                               ClientGroup.from_row)

    @strawberry.field(description="Contact persons, the primary one first.")
    async def contact_persons(self, info: strawberry.Info) -> list[ContactPerson]:
        rows = await info.context.loaders.contacts.load(uuid.UUID(str(self.id)))
        return [ContactPerson.from_row(r) for r in rows]

    @strawberry.field(description="The client's contracts, latest validity first, keyset-paged; "
                                  "optionally only those of one status.")
    async def contracts(self, info: strawberry.Info, first: int | None = None,
                        after: str | None = None,
                        status: ContractStatus | None = None) -> ContractConnection:
        return await client_contracts(info, str(self.id), first, after, status)

    @strawberry.field(description="The advertising inventory placed here: open placements with "
                                  "their last audit, their value, bulk material issued.")
    def inventory(self) -> ClientInventory:
        return ClientInventory(client_id=self.id)


@strawberry.type
class ClientEdge:
    cursor: str
    node: Client


@strawberry.type
class ClientConnection:
    edges: list[ClientEdge]
    page_info: PageInfo


@strawberry.type(description="A contract with a client: validity, terms, discounts, renewal.")
class Contract(ContractFields):
    @strawberry.field(description="The client (null only if you can no longer see it).")
    async def client(self, info: strawberry.Info) -> Client | None:
        return await load_node(info.context.loaders.client, lookup_id(self.client_id),
                               Client.from_row)

    @strawberry.field(description="Negotiated discounts, in the order given.")
    async def discounts(self, info: strawberry.Info) -> list[ContractDiscount]:
        rows = await info.context.loaders.contract_discounts.load(uuid.UUID(str(self.id)))
        return [ContractDiscount.from_row(r) for r in rows]

    @strawberry.field(description="Audit history of this contract, newest first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, info.context.loaders.entity_history,
                                        uuid.UUID(str(self.id)), first, after)


@strawberry.type
class ContractEdge:
    cursor: str
    node: Contract


@strawberry.type
class ContractConnection:
    edges: list[ContractEdge]
    page_info: PageInfo


async def client_contracts(info: strawberry.Info, client_id: str, first: int | None,
                           after: str | None, status: ContractStatus | None
                           ) -> ContractConnection:
    """``Client.contracts``: one batched statement for all the clients of a request."""
    size = requested_page_size(info, first)
    key = contract_queries.ClientContractsKey(uuid.UUID(client_id), size,
                                              status.value if status else None, after)
    return contract_connection(await load_page(info.context.loaders.contracts_by_client, key))


def contract_connection(page: Page) -> ContractConnection:
    return connection_of(page, ContractConnection, ContractEdge, Contract.from_row)


# --- the staff directory's employee --------------------------------------------------------------

@strawberry.federation.type(
    keys=["id"],
    description="An employee of the staff directory; `id` is the subject of their tokens.")
class Employee(EmployeeFields):
    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> Employee | None:
        return await load_node(info.context.loaders.employee, lookup_id(id), cls.from_row)

    @strawberry.field
    async def manager(self, info: strawberry.Info) -> Employee | None:
        return await load_node(info.context.loaders.employee, lookup_id(self.manager_id),
                               Employee.from_row)

    @strawberry.field(description="Changes to this employee, newest first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, info.context.loaders.entity_history,
                                        uuid.UUID(str(self.id)),
                                        first, after)

    @strawberry.field(description="Placements at the clients this employee owns whose audit is "
                                  "due by dueBy (default today, Sofia), the most overdue first; "
                                  "of the clients you may see.")
    async def audits_due(self, info: strawberry.Info, first: int | None = None,
                         after: str | None = None,
                         due_by: date | None = None) -> PlacementConnection:
        return await audits_due_connection(info, uuid.UUID(str(self.id)), first, after, due_by)


# --- the advertising inventory -------------------------------------------------------------------

@strawberry.type(description="An asset of ours: a fridge, a stand ... with its tag.")
class Asset(AssetFields):
    @strawberry.field(description="Its placements at the clients you see, newest first (at "
                                  "most 100).")
    async def placements(self, info: strawberry.Info) -> list[Placement]:
        rows = await info.context.loaders.placements_by_asset.load(uuid.UUID(str(self.id)))
        return [Placement.from_row(r) for r in rows]

    @strawberry.field(description="The placement it is in now, if you see its client.")
    async def open_placement(self, info: strawberry.Info) -> Placement | None:
        rows = await info.context.loaders.placements_by_asset.load(uuid.UUID(str(self.id)))
        return next((Placement.from_row(r) for r in rows if r["returned_on"] is None), None)

    @strawberry.field(description="Its audit results at the clients you see, newest first (at "
                                  "most 100).")
    async def audit_lines(self, info: strawberry.Info) -> list[AuditLine]:
        rows = await info.context.loaders.lines_by_asset.load(uuid.UUID(str(self.id)))
        return [AuditLine.from_row(r) for r in rows]


@strawberry.type
class AssetEdge:
    cursor: str
    node: Asset


@strawberry.type
class AssetConnection:
    edges: list[AssetEdge]
    page_info: PageInfo


@strawberry.type(description="An asset placed at one of a client's addresses.")
class Placement(PlacementFields):
    @strawberry.field(description="The asset (null if you can no longer see it).")
    async def asset(self, info: strawberry.Info) -> Asset | None:
        return await load_node(info.context.loaders.asset, lookup_id(self.asset_id),
                               Asset.from_row)

    @strawberry.field(description="The client (null if you can no longer see it).")
    async def client(self, info: strawberry.Info) -> Client | None:
        return await load_node(info.context.loaders.client, lookup_id(self.client_id),
                               Client.from_row)

    @strawberry.field(description="The client's address it stands at.")
    async def address(self, info: strawberry.Info) -> Address | None:
        if await self.client(info) is None:
            return None
        rows = await info.context.loaders.addresses.load(uuid.UUID(str(self.client_id)))
        row = next((r for r in rows if str(r["id"]) == str(self.address_id)), None)
        return Address.from_row(row) if row else None

    @strawberry.field(description="The latest audit result of this placement.")
    async def last_audit(self, info: strawberry.Info) -> AuditLine | None:
        return await load_node(info.context.loaders.last_audit_line, uuid.UUID(str(self.id)),
                               AuditLine.from_row)

    @strawberry.field(description="The signed handover protocol's files (PDF or image), oldest "
                                  "first (at most 50).")
    async def protocols(self, info: strawberry.Info) -> list[InventoryFile]:
        rows = await info.context.loaders.protocols.load(uuid.UUID(str(self.id)))
        return [InventoryFile.from_row(r, info.context.files.urls.protocols) for r in rows]


@strawberry.type
class PlacementEdge:
    cursor: str
    node: Placement


@strawberry.type
class PlacementConnection:
    edges: list[PlacementEdge]
    page_info: PageInfo


@strawberry.type(description="What an audit found for one asset.")
class AuditLine(AuditLineFields):
    @strawberry.field(description="The asset (null if you may not see it; an UNRECORDED "
                                  "finding's asset is placed elsewhere).")
    async def asset(self, info: strawberry.Info) -> Asset | None:
        return await load_node(info.context.loaders.asset, lookup_id(self.asset_id),
                               Asset.from_row)

    @strawberry.field
    async def audit(self, info: strawberry.Info) -> Audit | None:
        return await load_node(info.context.loaders.audit, lookup_id(self.audit_id),
                               Audit.from_row)


@strawberry.type
class AuditLineEdge:
    cursor: str
    node: AuditLine


@strawberry.type
class AuditLineConnection:
    edges: list[AuditLineEdge]
    page_info: PageInfo


@strawberry.type(description="An audit of the assets at a client during a visit.")
class Audit(AuditFields):
    @strawberry.field(description="One line per asset, in the order given.")
    async def lines(self, info: strawberry.Info) -> list[AuditLine]:
        rows = await info.context.loaders.lines_by_audit.load(uuid.UUID(str(self.id)))
        return [AuditLine.from_row(r) for r in rows]

    @strawberry.field
    async def client(self, info: strawberry.Info) -> Client | None:
        return await load_node(info.context.loaders.client, lookup_id(self.client_id),
                               Client.from_row)

    @strawberry.field(description="Photos taken during the audit, oldest first (at most 50).")
    async def photos(self, info: strawberry.Info) -> list[InventoryFile]:
        rows = await info.context.loaders.photos.load(uuid.UUID(str(self.id)))
        return [InventoryFile.from_row(r, info.context.files.urls.photos) for r in rows]


@strawberry.type(description="The advertising inventory at a client.")
class ClientInventory:
    client_id: strawberry.ID

    @strawberry.field(description="Open placements, oldest first (at most 500), each with its "
                                  "last audit.")
    async def placements(self, info: strawberry.Info) -> list[Placement]:
        rows = await info.context.loaders.open_placements.load(uuid.UUID(str(self.client_id)))
        return [Placement.from_row(r) for r in rows]

    @strawberry.field(description="How many assets are placed there now.")
    async def asset_count(self, info: strawberry.Info) -> int:
        count, _ = await info.context.loaders.placed_value.load(uuid.UUID(str(self.client_id)))
        return int(count)

    @strawberry.field(description="The value of the equipment placed there now: each asset's "
                                  "purchase value, else its type's value; EUR.")
    async def placed_value(self, info: strawberry.Info) -> Money:
        _, value = await info.context.loaders.placed_value.load(uuid.UUID(str(self.client_id)))
        return Money.eur(value)

    @strawberry.field(description="Bulk material issued there, latest first.")
    async def material_issues(self, info: strawberry.Info,
                              first: int | None = None) -> list[MaterialIssue]:
        key = asset_queries.ClientMaterialKey(uuid.UUID(str(self.client_id)),
                                              requested_page_size(info, first))
        page = await info.context.loaders.material_by_client.load(key)
        return [MaterialIssue.from_row(r) for r in page.rows]


async def audits_due_connection(info: strawberry.Info, owner_id: uuid.UUID | None,
                                first: int | None, after: str | None,
                                due_by: date | None) -> PlacementConnection:
    """``Employee.auditsDue`` and ``Query.auditsDue``: one statement per page."""
    size = requested_page_size(info, first)
    try:
        page = await asset_queries.audits_due(
            info.context.runtime.reader, info.context.principal,
            asset_queries.DueFilter(owner_id=owner_id, due_by=due_by or business_today()),
            first=size, after=after, grace=info.context.grace)
    except InvalidCursor as exc:
        raise bad_input(f"after: {exc}") from None
    for row in page.rows:
        info.context.loaders.placement.prime(row["id"], row)
    return placement_connection(page)


def audit_line_connection(page: Page) -> AuditLineConnection:
    return connection_of(page, AuditLineConnection, AuditLineEdge, AuditLine.from_row)


def asset_connection(page: Page) -> AssetConnection:
    return connection_of(page, AssetConnection, AssetEdge, Asset.from_row)


def placement_connection(page: Page) -> PlacementConnection:
    return connection_of(page, PlacementConnection, PlacementEdge, Placement.from_row)
