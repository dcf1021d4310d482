"""End to end through the gateway: a manager gives a rep a commitment for the rep's client; the
rep works it, attaches a file straight to the tasks service over HTTP, and everyone reads the
task through the federated Client and Employee."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import Platform

pytestmark = pytest.mark.e2e

CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } userErrors { field code message } } }"""
CREATE_TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  task { id number status version } userErrors { field code message } } }"""
CLOSE = """mutation($input: CloseTaskInput!) { closeTask(input: $input) {
  task { status outcome version } userErrors { field code message } } }"""
UPLOAD = """mutation($input: RequestAttachmentUploadInput!) { requestAttachmentUpload(
  input: $input) { uploadUrl attachment { id } userErrors { field code message } } }"""
CLIENT_TASKS = """query($id: ID!) { client(id: $id) { id legalName
  tasks(first: 10) { edges { node { id number status assignee { id fullName } } } } } }"""
ATTACHMENTS = """query($id: ID!) { task(id: $id) { attachments { edges { node {
  fileName size sha256 detectedContentType downloadUrl status } } } } }"""
MY_TASKS = """query { tasks(filter: {assignedToMe: true}) { edges { node { id number } } } }"""


def _until(check: Any, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.2)


def test_a_commitment_with_an_attachment_through_the_gateway(platform: Platform) -> None:
    rep = platform.employee(name="Иван Петров")
    other = platform.employee(name="Петър Иванов")
    manager = platform.employee(role="manager", name="Мария Манева")
    manager_token = platform.token("manager", manager)
    client = platform.data(manager_token, CREATE_CLIENT, {"input": {
        "kind": "COMPANY", "legalName": f"Задачи {uuid.uuid4().hex[:6]} ООД",
        "ownerId": str(rep)}})["createClient"]
    assert client["userErrors"] == []
    client_id = client["client"]["id"]
    due = (dt.date.today() + dt.timedelta(days=5)).isoformat()

    def created() -> dict[str, Any] | None:
        # the tasks service learns of the employee and the client from their events
        payload = platform.data(manager_token, CREATE_TASK, {"input": {
            "title": "Мостра на новия продукт", "kind": "COMMITMENT",
            "commitmentType": "SAMPLE", "clientId": client_id, "assigneeId": str(rep),
            "dueDate": due}})["createTask"]
        return payload if not payload["userErrors"] else None

    task = _until(created)["task"]
    assert task["status"] == "ASSIGNED" and task["number"].startswith("T")
    rep_token = platform.token("sales_rep", rep)
    grant = platform.data(rep_token, UPLOAD, {"input": {
        "taskId": task["id"], "fileName": "мостра.pdf", "contentType": "application/pdf"}}
    )["requestAttachmentUpload"]
    assert grant["userErrors"] == []
    body = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)
    # the bytes go straight to the tasks service, not through the gateway
    assert "/attachments/" in grant["uploadUrl"]
    put = httpx.put(grant["uploadUrl"], content=body, timeout=60)
    assert put.status_code == 201, put.text
    closed = platform.data(rep_token, CLOSE, {"input": {
        "id": task["id"], "version": task["version"], "outcome": "CONFIRMED"}})["closeTask"]
    assert closed["userErrors"] == [] and closed["task"]["status"] == "CLOSED_CONFIRMED"

    seen = platform.data(rep_token, CLIENT_TASKS, {"id": client_id})["client"]
    (t,) = [e["node"] for e in seen["tasks"]["edges"]]
    assert t["status"] == "CLOSED_CONFIRMED" and t["assignee"]["id"] == str(rep)
    assert t["assignee"]["fullName"] == "Иван Петров"  # resolved by the clients service
    attachments = platform.data(rep_token, ATTACHMENTS, {"id": t["id"]})["task"]["attachments"]
    (att,) = [e["node"] for e in attachments["edges"]]
    assert att["status"] == "STORED"
    assert att["size"] == len(body) and att["detectedContentType"] == "application/pdf"
    download = httpx.get(att["downloadUrl"], timeout=60)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(body).hexdigest()
    assert "filename*=UTF-8''%D0%BC" in download.headers["content-disposition"]

    # the other rep sees neither the client nor its tasks, and has no tasks of their own
    assert platform.data(platform.token("sales_rep", other), CLIENT_TASKS,
                         {"id": client_id})["client"] is None
    mine = platform.data(rep_token, MY_TASKS)["tasks"]["edges"]
    assert [e["node"]["id"] for e in mine] == [task["id"]]
    assert platform.data(platform.token("sales_rep", other), MY_TASKS)["tasks"]["edges"] == []
    # a tampered download URL is refused
    assert httpx.get(att["downloadUrl"].replace("sig=", "sig=0"), timeout=30).status_code == 403
    # one dialect: ids are ID, dates Date; a malformed date is a request error through the
    # gateway too (BAD_USER_INPUT), an id that is no UUID a userError naming the field
    bad_date = platform.post(manager_token, CREATE_TASK, {"input": {
        "title": "x", "assigneeId": str(rep), "dueDate": "2026-02-30"}}).json()
    assert bad_date.get("data") is None, bad_date
    assert bad_date["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad_date
    bad_id = platform.data(manager_token, CREATE_TASK, {"input": {
        "title": "x", "assigneeId": "nobody", "dueDate": due}})["createTask"]
    assert [(e["field"], e["code"]) for e in bad_id["userErrors"]] == [
        (["input", "assigneeId"], "INVALID_ID")]
