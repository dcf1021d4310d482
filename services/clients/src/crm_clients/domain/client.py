"""The client aggregate's rules: what a valid client, address and contact person is.

Pure functions over plain values: no I/O, no SQLAlchemy, no GraphQL. The service layer feeds them
the raw input and gets back either normalised values or a list of problems naming each field.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_common.identifiers import (
    normalize_bic,
    normalize_country,
    normalize_currency,
    normalize_eik,
    normalize_email,
    normalize_iban,
    normalize_phone,
    normalize_postal_code,
    normalize_url,
    normalize_vat,
)
from crm_common.parsing import parse_uuid
from crm_common.problems import FieldProblem, problem
from crm_common.text import InvalidValue, clean_text
from crm_common.validation import Collector


class ClientKind(enum.Enum):
    COMPANY = "company"
    INDIVIDUAL = "individual"


class ClientStatus(enum.Enum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"


class AddressKind(enum.Enum):
    REGISTERED = "registered"
    CORRESPONDENCE = "correspondence"
    DELIVERY = "delivery"
    BILLING = "billing"
    OFFICE = "office"


class DocumentKind(enum.Enum):
    """The documents a client may want its own description on."""

    INVOICE = "invoice"
    OFFER = "offer"
    DELIVERY_NOTE = "delivery_note"
    ORDER_CONFIRMATION = "order_confirmation"
    OTHER = "other"


# Limits on free text and lists; documented in docs/clients.md.
MAX_NAME = 300
MAX_SHORT = 200
MAX_NOTES = 10_000
MAX_TAG = 50
MAX_TAGS = 50
MAX_PHONES = 20
MAX_EMAILS = 20
MAX_ADDRESSES_ON_CREATE = 50
MAX_CONTACTS_ON_CREATE = 200
MAX_BANK_ACCOUNTS_ON_CREATE = 20
MAX_DOCUMENT_DESCRIPTION = 2_000
MAX_PAYMENT_TERM_DAYS = 365
MAX_CREDIT_LIMIT = Decimal("999999999999.99")


def _text(c: Collector, key: str, out: dict[str, Any], *, max_length: int,
          required: bool = False, multiline: bool = False) -> None:
    """``out[key]``: the cleaned text, when the input has the key."""
    if key in c.data:
        out[key] = c.text(key, max_length=max_length, required=required, multiline=multiline)


def _list(c: Collector, key: str, out: dict[str, Any], *, limit: int,
          item: Callable[[str], str]) -> None:
    """``out[key]``: the distinct normalised items, when the input has the key."""
    if key not in c.data:
        return
    values = c.data[key]
    if values is None:
        out[key] = []
        return
    if not isinstance(values, list):
        c.add(key, "INVALID_TYPE", f"{key} must be a list")
        return
    if len(values) > limit:
        c.add(key, "TOO_MANY", f"at most {limit} {key} are allowed")
        return
    result: list[str] = []
    for i, raw in enumerate(values):
        if not isinstance(raw, str):
            c.add((key, str(i)), "INVALID_TYPE", "must be text")
            continue
        value = c.run((key, str(i)), item, raw)
        if value is not None and value not in result:
            result.append(value)
    out[key] = result


def _tag(raw: str) -> str:
    value = clean_text(raw, max_length=MAX_TAG, required=True)
    assert value is not None
    return value.lower()


def _enum(c: Collector, key: str, out: dict[str, Any], enum_cls: type[enum.Enum], *,
          required: bool = False) -> None:
    """``out[key]``: the enum's value, when the input has one."""
    value = c.choice(key, enum_cls, required=required)
    if value is not None:
        out[key] = value.value


