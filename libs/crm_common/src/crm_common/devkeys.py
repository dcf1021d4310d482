"""Development key pairs and tokens: what ``./crm token`` and the tests use.

Production tokens come from the organisation's OpenID Connect provider; nothing here runs there.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate_key_pair() -> tuple[str, str]:
    """A fresh RSA-2048 key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def ensure_key_files(directory: Path) -> tuple[Path, Path]:
    """Create ``jwt_private.pem`` / ``jwt_public.pem`` once; reuse them afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / "jwt_private.pem"
    public_path = directory / "jwt_public.pem"
    if not (private_path.exists() and public_path.exists()):
        private, public = generate_key_pair()
        private_path.write_text(private)
        private_path.chmod(0o600)
        public_path.write_text(public)
    return private_path, public_path


def mint_token(
    private_pem: str,
    *,
    subject: uuid.UUID | str,
    roles: Iterable[str],
    name: str | None = None,
    issuer: str = "crm-dev",
    audience: str = "crm",
    ttl_seconds: int = 8 * 3600,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "iss": issuer,
        "aud": audience,
        "sub": str(subject),
        "roles": list(roles),
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, private_pem, algorithm="RS256")
