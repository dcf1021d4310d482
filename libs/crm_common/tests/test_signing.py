"""Signed URLs (``crm_common.signing``): bound to purpose, subject and expiry."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from crm_common.settings import EnvReader, SettingsError
from crm_common.signing import (
    MIN_SECRET_BYTES,
    BadSignature,
    secret_from_env,
    sign,
    signed_params,
    verify,
)

SECRET = b"k" * 32


def test_a_signature_verifies_until_it_expires() -> None:
    sig = sign(SECRET, "crm-pricing-export", "abc", 2000)
    verify(SECRET, "crm-pricing-export", "abc", "2000", sig, now=2000)
    verify(SECRET, "crm-pricing-export", "abc", "2000", sig.upper(), now=1)
    with pytest.raises(BadSignature, match="expired"):
        verify(SECRET, "crm-pricing-export", "abc", "2000", sig, now=2000.5)


@pytest.mark.parametrize(("purpose", "subject", "expires", "secret"), [
    ("crm-tasks-attachment", "abc", "2000", SECRET),   # another purpose
    ("crm-pricing-export", "abd", "2000", SECRET),     # another subject
    ("crm-pricing-export", "abc", "2001", SECRET),     # another expiry
    ("crm-pricing-export", "abc", "2000", b"x" * 32),  # another key
])
def test_a_signature_is_bound_to_everything_it_signs(purpose: str, subject: str, expires: str,
                                                     secret: bytes) -> None:
    sig = sign(SECRET, "crm-pricing-export", "abc", 2000)
    with pytest.raises(BadSignature, match="bad signature"):
        verify(secret, purpose, subject, expires, sig, now=0)


@pytest.mark.parametrize(("expires", "sig", "reason"), [
    (None, "0" * 64, "missing"), ("2000", None, "missing"), ("", "0" * 64, "missing"),
    ("-1", "0" * 64, "malformed"), ("1e3", "0" * 64, "malformed"),
    ("1" * 13, "0" * 64, "malformed"), ("２０００", "0" * 64, "malformed"),
    ("2000", "0" * 63, "malformed"), ("2000", "0" * 65, "malformed"),
    ("2000", "z" * 64, "bad signature"),
])
def test_malformed_values_are_refused(expires: str | None, sig: str | None,
                                      reason: str) -> None:
    with pytest.raises(BadSignature, match=reason):
        verify(SECRET, "p", "s", expires, sig, now=0)


def test_the_subject_may_hold_newlines_but_the_purpose_may_not() -> None:
    sig = sign(SECRET, "p", "x\ny", 5)
    verify(SECRET, "p", "x\ny", "5", sig, now=0)
    with pytest.raises(ValueError):
        sign(SECRET, "p\nx", "y", 5)
    with pytest.raises(ValueError):
        sign(SECRET, "", "y", 5)


def test_the_message_is_the_one_the_tasks_service_signed_before() -> None:
    """URLs handed out before the move keep working: the same bytes are signed."""
    attachment = uuid.uuid4()
    old = hmac.new(SECRET, f"crm-tasks-attachment\nupload\n{attachment}\n99".encode(),
                   hashlib.sha256).hexdigest()
    assert sign(SECRET, "crm-tasks-attachment", f"upload\n{attachment}", 99) == old


def test_signed_params() -> None:
    params = signed_params(SECRET, "p", "s", 42)
    assert params == {"expires": "42", "sig": sign(SECRET, "p", "s", 42)}


def test_secret_from_env_is_the_variable_when_long_enough() -> None:
    value = "k" * MIN_SECRET_BYTES
    assert secret_from_env(EnvReader({"X_SECRET": f"  {value} "}), "X_SECRET",
                           production=True) == value.encode()


def test_secret_from_env_refuses_a_short_one_and_a_missing_one_in_production() -> None:
    with pytest.raises(SettingsError, match="X_SECRET must be at least 32 bytes"):
        secret_from_env(EnvReader({"X_SECRET": "short"}), "X_SECRET", production=False)
    with pytest.raises(SettingsError, match="X_SECRET is required in production"):
        secret_from_env(EnvReader({"X_SECRET": "  "}), "X_SECRET", production=True)


def test_secret_from_env_outside_production_is_random_per_call() -> None:
    first = secret_from_env(EnvReader({}), "X_SECRET", production=False)
    second = secret_from_env(EnvReader({}), "X_SECRET", production=False)
    assert len(first) == MIN_SECRET_BYTES and first != second
