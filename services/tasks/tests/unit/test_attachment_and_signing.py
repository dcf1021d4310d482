"""File names made safe; signed URLs bound to attachment, action and expiry."""

from __future__ import annotations

import uuid

import pytest

from crm_tasks.domain.attachment import ascii_fallback, safe_file_name
from crm_tasks.domain.signing import Action, BadSignature, sign, verify

SECRET = b"s" * 32


@pytest.mark.parametrize("raw,expected", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\оферта.pdf", "оферта.pdf"),
    ("a\x00b\r\nc.txt", "a_b__c.txt"),
    ('"; rm -rf /; echo ".sh', "_ echo _.sh"),
    ("", "file"),
    ("...", "file"),
    ("/", "file"),
    ("evil\u202egnp.exe", "evil_gnp.exe"),
])
def test_safe_file_names(raw: str, expected: str) -> None:
    assert safe_file_name(raw) == expected


def test_a_huge_name_is_cut_keeping_its_extension() -> None:
    name = safe_file_name("я" * 2000 + ".docx")
    assert len(name) == 255 and name.endswith(".docx")
    assert len(safe_file_name("x" * 100_000)) == 255


def test_ascii_fallback_is_header_safe() -> None:
    assert ascii_fallback('Оферта "2026";.pdf') == "_2026__.pdf"
    assert ascii_fallback("Ябълка") == "file"
    assert all(c.isascii() and c not in '";\r\n' for c in ascii_fallback('é"\r\n;ü.txt'))


def test_signature_binds_id_action_and_expiry() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    sig = sign(SECRET, Action.UPLOAD, a, 2000)
    verify(SECRET, Action.UPLOAD, a, "2000", sig, now=1999)
    for args in [(Action.DOWNLOAD, a, "2000", sig), (Action.UPLOAD, b, "2000", sig),
                 (Action.UPLOAD, a, "2001", sig), (Action.UPLOAD, a, "2000", "0" * 64),
                 (Action.UPLOAD, a, None, sig), (Action.UPLOAD, a, "2000", None),
                 (Action.UPLOAD, a, "-1", sig), (Action.UPLOAD, a, "2000", sig[:-1])]:
        with pytest.raises(BadSignature):
            verify(SECRET, *args, now=1999)  # type: ignore[arg-type]
    with pytest.raises(BadSignature, match="expired"):
        verify(SECRET, Action.UPLOAD, a, "2000", sig, now=2001)
    with pytest.raises(BadSignature):
        verify(b"t" * 32, Action.UPLOAD, a, "2000", sig, now=1999)
