"""The README's first request names an employee ``./crm seed`` creates (issue 14: it named one
that nothing created). ``tests/e2e/test_first_request.py`` runs it against a seeded platform."""

from __future__ import annotations

from pathlib import Path

from crm_dev import readme, seed_data

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_first_request_names_the_seeds_manager() -> None:
    args, body = readme.first_request(README)
    role = args[args.index("--role") + 1]
    employee = args[args.index("--employee") + 1]
    assert {"id": employee, "role": role} in [{"id": e["id"], "role": e["role"]}
                                              for e in seed_data.EMPLOYEES]
    assert "query" in body
    # and the README tells the reader to seed first
    assert "./crm seed" in README.read_text().split("A first request", 1)[1][:200]
