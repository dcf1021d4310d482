"""The attachment store's pure parts: file names made safe; signed URLs bound to use,
attachment, action, requester and expiry; the upload request read; the type policies; the
store's settings."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from crm_common.attachments.content import UploadPolicy, any_type, image_types, pdf_only
from crm_common.attachments.names import ascii_fallback, safe_file_name
from crm_common.attachments.records import read_upload_request
from crm_common.attachments.settings import StoreSettings
from crm_common.attachments.urls import Action, BadSignature, SignedUrls, sign, verify
from crm_common.problems import Problems
from crm_common.settings import Settings, SettingsError
from crm_common.signing import MIN_SECRET_BYTES

SECRET = b"s" * 32
P = "crm-tasks-attachment"


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
    sig = sign(SECRET, P, Action.UPLOAD, a, 2000)
    verify(SECRET, P, Action.UPLOAD, a, "2000", sig, now=1999)
    for args in [(Action.DOWNLOAD, a, "2000", sig), (Action.UPLOAD, b, "2000", sig),
                 (Action.UPLOAD, a, "2001", sig), (Action.UPLOAD, a, "2000", "0" * 64),
                 (Action.UPLOAD, a, None, sig), (Action.UPLOAD, a, "2000", None),
                 (Action.UPLOAD, a, "-1", sig), (Action.UPLOAD, a, "2000", sig[:-1])]:
        with pytest.raises(BadSignature):
            verify(SECRET, P, *args, now=1999)  # type: ignore[arg-type]
    with pytest.raises(BadSignature, match="expired"):
        verify(SECRET, P, Action.UPLOAD, a, "2000", sig, now=2001)
    with pytest.raises(BadSignature):
        verify(b"t" * 32, P, Action.UPLOAD, a, "2000", sig, now=1999)
    # another use's URL never verifies here, nor one made for an employee without them
    with pytest.raises(BadSignature):
        verify(SECRET, "crm-clients-asset-photo", Action.UPLOAD, a, "2000", sig, now=1999)
    with pytest.raises(BadSignature):
        verify(SECRET, P, Action.UPLOAD, a, "2000", sig, now=1999, by=b)


def test_the_signed_message_is_the_one_tasks_signed_before_the_move() -> None:
    """URLs handed out before the store moved to the kit keep working."""
    a = uuid.uuid4()
    expected = hmac.new(SECRET, f"{P}\nupload\n{a}\n2000".encode(), hashlib.sha256)
    assert sign(SECRET, P, Action.UPLOAD, a, 2000) == expected.hexdigest()


def _urls(**changes: object) -> SignedUrls:
    values: dict[str, object] = {"secret": SECRET, "purpose": P,
                                 "base_url": "https://crm.example", "prefix": "/attachments/"}
    values.update(changes)
    return SignedUrls(**values)  # type: ignore[arg-type]


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_signed_urls_name_the_prefix_and_bind_the_requester() -> None:
    urls = _urls()
    a, rep = uuid.uuid4(), uuid.uuid4()
    url, expires = urls.signed_url(Action.DOWNLOAD, a)
    assert url.startswith(f"https://crm.example/attachments/{a}/content?")
    q = _query(url)
    assert urls.verify(Action.DOWNLOAD, a, q["exp"], q["sig"], None, now=0) is None
    assert int(q["exp"]) == int(expires.timestamp())
    url, _ = urls.signed_url(Action.UPLOAD, a, by=rep)
    q = _query(url)
    assert urls.verify(Action.UPLOAD, a, q["exp"], q["sig"], q["by"], now=0) == rep
    for by in (None, str(uuid.uuid4()), "not-a-uuid", "x" * 10_000):
        with pytest.raises(BadSignature):
            urls.verify(Action.UPLOAD, a, q["exp"], q["sig"], by, now=0)


@pytest.mark.parametrize("changes", [{"prefix": "attachments/"}, {"prefix": "/attachments"},
                                     {"prefix": "/"}, {"secret": b"short"}])
def test_a_bad_prefix_or_short_secret_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _urls(**changes)


def _problem(raw: dict[str, object], max_bytes: int = 100) -> tuple[tuple[str, ...], str]:
    with pytest.raises(Problems) as caught:
        read_upload_request(raw, max_bytes=max_bytes, path=("input", "photo"))
    (found,) = caught.value.problems
    return found.field, found.code


@pytest.mark.parametrize(("raw", "field", "code"), [
    ({}, "fileName", "REQUIRED"),
    ({"file_name": "  "}, "fileName", "REQUIRED"),
    ({"file_name": 7}, "fileName", "REQUIRED"),
    ({"file_name": "x" * 5000}, "fileName", "TOO_LONG"),
    ({"file_name": "a.jpg", "content_type": "image"}, "contentType", "INVALID_CONTENT_TYPE"),
    ({"file_name": "a.jpg", "content_type": "image/jpeg\r\nX: y"}, "contentType",
     "INVALID_CONTENT_TYPE"),
    ({"file_name": "a.jpg", "content_type": "a/" + "b" * 500}, "contentType",
     "INVALID_CONTENT_TYPE"),
    ({"file_name": "a.jpg", "size": -1}, "size", "INVALID_VALUE"),
    ({"file_name": "a.jpg", "size": True}, "size", "INVALID_VALUE"),
    ({"file_name": "a.jpg", "size": "12"}, "size", "INVALID_VALUE"),
    ({"file_name": "a.jpg", "size": 101}, "size", "TOO_LARGE"),
    ({"file_name": "a.jpg", "size": 10**30}, "size", "TOO_LARGE"),
])
def test_an_upload_request_names_the_bad_field(raw: dict[str, object], field: str,
                                               code: str) -> None:
    assert _problem(raw) == (("input", "photo", field), code)


def test_an_upload_request_is_read_and_made_safe() -> None:
    got = read_upload_request({"file_name": "../../Снимка 1.JPG", "content_type": "Image/JPEG",
                               "size": 100}, max_bytes=100)
    assert (got.file_name, got.declared_type, got.size) == ("Снимка 1.JPG", "image/jpeg", 100)


def test_type_policies() -> None:
    assert any_type(None) and any_type("application/x-msdownload")
    assert image_types("image/jpeg") and image_types("image/heic")
    assert not image_types(None) and not image_types("application/pdf")
    assert pdf_only("application/pdf") and not pdf_only("image/png") and not pdf_only(None)
    with pytest.raises(ValueError):
        UploadPolicy(0)


def _base(env: str) -> Settings:
    return Settings.from_env("clients", 8101, environ={"CRM_ENV": env, "JWT_PUBLIC_KEY": "k"})


def test_store_settings_defaults_follow_the_service() -> None:
    cfg = StoreSettings.from_env(_base("test"), {"ATTACHMENT_URL_SECRET": "k" * 32})
    assert cfg.mongodb_database == "crm_clients"
    assert cfg.public_base_url == "http://127.0.0.1:8101"
    assert cfg.max_bytes == 50 * 1024 * 1024 and cfg.url_secret == b"k" * 32
    urls = cfg.urls("crm-clients-asset-photo", "/inventory/photos/")
    assert urls.prefix == "/inventory/photos/" and urls.upload_ttl == cfg.upload_url_ttl


def test_store_settings_secret_rules() -> None:
    with pytest.raises(SettingsError, match="ATTACHMENT_URL_SECRET is required"):
        StoreSettings.from_env(_base("production"), {})
    with pytest.raises(SettingsError, match="at least"):
        StoreSettings.from_env(_base("test"), {"ATTACHMENT_URL_SECRET": "short"})
    one, two = (StoreSettings.from_env(_base("development"), {}) for _ in range(2))
    assert one.url_secret != two.url_secret and len(one.url_secret) >= MIN_SECRET_BYTES


@pytest.mark.parametrize(("name", "value"), [
    ("ATTACHMENT_MAX_BYTES", "50MB"), ("ATTACHMENT_MAX_BYTES", "0"),
    ("UPLOAD_URL_TTL_SECONDS", "0"), ("DOWNLOAD_URL_TTL_SECONDS", "soon"),
    ("SWEEPER_INTERVAL_SECONDS", "x"), ("STALE_UPLOAD_SECONDS", "nan"),
    ("PUBLIC_BASE_URL", "crm.example.com"),
])
def test_a_bad_store_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        StoreSettings.from_env(_base("test"), {name: value})
