"""userErrors speak the API's language in every service: bad input sent to a few mutations of
each service, through the gateway, must come back as userErrors whose ``field`` paths are the
API's camelCase names and whose messages name no snake_case (Python) identifier and carry no
raw Python exception text ("badly formed hexadecimal UUID string", "Invalid isoformat string")."""

from __future__ import annotations

import re
import uuid

import pytest

from .conftest import Platform

pytestmark = pytest.mark.e2e

NOT_AN_ID = "not-a-uuid"
# the documents hold their input as literals, so that they hold whichever scalar (String or ID,
# String or Date) a field has; every value below is valid for both
CASES = {
    "clients": [
        """mutation { createClient(input: {kind: COMPANY, legalName: "", eik: "123",
             ownerId: "not-a-uuid", groupId: "not-a-uuid", paymentTermDays: -5,
             emails: ["nope"], phones: ["x"], website: "ftp//", currency: "XXXX"}) {
             userErrors { field code message } } }""",
        """mutation { createContract(input: {clientId: "not-a-uuid", number: "", kind: SALES,
             title: "", validFrom: "2026-05-01", validUntil: "2026-01-01",
             ourSignatoryId: "not-a-uuid", paymentTermDays: -1}) {
             userErrors { field code message } } }""",
        """mutation { createEmployee(input: {id: "not-a-uuid", fullName: "", role: SALES_REP,
             email: "nope", managerId: "not-a-uuid"}) { userErrors { field code message } } }""",
        """mutation { updateClient(input: {id: "not-a-uuid", version: 1, legalName: ""}) {
             userErrors { field code message } } }""",
    ],
    "activities": [
        """mutation { logActivity(input: {clientId: "not-a-uuid", kind: VISIT,
             durationMinutes: -3, contactPersonId: "not-a-uuid", employeeId: "not-a-uuid"}) {
             userErrors { field code message } } }""",
        """mutation { scheduleMeeting(input: {clientId: "not-a-uuid",
             startsAt: "2026-05-01T10:00:00Z", endsAt: "2026-05-01T09:00:00Z",
             employeeId: "not-a-uuid", contactPersonIds: ["not-a-uuid"]}) {
             userErrors { field code message } } }""",
        """mutation { cancelMeeting(input: {id: "not-a-uuid", version: 1}) {
             userErrors { field code message } } }""",
    ],
    "tasks": [
        """mutation { createTask(input: {title: "", assigneeId: "not-a-uuid",
             dueDate: "2026-12-31", clientId: "not-a-uuid", activityId: "not-a-uuid",
             watchers: ["not-a-uuid"]}) { userErrors { field code message } } }""",
        """mutation { reassignTask(input: {id: "not-a-uuid", version: 1,
             assigneeId: "not-a-uuid"}) { userErrors { field code message } } }""",
    ],
}

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PYTHON = re.compile(r"hexadecimal|isoformat|invalid literal|Traceback|object has no attribute|"
                    r"NoneType|unexpected keyword|could not convert|is not subscriptable|"
                    r"Error\(|KeyError|ValueError|TypeError", re.IGNORECASE)
CAMEL_PART = re.compile(r"^(?:[a-z][A-Za-z0-9]*|\d+)$")


def test_user_errors_use_the_api_names_and_no_python_text(platform: Platform) -> None:
    manager = platform.token("manager", uuid.uuid4())
    seen: list[tuple[str, list[str] | None, str, str]] = []
    for service, documents in CASES.items():
        for document in documents:
            response = platform.post(manager, document)
            body = response.json()
            assert response.status_code == 200, body
            # bad input is a userError, not a GraphQL error
            for error in body.get("errors", []):
                seen.append((service, None, "GRAPHQL_ERROR", error["message"]))
            for payload in (body.get("data") or {}).values():
                assert payload["userErrors"], (service, document)
                for error in payload["userErrors"]:
                    seen.append((service, error["field"], error["code"], error["message"]))
    bad = [(s, f, c, m) for s, f, c, m in seen
           if c == "GRAPHQL_ERROR" or SNAKE.search(m) or PYTHON.search(m)
           or any(not CAMEL_PART.match(part) for part in f or [])]
    assert not bad, "\n".join(f"{s}: {f} {c}: {m}" for s, f, c, m in bad)
