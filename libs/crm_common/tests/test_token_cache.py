"""The verifier's cache of verified tokens (``crm_common.auth.TokenVerifier``): a token is
served from it only while it is valid — never past its ``exp``, never after the TTL, never for
another token string — and the cache stays within its size. Each test counts the full
verifications (PyJWT's ``decode``) to tell a cache hit from a miss."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest

from crm_common.auth import AuthenticationError, TokenVerifier
from crm_common.devkeys import generate_key_pair, mint_token

PRIVATE, PUBLIC = generate_key_pair()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens PyJWT was asked to verify, in order."""
    seen: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return seen


def bearer(token: str) -> str:
    return "Bearer " + token


def exp_of(token: str) -> int:
    claims = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["exp"])


def test_the_same_token_again_is_served_from_the_cache(decodes: list[str]) -> None:
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm")
    sub = uuid.uuid4()
    token = mint_token(PRIVATE, subject=sub, roles=["manager"], name="Ана")
    first = verifier.verify(bearer(token))
    again = verifier.verify(bearer(token) + "  ")
    assert first == again and again.subject == sub and again.roles == {"manager"}
    assert len(decodes) == 1


def test_a_cached_token_is_refused_once_it_expires(decodes: list[str]) -> None:
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm", leeway=0, cache_ttl=3600)
    token = mint_token(PRIVATE, subject=uuid.uuid4(), roles=["admin"], ttl_seconds=2)
    exp = exp_of(token)
    verifier.verify(bearer(token))
    verifier.verify(bearer(token))
    assert len(decodes) == 1  # cached
    while time.time() <= exp + 0.05:
        time.sleep(0.05)
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(bearer(token))
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(bearer(token))


def test_the_cache_never_serves_past_exp_by_its_own_clock(decodes: list[str]) -> None:
    clock = Clock()
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm", cache_ttl=3600, clock=clock)
    token = mint_token(PRIVATE, subject=uuid.uuid4(), roles=["admin"], ttl_seconds=600)
    exp = exp_of(token)
    verifier.verify(bearer(token))
    clock.now = exp - 1
    verifier.verify(bearer(token))
    assert len(decodes) == 1
    clock.now = exp  # from exp on, the token goes to PyJWT again
    verifier.verify(bearer(token))
    assert len(decodes) == 2


def test_a_token_accepted_only_by_the_leeway_is_not_cached(decodes: list[str]) -> None:
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm", leeway=30)
    token = mint_token(PRIVATE, subject=uuid.uuid4(), roles=["admin"], ttl_seconds=3600,
                       now=time.time() - 3610)  # expired 10 s ago, within the leeway
    verifier.verify(bearer(token))
    verifier.verify(bearer(token))
    assert len(decodes) == 2


def test_the_cache_forgets_a_token_after_its_ttl(decodes: list[str]) -> None:
    clock = Clock()
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm", cache_ttl=60, clock=clock)
    token = mint_token(PRIVATE, subject=uuid.uuid4(), roles=["sales_rep"])
    verifier.verify(bearer(token))
    clock.now += 59
    verifier.verify(bearer(token))
    assert len(decodes) == 1
    clock.now += 2
    verifier.verify(bearer(token))
    assert len(decodes) == 2


def test_tokens_are_not_confused(decodes: list[str]) -> None:
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm")
    rep, manager = uuid.uuid4(), uuid.uuid4()
    rep_token = mint_token(PRIVATE, subject=rep, roles=["sales_rep"])
    manager_token = mint_token(PRIVATE, subject=manager, roles=["manager"])
    for _ in range(2):
        assert verifier.verify(bearer(rep_token)).roles == {"sales_rep"}
        assert verifier.verify(bearer(rep_token)).subject == rep
        assert verifier.verify(bearer(manager_token)).roles == {"manager"}
        assert verifier.verify(bearer(manager_token)).subject == manager
    assert len(decodes) == 2
    # the cached token's header and claims with another signature: refused
    head, claims, signature = manager_token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = mint_token(generate_key_pair()[0], subject=manager, roles=["manager"])
    for bad in (f"{head}.{claims}.{flipped}", f"{head}.{claims}.{forged.split('.')[2]}",
                f"{head}.{claims}.", f"{head}.{claims}"):
        with pytest.raises(AuthenticationError):
            verifier.verify(bearer(bad))


def test_refused_tokens_are_not_cached(decodes: list[str]) -> None:
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm")
    foreign = mint_token(generate_key_pair()[0], subject=uuid.uuid4(), roles=["admin"])
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            verifier.verify(bearer(foreign))
    assert len(decodes) == 2


def test_the_cache_is_bounded(decodes: list[str]) -> None:
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm", cache_size=3)
    tokens = [mint_token(PRIVATE, subject=uuid.uuid4(), roles=["manager"]) for _ in range(5)]
    for token in tokens:
        verifier.verify(bearer(token))
    assert len(decodes) == 5
    for token in tokens[2:]:  # the last three are kept
        verifier.verify(bearer(token))
    assert len(decodes) == 5
    verifier.verify(bearer(tokens[0]))  # the first was dropped: verified again
    assert len(decodes) == 6
    verifier.verify(bearer(tokens[2]))  # ... which dropped the least recently used (tokens[2])
    assert len(decodes) == 7
    assert len(verifier._cache) == 3


def test_a_zero_size_cache_verifies_every_time(decodes: list[str]) -> None:
    verifier = TokenVerifier(PUBLIC, "crm-dev", "crm", cache_size=0)
    token = mint_token(PRIVATE, subject=uuid.uuid4(), roles=["manager"])
    verifier.verify(bearer(token))
    verifier.verify(bearer(token))
    assert len(decodes) == 2
