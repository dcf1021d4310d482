"""GraphQL input types of clients and their dossiers (``to_raw``, in
``crm_common.graphql.inputs``, turns them into the plain dicts the service layer validates)."""

from __future__ import annotations

import enum
from decimal import Decimal

import strawberry

from crm_clients.graphql.client_types import AddressKind, ClientKind, ClientStatus, DocumentKind


@strawberry.input
class AddressInput:
    kind: AddressKind
    city: str
    street: str
    country: str | None = "BG"
    postal_code: str | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET


@strawberry.input
class ContactPersonInput:
    name: str
    position: str | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    is_primary: bool | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class BankAccountInput:
    iban: str = strawberry.field(description="Spaces and lower case accepted.")
    bic: str | None = strawberry.UNSET
    bank_name: str | None = strawberry.UNSET
    currency: str | None = "EUR"
    is_default: bool | None = strawberry.UNSET


@strawberry.input
class AddBankAccountInput:
    client_id: strawberry.ID
    bank_account: BankAccountInput


@strawberry.input
class UpdateBankAccountInput:
    id: strawberry.ID
    version: int
    iban: str | None = strawberry.UNSET
    bic: str | None = strawberry.UNSET
    bank_name: str | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET


@strawberry.input
class DocumentDescriptionInput:
    kind: DocumentKind
    text: str


@strawberry.input
class CreateClientInput:
    kind: ClientKind
    legal_name: str
    trade_name: str | None = strawberry.UNSET
    eik: str | None = strawberry.UNSET
    vat_number: str | None = strawberry.UNSET
    status: ClientStatus | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    group_id: strawberry.ID | None = strawberry.UNSET
    payment_term_days: int | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    credit_limit: Decimal | None = strawberry.UNSET
    document_descriptions: list[DocumentDescriptionInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="One per document kind; the list replaces all descriptions, null clears.")
    addresses: list[AddressInput] | None = strawberry.UNSET
    contact_persons: list[ContactPersonInput] | None = strawberry.UNSET
    bank_accounts: list[BankAccountInput] | None = strawberry.UNSET


@strawberry.input(description="Fields left out stay as they are; null clears an optional field.")
class UpdateClientInput:
    id: strawberry.ID
    version: int
    legal_name: str | None = strawberry.UNSET
    trade_name: str | None = strawberry.UNSET
    eik: str | None = strawberry.UNSET
    vat_number: str | None = strawberry.UNSET
    status: ClientStatus | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    group_id: strawberry.ID | None = strawberry.UNSET
    payment_term_days: int | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    credit_limit: Decimal | None = strawberry.UNSET
    document_descriptions: list[DocumentDescriptionInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="One per document kind; the list replaces all descriptions, null clears.")


@strawberry.input
class ArchiveClientInput:
    id: strawberry.ID
    version: int
    reason: str | None = None


@strawberry.input
class AddAddressInput:
    client_id: strawberry.ID
    address: AddressInput


@strawberry.input
class UpdateAddressInput:
    id: strawberry.ID
    version: int
    kind: AddressKind | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    street: str | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET


@strawberry.input
class RemoveInput:
    id: strawberry.ID
    version: int


@strawberry.input
class AddContactPersonInput:
    client_id: strawberry.ID
    contact_person: ContactPersonInput


@strawberry.input
class UpdateContactPersonInput:
    id: strawberry.ID
    version: int
    name: str | None = strawberry.UNSET
    position: str | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    is_primary: bool | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class ReassignClientOwnerInput:
    id: strawberry.ID
    version: int
    owner_id: strawberry.ID | None = strawberry.field(
        description="An active employee; null leaves the client without an owner.")
    reason: str | None = None


@strawberry.input
class ClientFilterInput:
    search: str | None = strawberry.field(
        default=None,
        description="Free text matched against names, EIK, VAT number, phones, e-mails and "
                    "contact persons; Cyrillic or Latin, typo-tolerant; results best match first.")
    status: ClientStatus | None = None
    owner_id: strawberry.ID | None = None
    group_id: strawberry.ID | None = None
    city: str | None = None
    has_contract_in_force: bool | None = strawberry.field(
        default=None, description="Only clients with (true) or without (false) an active "
                                  "contract valid today.")


@strawberry.enum
class ClientOrderField(enum.Enum):
    NAME = "NAME"
    CODE = "CODE"
    CREATED_AT = "CREATED_AT"


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input
class ClientOrder:
    field: ClientOrderField = ClientOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC
