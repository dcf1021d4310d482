"""``./crm seed``: the demo data of :mod:`crm_dev.seed_data`, loaded through the GraphQL API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crm_dev.seed_inventory import seed_inventory
from crm_dev.seed_pricing import seed_rules
from crm_dev.tokens import token, token_command
from crm_dev.workspace import GATEWAY_PORT

DEFAULT_URL = f"http://127.0.0.1:{GATEWAY_PORT}/graphql"

CREATE_CLIENT = """
mutation Seed($input: CreateClientInput!) {
  createClient(input: $input) {
    client { id code }
    userErrors { field message code }
  }
}
"""

CREATE_EMPLOYEE = """
mutation SeedEmployee($input: CreateEmployeeInput!) {
  createEmployee(input: $input) {
    employee { id }
    userErrors { field message code }
  }
}
"""


class SeedError(RuntimeError):
    pass


@dataclass
class SeedReport:
    created: list[tuple[str, str]] = field(default_factory=list)  # (name, code)
    existing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    pricing: list[str] = field(default_factory=list)  # what the pricing policy's seeding said
    inventory: list[str] = field(default_factory=list)  # what the inventory's seeding said

    @property
    def ok(self) -> bool:
        return not self.failed and not any(line.lstrip().startswith("FAILED")
                                           for line in self.pricing + self.inventory)


def _label(client: dict[str, Any]) -> str:
    name = client.get("legalName") or client.get("name") or "?"
    return f"{name} (EIK {client.get('eik')})" if client.get("eik") else str(name)


def _post(http: httpx.Client, url: str, variables: dict[str, Any],
          query: str = CREATE_CLIENT) -> dict[str, Any]:
    try:
        response = http.post(url, json={"query": query, "variables": variables})
    except httpx.TransportError as exc:
        raise SeedError(
            f"the GraphQL API at {url} is not reachable ({exc.__class__.__name__}: {exc}); "
            "start the platform first with `./crm up` (in another terminal)"
        ) from None
    try:
        body = response.json()
    except ValueError:
        raise SeedError(f"{url} answered HTTP {response.status_code} with no JSON: "
                        f"{response.text[:300]}") from None
    if not isinstance(body, dict):
        raise SeedError(f"{url} answered HTTP {response.status_code} with {body!r:.300}")
    if response.status_code == 401:
        raise SeedError(f"{url} refused the token (HTTP 401): are the gateway and the services "
                        "using .crm/keys/jwt_public.pem?")
    return body


def classify(client: dict[str, Any], body: dict[str, Any], report: SeedReport) -> None:
    """File one createClient answer under created / existing / failed."""
    label = _label(client)
    payload = (body.get("data") or {}).get("createClient")
    if body.get("errors") or payload is None:
        messages = "; ".join(str(e.get("message")) for e in body.get("errors") or []) or "no data"
        report.failed.append((label, messages))
        return
    errors = payload.get("userErrors") or []
    if not errors and payload.get("client"):
        report.created.append((label, payload["client"].get("code") or payload["client"]["id"]))
    elif errors and all(e.get("code") == "DUPLICATE" for e in errors):
        report.existing.append(label)
    else:
        why = "; ".join(
            f"{'.'.join(e.get('field') or []) or '-'}: {e.get('message')} [{e.get('code')}]"
            for e in errors
        ) or "no client and no userErrors"
        report.failed.append((label, why))


def seed_employees(root: Path, url: str, timeout: float) -> None:
    """The staff directory first: clients' owners must be active employees. An employee that
    exists already (same id) is left as it is."""
    from crm_dev import seed_data

    bearer = token(root, roles=["admin"], employee=SEED_ADMIN, name="crm-dev seed")
    headers = {"Authorization": f"Bearer {bearer}", "x-correlation-id": "crm-dev-seed"}
    manager_id = seed_data.MANAGER["id"]
    with httpx.Client(timeout=timeout, headers=headers) as http:
        for employee in seed_data.EMPLOYEES:
            variables = {"input": {
                "id": employee["id"], "fullName": employee["name"],
                "role": employee["role"].upper(),
                **({"managerId": manager_id} if employee["id"] != manager_id else {}),
            }}
            body = _post(http, url, variables, CREATE_EMPLOYEE)
            payload = (body.get("data") or {}).get("createEmployee") or {}
            errors = payload.get("userErrors") or []
            if body.get("errors") or (errors and errors[0].get("code") != "DUPLICATE"):
                raise SeedError(f"could not create employee {employee['name']}: "
                                f"{body.get('errors') or errors}")


#: the subject of the admin token the seeding runs with (not itself in the directory)
SEED_ADMIN = "00000000-0000-4000-8000-000000005eed"


def seed(root: Path, url: str = DEFAULT_URL, *, timeout: float = 30.0) -> SeedReport:
    from crm_dev import seed_data

    seed_employees(root, url, timeout)
    manager = seed_data.MANAGER
    bearer = token(root, roles=["manager"], employee=manager["id"], name=manager["name"])
    report = SeedReport()
    headers = {"Authorization": f"Bearer {bearer}", "x-correlation-id": "crm-dev-seed"}
    with httpx.Client(timeout=timeout, headers=headers) as http:
        for client in seed_data.CLIENTS:
            body = _post(http, url, {"input": client})
            classify(client, body, report)
        report.pricing = seed_rules(http, url, dt.date.today().year)
        report.inventory = seed_inventory(http, url, dt.date.today())
    return report


def print_report(report: SeedReport, url: str) -> None:
    from crm_dev import seed_data

    for label, code in report.created:
        print(f"  created  {code}  {label}")
    for label in report.existing:
        print(f"  exists   {label}")
    for label, why in report.failed:
        print(f"  FAILED   {label}: {why}")
    total = len(report.created) + len(report.existing) + len(report.failed)
    print(f"seed: {len(report.created)} created, {len(report.existing)} already there, "
          f"{len(report.failed)} failed ({total} clients, through {url})")
    for line in report.pricing + report.inventory:
        print(line)
    print_employees(seed_data.EMPLOYEES)


def print_employees(employees: Iterable[Mapping[str, str]]) -> None:
    print("employees (tokens: run the command):")
    for employee in employees:
        print(f"  {employee['name']} ({employee['role']}) {employee['id']}")
        print(f"    {token_command(employee['id'], employee['role'])}")
