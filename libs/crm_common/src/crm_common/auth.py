"""Bearer-token verification and the principal.

Every subgraph verifies the JWT again even though the gateway already did: a subgraph reached
directly is no way around the rules (DESIGN section 6).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROLES = frozenset({"admin", "manager", "sales_rep"})


class AuthenticationError(Exception):
    """The request carries no valid token."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the employee id (token subject) and their roles."""

    subject: uuid.UUID
    roles: frozenset[str]
    name: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_manager(self) -> bool:
        return "manager" in self.roles

    @property
    def sees_all_clients(self) -> bool:
        return bool(self.roles & {"admin", "manager"})


class TokenVerifier:
    """Checks signature (RS256 only), issuer, audience and expiry of a bearer token."""

    def __init__(self, public_key_pem: str, issuer: str, audience: str, leeway: int = 5) -> None:
        # parsed once: PyJWT would parse the PEM again on every request (~5 % of a request)
        key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the token verification key must be an RSA public key")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationError("missing bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("authorization header must be 'Bearer <token>'")
        try:
            claims = jwt.decode(
                token.strip(),
                self._key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        try:
            subject = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise AuthenticationError("token subject is not an employee id") from exc
        raw_roles = claims.get("roles", [])
        if not isinstance(raw_roles, list):
            raise AuthenticationError("roles claim must be a list")
        roles = frozenset(r for r in raw_roles if isinstance(r, str) and r in ROLES)
        if not roles:
            raise AuthenticationError("token carries no known role")
        name = claims.get("name")
        return Principal(subject=subject, roles=roles, name=name if isinstance(name, str) else None)
