"""GraphQL documents shared by the integration tests."""

import random

from crm_common.identifiers import eik_check_digit


def fresh_eik() -> str:
    """A valid 9-digit EIK no other test uses (random, check digit computed)."""
    first = f"{random.randrange(10**7, 10**8):08d}"
    return first + eik_check_digit(first)

CLIENT_FIELDS = """
  id code kind legalName tradeName eik vatNumber status ownerId phones emails website notes tags
  version
  addresses { id kind country city postalCode street isDefault version }
  contactPersons { id name position phones emails isPrimary notes version }
  bankAccounts { id iban bic bankName currency isDefault version }
"""

CREATE = f"""
mutation($input: CreateClientInput!) {{
  createClient(input: $input) {{ client {{ {CLIENT_FIELDS} }} userErrors {{ field message code }} }}
}}"""

UPDATE = f"""
mutation($input: UpdateClientInput!) {{
  updateClient(input: $input) {{ client {{ {CLIENT_FIELDS} }} userErrors {{ field message code }} }}
}}"""

ARCHIVE = f"""
mutation($input: ArchiveClientInput!) {{
  archiveClient(input: $input) {{
    client {{ {CLIENT_FIELDS} }} userErrors {{ field message code }} }}
}}"""

GET = f"""query($id: ID!) {{ client(id: $id) {{ {CLIENT_FIELDS} }} }}"""

LIST = """
query($first: Int, $after: String, $filter: ClientFilterInput, $orderBy: ClientOrder) {
  clients(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id code legalName status ownerId } }
    pageInfo { hasNextPage endCursor }
  }
}"""

def company(legal_name: str, eik: str | None = None, owner: str | None = None,
            **extra: object) -> dict[str, object]:
    data: dict[str, object] = {"kind": "COMPANY", "legalName": legal_name, "status": "PROSPECT"}
    if eik:
        data.update(eik=eik, vatNumber=f"BG{eik}", status="ACTIVE")
    if owner:
        data["ownerId"] = owner
    data.update(extra)
    return data
