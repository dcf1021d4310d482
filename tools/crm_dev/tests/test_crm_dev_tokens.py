"""``./crm token``: minting and argument validation (no server needed)."""

from __future__ import annotations

import uuid

import jwt
import pytest

from crm_dev import cli, tokens

EMPLOYEE = "0c8643b9-ee64-5e58-b9d0-133403b8611e"


def _decode(root, token: str) -> dict:
    public = (root / ".crm" / "keys" / "jwt_public.pem").read_text()
    return jwt.decode(token, public, algorithms=["RS256"], audience="crm", issuer="crm-dev")


def test_token_is_signed_with_the_dev_key_and_carries_the_claims(tmp_path):
    token = tokens.token(tmp_path, roles=["manager", "sales_rep", "manager"], employee=EMPLOYEE,
                         name="Мария Петрова", ttl=600, now=None)
    claims = _decode(tmp_path, token)
    assert claims["sub"] == EMPLOYEE
    assert claims["roles"] == ["manager", "sales_rep"]
    assert claims["name"] == "Мария Петрова"
    assert claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_keys_are_created_once_and_reused(tmp_path):
    private, public = tokens.ensure_keys(tmp_path)
    before = private.read_text(), public.read_text()
    tokens.token(tmp_path, roles=["admin"], employee=EMPLOYEE)
    assert (private.read_text(), public.read_text()) == before
    assert private.stat().st_mode & 0o077 == 0


def test_employee_id_is_normalised():
    assert tokens.validate_employee(EMPLOYEE.upper()) == EMPLOYEE
    assert tokens.validate_employee(str(uuid.UUID(EMPLOYEE).hex)) == EMPLOYEE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"roles": ["boss"], "employee": EMPLOYEE}, "unknown role 'boss'"),
        ({"roles": [], "employee": EMPLOYEE}, "at least one --role"),
        ({"roles": ["admin"], "employee": "nope"}, "must be a UUID"),
        ({"roles": ["admin"], "employee": None}, "--employee UUID is needed"),
        ({"roles": ["admin"], "employee": EMPLOYEE, "ttl": 0}, "positive number"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(tmp_path, kwargs, message):
    with pytest.raises(tokens.TokenArgumentError, match=message):
        tokens.token(tmp_path, **kwargs)
    assert not (tmp_path / ".crm").exists()  # nothing is created for a refused request


def test_cli_prints_a_token(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CRM_ROOT", str(tmp_path))
    code = cli.main(["token", "--role", "sales_rep", "--role", "manager", "--employee", EMPLOYEE,
                     "--name", "Георги", "--ttl", "60"])
    assert code == 0
    claims = _decode(tmp_path, capsys.readouterr().out.strip())
    assert claims["roles"] == ["sales_rep", "manager"]
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["token", "--role", "root", "--employee", EMPLOYEE], "unknown role 'root'"),
        (["token", "--role", "admin", "--employee", "42"], "must be a UUID"),
        (["token", "--employee", EMPLOYEE], "at least one --role"),
        (["token", "--role", "admin"], "--employee UUID is needed"),
    ],
)
def test_cli_refuses_bad_arguments_with_exit_code_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("CRM_ROOT", str(tmp_path))
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_without_arguments_prints_usage(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for command in ("up", "test", "token", "seed", "compose"):
        assert command in out
