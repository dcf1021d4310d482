"""The README's first request, exactly as written, against a platform seeded by ``./crm seed``'s
own code (issue 14: it named an employee the seed does not create, and ``./crm up`` printed the
demo employees' token commands before they existed)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from crm_dev import readme, seed, seed_data
from crm_dev.tokens import token

from .conftest import ROOT, Platform

pytestmark = pytest.mark.e2e


def test_the_readmes_first_request_works_on_a_seeded_platform(platform: Platform,
                                                              tmp_path: Path) -> None:
    # a checkout whose development keys are the platform's (what `./crm up` made in .crm/keys)
    keys = tmp_path / ".crm" / "keys"
    keys.mkdir(parents=True)
    (keys / "jwt_private.pem").write_text(platform.private_key)
    (keys / "jwt_public.pem").write_text((platform.workdir / "jwt_public.pem").read_text())

    # before the seed, `./crm up` would not print token commands for employees that do not exist
    assert seed.missing_employees(tmp_path, platform.gateway) == seed_data.EMPLOYEES
    report = seed.seed(tmp_path, platform.gateway)
    assert report.failed == [], report.failed
    assert seed.missing_employees(tmp_path, platform.gateway) == []

    # ./crm token --role R --employee E, and the JSON body curl sends
    args, body = readme.first_request(ROOT / "README.md")
    bearer = token(tmp_path, roles=[args[args.index("--role") + 1]],
                   employee=args[args.index("--employee") + 1])
    response = httpx.post(platform.gateway, json=body, timeout=30,
                          headers={"authorization": f"Bearer {bearer}"})
    answer = response.json()
    assert response.status_code == 200 and "errors" not in answer, answer
    nodes = [e["node"] for e in answer["data"]["clients"]["edges"]]
    assert len(nodes) == 5 and all(n["code"] and n["legalName"] for n in nodes)
