"""The access rules of DESIGN section 6 as a table: role × relation to the client."""

from __future__ import annotations

import uuid

import pytest

from crm_clients.domain.access import (
    Decision,
    can_archive,
    can_edit,
    can_see,
    owner_on_create,
)
from crm_common.auth import Principal

ME = uuid.UUID("00000000-0000-0000-0000-000000000001")
SOMEONE = uuid.UUID("00000000-0000-0000-0000-000000000002")


def who(*roles: str) -> Principal:
    return Principal(subject=ME, roles=frozenset(roles))


@pytest.mark.parametrize(
    ("roles", "owner", "granted", "see", "edit", "archive"),
    [
        (("admin",), SOMEONE, False, True, Decision.ALLOW, Decision.ALLOW),
        (("admin",), None, False, True, Decision.ALLOW, Decision.ALLOW),
        (("manager",), SOMEONE, False, True, Decision.ALLOW, Decision.ALLOW),
        (("manager",), ME, False, True, Decision.ALLOW, Decision.ALLOW),
        (("sales_rep",), ME, False, True, Decision.ALLOW, Decision.FORBIDDEN),
        (("sales_rep",), SOMEONE, False, False, Decision.NOT_FOUND, Decision.NOT_FOUND),
        (("sales_rep",), None, False, False, Decision.NOT_FOUND, Decision.NOT_FOUND),
        # a grant (a scheduled meeting, issue 3) lets a rep see, not change
        (("sales_rep",), SOMEONE, True, True, None, None),
        (("sales_rep", "manager"), SOMEONE, False, True, Decision.ALLOW, Decision.ALLOW),
    ],
)
def test_access_matrix(roles: tuple[str, ...], owner: uuid.UUID | None, granted: bool,
                       see: bool, edit: Decision | None, archive: Decision | None) -> None:
    principal = who(*roles)
    assert can_see(principal, owner, granted) is see
    if edit is not None:
        assert can_edit(principal, owner) is edit
    if archive is not None:
        assert can_archive(principal, owner) is archive


def test_a_principal_without_a_known_role_sees_nothing() -> None:
    nobody = Principal(subject=ME, roles=frozenset({"auditor"}))
    assert can_see(nobody, ME) is False
    assert can_edit(nobody, ME) is Decision.NOT_FOUND
    assert owner_on_create(nobody, None) == (Decision.FORBIDDEN, None)


def test_owner_on_create() -> None:
    assert owner_on_create(who("sales_rep"), None) == (Decision.ALLOW, ME)
    assert owner_on_create(who("sales_rep"), ME) == (Decision.ALLOW, ME)
    assert owner_on_create(who("sales_rep"), SOMEONE) == (Decision.FORBIDDEN, None)
    assert owner_on_create(who("manager"), SOMEONE) == (Decision.ALLOW, SOMEONE)
    assert owner_on_create(who("manager"), None) == (Decision.ALLOW, None)