def validate_client(data: Mapping[str, Any], *, creating: bool,
                    prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """Normalise client fields. On create, missing required fields are problems; on update only
    the keys present are checked (absent = unchanged, None = cleared). Raises ``Problems``."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    if creating:
        _enum(c, "kind", out, ClientKind, required=True)
    _text(c, "legal_name", out, max_length=MAX_NAME,
          required=creating or "legal_name" in data)
    _text(c, "trade_name", out, max_length=MAX_NAME)
    if "eik" in data and data["eik"] not in (None, ""):
        out["eik"] = c.run("eik", lambda: normalize_eik(data["eik"]))
    elif "eik" in data:
        out["eik"] = None
    if "vat_number" in data and data["vat_number"] not in (None, ""):
        out["vat_number"] = c.run("vat_number", lambda: normalize_vat(data["vat_number"]))
    elif "vat_number" in data:
        out["vat_number"] = None
    if "status" in data:
        _enum(c, "status", out, ClientStatus, required=True)
        if out.get("status") == ClientStatus.ARCHIVED.value:
            c.add("status", "INVALID_VALUE", "use archiveClient to archive a client")
    elif creating:
        out["status"] = ClientStatus.PROSPECT.value
    _list(c, "phones", out, limit=MAX_PHONES, item=normalize_phone)
    _list(c, "emails", out, limit=MAX_EMAILS, item=normalize_email)
    if "website" in data and data["website"] not in (None, ""):
        out["website"] = c.run("website", lambda: normalize_url(data["website"]))
    elif "website" in data:
        out["website"] = None
    _text(c, "notes", out, max_length=MAX_NOTES, multiline=True)
    _list(c, "tags", out, limit=MAX_TAGS, item=_tag)
    if c.has("owner_id"):
        out["owner_id"] = c.run("owner_id", parse_uuid, data["owner_id"], what="employee id")
    _terms(c, data, out)
    if not c.failed("eik"):  # a bad EIK is reported already
        c.extend(client_rule_problems(out, prefix))
    c.done()
    return out


def _terms(c: Collector, data: Mapping[str, Any], out: dict[str, Any]) -> None:
    """Commercial terms: payment term, currency, credit limit, group, document descriptions."""
    if "group_id" in data:
        out["group_id"] = None if data["group_id"] is None else \
            c.run("group_id", parse_uuid, data["group_id"], what="client group id")
    if "payment_term_days" in data:
        days = data["payment_term_days"]
        if days is None:
            out["payment_term_days"] = None
        elif not isinstance(days, int) or isinstance(days, bool):
            c.add("payment_term_days", "INVALID_TYPE", "payment_term_days must be a whole number")
        elif not 0 <= days <= MAX_PAYMENT_TERM_DAYS:
            c.add("payment_term_days", "OUT_OF_RANGE",
                  f"payment_term_days must be between 0 and {MAX_PAYMENT_TERM_DAYS}")
        else:
            out["payment_term_days"] = days
    if "currency" in data:
        raw_currency = data["currency"] or "EUR"
        out["currency"] = c.run("currency", lambda: normalize_currency(raw_currency))
    if "credit_limit" in data:
        out["credit_limit"] = c.run("credit_limit", lambda: money(data["credit_limit"]))
    if "document_descriptions" in data:
        out["document_descriptions"] = _document_descriptions(c, data["document_descriptions"])


def money(raw: Any, *, maximum: Decimal = MAX_CREDIT_LIMIT) -> Decimal | None:
    """A non-negative amount with at most two decimals (``None`` stays ``None``)."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InvalidValue("INVALID_TYPE", "must be an amount")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidValue("INVALID_VALUE", "must be an amount such as 12500.00") from None
    if not value.is_finite():
        raise InvalidValue("INVALID_VALUE", "must be a finite amount")
    if value < 0:
        raise InvalidValue("OUT_OF_RANGE", "must not be negative")
    if value > maximum:
        raise InvalidValue("OUT_OF_RANGE", f"must not exceed {maximum}")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidValue("INVALID_VALUE", "at most two decimal places")
    return value.quantize(Decimal("0.01"))


def _document_descriptions(c: Collector, raw: Any) -> dict[str, str] | None:
    """A list of {kind, text}, one per document kind → {kind: text} (null clears all)."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        c.add("document_descriptions", "INVALID_TYPE", "document_descriptions must be a list")
        return None
    result: dict[str, str] = {}
    for i, item in enumerate(raw):
        path = ("document_descriptions", str(i))
        if not isinstance(item, Mapping):
            c.add(path, "INVALID_TYPE", "each entry is {kind, text}")
            continue
        kind = item.get("kind")
        if isinstance(kind, DocumentKind):
            kind = kind.value
        try:
            kind = DocumentKind(str(kind).lower()).value
        except ValueError:
            allowed = ", ".join(k.value for k in DocumentKind)
            c.add(path + ("kind",), "INVALID_VALUE", f"kind must be one of: {allowed}")
            continue
        if kind in result:
            c.add(path + ("kind",), "DUPLICATE", "one description per document kind")
            continue
        text_raw = item.get("text")
        if not isinstance(text_raw, str):
            c.add(path + ("text",), "REQUIRED", "text is required")
            continue
        text = c.run(path + ("text",), clean_text, text_raw, max_length=MAX_DOCUMENT_DESCRIPTION,
                     required=True, multiline=True)
        if text is not None:
            result[kind] = text
    return result


def client_rule_problems(values: Mapping[str, Any],
                         prefix: tuple[str, ...] = ("input",)) -> list[FieldProblem]:
    """Rules across a client's fields, over normalised values: those of a new client, or a
    stored client merged with a change (a rule whose fields are absent does not apply)."""
    problems = []
    if values.get("kind") == ClientKind.COMPANY.value and values.get("eik") is None and \
            values.get("status") not in (None, ClientStatus.PROSPECT.value):
        problems.append(FieldProblem(prefix + ("eik",), "REQUIRED",
                                     "a company that is not a prospect needs its EIK/BULSTAT"))
    vat, eik = values.get("vat_number"), values.get("eik")
    if vat and eik and vat.startswith("BG") and vat[2:] not in (eik, eik[:9]):
        problems.append(FieldProblem(prefix + ("vat_number",), "VAT_EIK_MISMATCH",
                                     "a Bulgarian VAT number is BG followed by the EIK"))
    return problems


def validate_address(data: Mapping[str, Any], *, creating: bool,
                     prefix: tuple[str, ...]) -> dict[str, Any]:
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    if creating or "kind" in data:
        _enum(c, "kind", out, AddressKind, required=True)
    if creating or "country" in data:
        raw_country = data.get("country") or "BG"
        out["country"] = c.run("country", lambda: normalize_country(raw_country))
    _text(c, "city", out, max_length=MAX_SHORT, required=creating or "city" in data)
    _text(c, "street", out, max_length=MAX_NAME, required=creating or "street" in data)
    if "postal_code" in data and data["postal_code"] not in (None, ""):
        country = out.get("country") or data.get("country") or "BG"
        out["postal_code"] = c.run(
            "postal_code", lambda: normalize_postal_code(data["postal_code"], country)
        )
    elif "postal_code" in data:
        out["postal_code"] = None
    if "is_default" in data:
        out["is_default"] = bool(data["is_default"])
    elif creating:
        out["is_default"] = False
    c.done()
    return out


def validate_contact(data: Mapping[str, Any], *, creating: bool,
                     prefix: tuple[str, ...]) -> dict[str, Any]:
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    _text(c, "name", out, max_length=MAX_SHORT, required=creating or "name" in data)
    _text(c, "position", out, max_length=MAX_SHORT)
    _list(c, "phones", out, limit=MAX_PHONES, item=normalize_phone)
    _list(c, "emails", out, limit=MAX_EMAILS, item=normalize_email)
    _text(c, "notes", out, max_length=MAX_NOTES, multiline=True)
    if "is_primary" in data:
        out["is_primary"] = bool(data["is_primary"])
    elif creating:
        out["is_primary"] = False
    c.done()
    return out


def validate_bank_account(data: Mapping[str, Any], *, creating: bool,
                          prefix: tuple[str, ...]) -> dict[str, Any]:
    """IBAN checked by MOD-97 (spaces and lower case accepted, stored compact upper case)."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    if creating or "iban" in data:
        raw = data.get("iban")
        if not isinstance(raw, str) or not raw.strip():
            c.add("iban", "REQUIRED", "iban is required")
        else:
            out["iban"] = c.run("iban", lambda: normalize_iban(raw))
    if "bic" in data and data["bic"] not in (None, ""):
        out["bic"] = c.run("bic", lambda: normalize_bic(data["bic"]))
    elif "bic" in data:
        out["bic"] = None
    _text(c, "bank_name", out, max_length=MAX_SHORT)
    if creating or "currency" in data:
        raw_currency = data.get("currency") or "EUR"
        out["currency"] = c.run("currency", lambda: normalize_currency(raw_currency))
    if "is_default" in data:
        out["is_default"] = bool(data["is_default"])
    elif creating:
        out["is_default"] = False
    c.done()
    return out


def validate_children(items: list[Mapping[str, Any]] | None, *, key: str, limit: int,
                      validator: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate the addresses or contact persons given with a new client, all problems at once."""
    if not items:
        return []
    if len(items) > limit:
        raise problem(("input", key), "TOO_MANY", f"at most {limit} {key} at once")
    c = Collector()
    rows: list[tuple[int, dict[str, Any]]] = []  # (position in the input, normalised values)
    for i, item in enumerate(items):
        row = c.merge(validator, item, creating=True, prefix=("input", key, str(i)))
        if row is not None:
            rows.append((i, row))
    flag = "is_primary" if key == "contact_persons" else "is_default"
    scope = {"addresses": "kind", "bank_accounts": "currency"}.get(key)
    if scope is not None:
        seen: set[str] = set()
        for i, row in rows:
            if row.get(flag):
                if row[scope] in seen:
                    c.add((key, str(i), flag), "DUPLICATE_DEFAULT", f"only one default per {scope}")
                seen.add(row[scope])
        if key == "bank_accounts":
            ibans: list[str] = []
            for i, row in rows:
                if row["iban"] in ibans:
                    c.add((key, str(i), "iban"), "DUPLICATE", "this IBAN is listed twice")
                ibans.append(row["iban"])
    elif sum(1 for _, row in rows if row.get(flag)) > 1:
        c.add(key, "DUPLICATE_PRIMARY", "only one contact person can be primary")
    c.done()
    return [row for _, row in rows]
