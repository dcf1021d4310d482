"""``./crm test``: exit codes and the pytest command line; ``./crm seed``: answer classification."""

from __future__ import annotations

import sys

import pytest

from crm_dev import runtests, seed
from crm_dev.workspace import SERVICES, repo_root


@pytest.mark.parametrize(("pytest_code", "ours"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 1)])
def test_exit_code_mapping(pytest_code, ours):
    assert runtests.exit_code(pytest_code) == ours


def test_pytest_runs_every_test_folder_by_default():
    root = repo_root()
    argv = runtests.pytest_argv(root, ["-x", "-k", "token"])
    assert argv[:3] == [sys.executable, "-m", "pytest"]
    folders = [a for a in argv[3:] if not a.startswith("-") and a != "token"]
    assert folders == [d for d in ("libs", "services", "tools", "tests") if (root / d).is_dir()]
    assert argv[-3:] == ["-x", "-k", "token"]


def test_pytest_runs_only_the_paths_given():
    root = repo_root()
    argv = runtests.pytest_argv(root, ["tools/crm_dev/tests", "-q"])
    assert argv[3:] == ["tools/crm_dev/tests", "-q"]


def test_service_registry_follows_the_conventions():
    clients = next(s for s in SERVICES if s.name == "clients")
    assert clients.port == 8101
    assert clients.script == "crm-clients"
    assert clients.url_env == "CLIENTS_URL"
    assert clients.database_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients"
    assert len({s.port for s in SERVICES}) == len(SERVICES)


def _answer(client=None, errors=()):
    return {"data": {"createClient": {"client": client, "userErrors": list(errors)}}}


def test_seed_classifies_created_existing_and_failed():
    report = seed.SeedReport()
    entry = {"legalName": "Агрополис ЕООД", "eik": "204187364"}
    seed.classify(entry, _answer({"id": "x", "code": "C000001"}), report)
    seed.classify(entry, _answer(errors=[{"field": ["input", "eik"], "message": "m",
                                          "code": "DUPLICATE"}]), report)
    seed.classify(entry, _answer(errors=[{"field": ["input", "eik"], "message": "bad",
                                          "code": "INVALID_EIK"}]), report)
    seed.classify(entry, {"errors": [{"message": "boom"}], "data": None}, report)
    assert report.created == [("Агрополис ЕООД (EIK 204187364)", "C000001")]
    assert report.existing == ["Агрополис ЕООД (EIK 204187364)"]
    assert [why for _, why in report.failed] == ["input.eik: bad [INVALID_EIK]", "boom"]
    assert not report.ok


def test_seed_says_clearly_when_the_api_is_not_reachable(tmp_path):
    from crm_dev.procs import free_port

    url = f"http://127.0.0.1:{free_port()}/graphql"
    with pytest.raises(seed.SeedError, match=r"not reachable.*\./crm up"):
        seed.seed(tmp_path, url, timeout=2)
