"""Bearer-token verification and the principal.

Every subgraph verifies the JWT again even though the gateway already did: a subgraph reached
directly is no way around the rules (DESIGN section 6).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
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


#: verified tokens a :class:`TokenVerifier` remembers (a front end reuses its token for hours)
CACHE_SIZE = 1024
#: seconds a verified token is remembered at most (and never past its ``exp``)
CACHE_TTL_SECONDS = 60.0


class TokenVerifier:
    """Checks signature (RS256 only), issuer, audience and expiry of a bearer token.

    A token that passed is remembered, keyed by the exact token string, for at most
    ``cache_ttl`` seconds and never past its ``exp``: the same token again within that time gets
    the same principal without PyJWT's base64, JSON and RSA work (~30 % of a small request's
    CPU). The cache holds at most ``cache_size`` tokens (least recently used dropped first);
    refused tokens are never remembered, so a refusal costs a full verification every time.
    ``cache_size=0`` turns it off.
    """

    def __init__(self, public_key_pem: str, issuer: str, audience: str, leeway: int = 5, *,
                 cache_size: int = CACHE_SIZE, cache_ttl: float = CACHE_TTL_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        # parsed once: PyJWT would parse the PEM again on every request (~5 % of a request)
        key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the token verification key must be an RSA public key")
        if cache_size < 0 or cache_ttl < 0:
            raise ValueError("cache_size and cache_ttl must not be negative")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._cache_size = cache_size
        self._cache_ttl = cache_ttl
        self._clock = clock
        #: token -> (principal, the moment it stops being served: min(exp, verified + ttl))
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationError("missing bearer token")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("authorization header must be 'Bearer <token>'")
        if self._cache_size:
            now = self._clock()
            with self._lock:
                hit = self._cache.get(token)
                if hit is not None:
                    if now < hit[1]:
                        self._cache.move_to_end(token)
                        return hit[0]
                    del self._cache[token]  # past exp or the TTL: verified again below
        principal, expires = self._verify(token)
        if self._cache_size:
            now = self._clock()
            until = min(expires, now + self._cache_ttl)
            if now < until:
                with self._lock:
                    self._cache[token] = (principal, until)
                    self._cache.move_to_end(token)
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, int]:
        """The principal of a token PyJWT accepts, and its ``exp``."""
        try:
            claims = jwt.decode(
                token,
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
        principal = Principal(subject=subject, roles=roles,
                              name=name if isinstance(name, str) else None)
        return principal, int(claims["exp"])
