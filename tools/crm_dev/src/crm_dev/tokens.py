"""Development keys (``.crm/keys``) and tokens: ``./crm token``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from crm_common.devkeys import ensure_key_files, mint_token
from crm_dev.workspace import JWT_AUDIENCE, JWT_ISSUER, keys_dir

ROLES = ("admin", "manager", "sales_rep")
DEFAULT_TTL = 8 * 3600


class TokenArgumentError(ValueError):
    """A bad ``--role`` / ``--employee`` / ``--ttl``; the message says what is accepted."""


def ensure_keys(root: Path) -> tuple[Path, Path]:
    """``.crm/keys/jwt_private.pem`` and ``jwt_public.pem``, created once."""
    return ensure_key_files(keys_dir(root))


def validate_roles(roles: Sequence[str] | None) -> list[str]:
    if not roles:
        raise TokenArgumentError(f"at least one --role is needed (one of {', '.join(ROLES)})")
    result: list[str] = []
    for role in roles:
        if role not in ROLES:
            raise TokenArgumentError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if role not in result:
            result.append(role)
    return result


def validate_employee(employee: str | None) -> str:
    if not employee:
        raise TokenArgumentError("--employee UUID is needed (the employee id, the token's subject)")
    try:
        return str(uuid.UUID(employee.strip()))
    except ValueError:
        raise TokenArgumentError(
            f"--employee must be a UUID like 123e4567-e89b-12d3-a456-426614174000, not {employee!r}"
        ) from None


def validate_ttl(ttl: int) -> int:
    if ttl <= 0:
        raise TokenArgumentError(f"--ttl must be a positive number of seconds, not {ttl}")
    return ttl


def token(
    root: Path,
    *,
    roles: Sequence[str],
    employee: str,
    name: str | None = None,
    ttl: int = DEFAULT_TTL,
    now: float | None = None,
) -> str:
    """A signed RS256 token for ``employee`` with ``roles``; creates the key pair if missing."""
    valid_roles = validate_roles(roles)
    subject = validate_employee(employee)
    validate_ttl(ttl)
    private_path, _ = ensure_keys(root)
    return mint_token(
        private_path.read_text(),
        subject=subject,
        roles=valid_roles,
        name=name,
        issuer=JWT_ISSUER,
        audience=JWT_AUDIENCE,
        ttl_seconds=ttl,
        now=now,
    )


def token_command(employee_id: str, role: str, name: str | None = None) -> str:
    """The ready-to-copy shell command that prints a token for an employee."""
    cmd = f"./crm token --role {role} --employee {employee_id}"
    if name:
        cmd += " --name " + _shell_quote(name)
    return cmd


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
