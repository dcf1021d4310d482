"""The contract aggregate's rules: valid values, the status transitions, who may do what, and the
calendar arithmetic of renewal and expiry.

Pure functions over plain values: no I/O, no SQLAlchemy, no GraphQL. Field names are the
snake_case input keys; problems name them under ``prefix`` (``("input", "valid_until")``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import uuid
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_clients.domain import access
from crm_clients.domain.access import Decision
from crm_common.auth import Principal
from crm_common.identifiers import normalize_currency
from crm_common.parsing import parse_uuid
from crm_common.problems import FieldProblem, problem
from crm_common.text import InvalidValue, clean_text
from crm_common.validation import Collector


class ContractKind(enum.Enum):
    SALES = "sales"
    DISTRIBUTION = "distribution"
    SERVICE = "service"
    FRAMEWORK = "framework"
    OTHER = "other"


class ContractStatus(enum.Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class Action(enum.Enum):
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    TERMINATE = "terminate"
    EXPIRE = "expire"  # the daily job only


S = ContractStatus
#: (from, action) → to. Anything not listed is refused (INVALID_TRANSITION). Expired and
#: terminated are final: a contract continues through auto-renewal before its end, or a new one.
TRANSITIONS: dict[tuple[ContractStatus, Action], ContractStatus] = {
    (S.DRAFT, Action.ACTIVATE): S.ACTIVE,
    (S.DRAFT, Action.TERMINATE): S.TERMINATED,
    (S.ACTIVE, Action.SUSPEND): S.SUSPENDED,
    (S.ACTIVE, Action.TERMINATE): S.TERMINATED,
    (S.ACTIVE, Action.EXPIRE): S.EXPIRED,
    (S.SUSPENDED, Action.ACTIVATE): S.ACTIVE,
    (S.SUSPENDED, Action.TERMINATE): S.TERMINATED,
    (S.SUSPENDED, Action.EXPIRE): S.EXPIRED,
}
#: statuses whose terms can still change
OPEN = frozenset({S.DRAFT, S.ACTIVE, S.SUSPENDED})

# Limits, documented in docs/clients.md ("Contracts").
MAX_NUMBER = 50
MAX_TITLE = 300
MAX_TERMS = 10_000
MAX_SIGNATORY = 200
MAX_REASON = 2_000
MAX_CODE = 64
MAX_DISCOUNTS = 200
MAX_PAYMENT_TERM_DAYS = 365
MAX_NOTICE_DAYS = 365
MAX_RENEWAL_MONTHS = 120
DEFAULT_RENEWAL_MONTHS = 12
DEFAULT_NOTICE_DAYS = 30
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)  # far enough; keeps renewal arithmetic away from year 9999
HUNDRED = Decimal(100)

try:
    BUSINESS_TZ: dt.tzinfo = zoneinfo.ZoneInfo("Europe/Sofia")
except zoneinfo.ZoneInfoNotFoundError:  # pragma: no cover - an image without time-zone data
    BUSINESS_TZ = dt.UTC


def business_today(now: dt.datetime | None = None) -> dt.date:
    """Contract dates are Bulgarian calendar dates: "today" is today in Sofia."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(BUSINESS_TZ).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def renewed_until(valid_until: dt.date, term_months: int, today: dt.date) -> dt.date:
    """The end after renewing by whole terms until the contract covers ``today`` again
    (a job that did not run for a while catches up in one step). Counted from the original end,
    so that 31 Jan renews to 28 Feb and then 31 Mar, not 28 Mar."""
    terms = 1
    while (end := add_months(valid_until, terms * term_months)) < today:
        terms += 1
    return end


def notice_deadline(valid_until: dt.date, notice_days: int) -> dt.date:
    """The last day on which auto-renewal can still be cancelled."""
    return valid_until - dt.timedelta(days=notice_days)


# --- who may do what -------------------------------------------------------------------------

def decide(principal: Principal, owner_id: uuid.UUID | None, *, visible: bool,
           action: str, status: ContractStatus | None = None) -> Decision:
    """Managers and admins may do everything. A sales rep may create contracts for clients they
    own and change those clients' contracts while they are drafts; activating, suspending and
    terminating, and changing a contract that is in force, are for managers. A contract of a
    client the principal may not see is not found."""
    if not visible:
        return Decision.NOT_FOUND
    if principal.sees_all_clients:
        return Decision.ALLOW
    owns = access.can_edit(principal, owner_id) is Decision.ALLOW
    if action == "create" and owns:
        return Decision.ALLOW
    if action == "update" and owns and status is ContractStatus.DRAFT:
        return Decision.ALLOW
    return Decision.FORBIDDEN


def transition(status: ContractStatus, action: Action) -> ContractStatus | None:
    return TRANSITIONS.get((status, action))


# --- validation --------------------------------------------------------------------------------

def _text(p: Collector, data: Mapping[str, Any], key: str, out: dict[str, Any], *,
          max_length: int, required: bool = False, multiline: bool = False) -> None:
    if key not in data:
        if required:
            p.add(key, "REQUIRED", f"{key} is required")
        return
    value = data[key]
    if value is not None and not isinstance(value, str):
        p.add(key, "INVALID_TYPE", f"{key} must be text")
        return
    out[key] = p.run(key, clean_text, value, max_length=max_length, required=required,
                     multiline=multiline)


def _date(p: Collector, data: Mapping[str, Any], key: str, out: dict[str, Any], *,
          required: bool = False, path: tuple[str, ...] | None = None) -> None:
    where = path or (key,)
    if key not in data or data[key] is None:
        if required:
            p.add(where, "REQUIRED", f"{key} is required")
        elif key in data:
            out[key] = None
        return
    value = data[key]
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        p.add(where, "INVALID_TYPE", f"{key} must be a date (YYYY-MM-DD)")
        return
    if not EARLIEST <= value <= LATEST:
        p.add(where, "INVALID_VALUE",
              f"{key} must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
        return
    out[key] = value


def _int(p: Collector, data: Mapping[str, Any], key: str, out: dict[str, Any], *,
         low: int, high: int, nullable: bool, default: int | None = None,
         creating: bool = False) -> None:
    if key not in data or (data[key] is None and not nullable):
        if key in data or creating:
            out[key] = default
        return
    value = data[key]
    if value is None:
        out[key] = None
        return
    if not isinstance(value, int) or isinstance(value, bool):
        p.add(key, "INVALID_TYPE", f"{key} must be a whole number")
        return
    if not low <= value <= high:
        p.add(key, "INVALID_VALUE", f"{key} must be between {low} and {high}")
        return
    out[key] = value


def _percent(value: Any) -> Decimal:
    """A discount percentage: 0 < p ≤ 100 with at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise InvalidValue("INVALID_TYPE", "percent must be a number")
    if isinstance(value, str) and len(value) > 32:
        raise InvalidValue("INVALID_VALUE", "percent must be a number between 0 and 100")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidValue("INVALID_VALUE", "percent must be a number between 0 and 100") from None
    if not number.is_finite() or not Decimal(0) < number <= HUNDRED:
        raise InvalidValue("INVALID_VALUE",
                           "percent must be more than 0 and at most 100")
    if number != number.quantize(Decimal("0.01")):
        raise InvalidValue("INVALID_VALUE", "percent has at most two decimals (12.5 or 12.75)")
    return number.quantize(Decimal("0.01"))


def _code(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue("INVALID_TYPE", "a product or product-group code must be text")
    code = clean_text(value, max_length=MAX_CODE)
    return code.upper() if code else None


def validate_discount(data: Mapping[str, Any], prefix: tuple[str, ...]) -> dict[str, Any]:
    """One negotiated discount: a product group XOR a product, a percentage, optional validity."""
    p = Collector(prefix=prefix)
    out: dict[str, Any] = {}
    for key in ("product_group_code", "product_code"):
        out[key] = p.run(key, _code, data.get(key))
    if not p.problems and (out["product_group_code"] is None) == (out["product_code"] is None):
        p.add("product_code", "INVALID_VALUE",
              "a discount names either a product-group code or a product code (one of them)")
    if data.get("percent") is None:
        p.add("percent", "REQUIRED", "percent is required")
    else:
        out["percent"] = p.run("percent", _percent, data["percent"])
    _date(p, {"valid_from": data.get("valid_from")}, "valid_from", out)
    _date(p, {"valid_until": data.get("valid_until")}, "valid_until", out)
    start, end = out.get("valid_from"), out.get("valid_until")
    if start and end and end < start:
        p.add("valid_until", "INVALID_DATE_RANGE", "a discount cannot end before it starts")
    p.done()
    return out


def validate_discounts(items: Any, prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    """The whole list (it replaces the stored one). The same product or group twice with
    overlapping validity is a DUPLICATE: the price would be ambiguous."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise problem(prefix, "INVALID_TYPE", "discounts must be a list")
    if len(items) > MAX_DISCOUNTS:
        raise problem(prefix, "TOO_MANY", f"at most {MAX_DISCOUNTS} discounts per contract")
    c = Collector(prefix=prefix)
    result: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            c.add(str(i), "INVALID_TYPE", "a discount must be an object")
            continue
        result.append(c.merge(validate_discount, item, prefix + (str(i),)) or {})
    for i, d in enumerate(result):
        for j in range(i):
            other = result[j]
            if d and other and _target(d) == _target(other) and _overlap(d, other):
                key = "product_code" if d["product_code"] else "product_group_code"
                c.add((str(i), key), "DUPLICATE", f"discount {j + 1} already covers this "
                                                  "product or group for an overlapping period")
                break
    c.done()
    return result


def _target(d: Mapping[str, Any]) -> tuple[str | None, str | None]:
    return d["product_group_code"], d["product_code"]


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    a_from, b_from = a["valid_from"] or EARLIEST, b["valid_from"] or EARLIEST
    a_until, b_until = a["valid_until"] or LATEST, b["valid_until"] or LATEST
    return bool(a_from <= b_until and b_from <= a_until)


def validate_contract(data: Mapping[str, Any], *, creating: bool,
                      prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """Normalise contract fields. On create, required fields must be there and defaults are
    filled in; on update only the keys present are checked (absent = unchanged, None = cleared
    where the field is optional). Raises ``Problems`` with every problem at once."""
    p = Collector(prefix=prefix)
    out: dict[str, Any] = {}
    _text(p, data, "number", out, max_length=MAX_NUMBER, required=creating or "number" in data)
    _text(p, data, "title", out, max_length=MAX_TITLE, required=creating or "title" in data)
    if creating or "kind" in data:
        raw = data.get("kind")
        try:
            out["kind"] = ContractKind(raw.value if isinstance(raw, enum.Enum) else
                                       str(raw).lower()).value
        except ValueError:
            code = "REQUIRED" if raw is None else "INVALID_VALUE"
            p.add("kind", code, "kind must be one of: " + ", ".join(k.value for k in ContractKind))
    _date(p, data, "signed_on", out)
    _date(p, data, "valid_from", out, required=creating or "valid_from" in data)
    _date(p, data, "valid_until", out)
    if creating:
        out.setdefault("valid_until", None)
    _int(p, data, "payment_term_days", out, low=0, high=MAX_PAYMENT_TERM_DAYS, nullable=True,
         creating=creating)
    if creating or "currency" in data:
        raw_currency = data.get("currency")
        if raw_currency is not None and not isinstance(raw_currency, str):
            p.add("currency", "INVALID_TYPE", "currency must be text")
        else:
            out["currency"] = p.run("currency", normalize_currency, raw_currency or "EUR")
    _text(p, data, "price_terms", out, max_length=MAX_TERMS, multiline=True)
    _text(p, data, "other_terms", out, max_length=MAX_TERMS, multiline=True)
    if "auto_renew" in data or creating:
        out["auto_renew"] = bool(data.get("auto_renew") or False)
    _int(p, data, "renewal_term_months", out, low=1, high=MAX_RENEWAL_MONTHS, nullable=False,
         default=DEFAULT_RENEWAL_MONTHS, creating=creating)
    _int(p, data, "notice_period_days", out, low=0, high=MAX_NOTICE_DAYS, nullable=False,
         default=DEFAULT_NOTICE_DAYS, creating=creating)
    _text(p, data, "client_signatory", out, max_length=MAX_SIGNATORY)
    if "our_signatory_id" in data:
        raw_id = data["our_signatory_id"]
        out["our_signatory_id"] = None if raw_id is None else \
            p.run("our_signatory_id", parse_uuid, raw_id, what="employee id")
    if "discounts" in data or creating:
        out["discounts"] = p.merge(validate_discounts, data.get("discounts"),
                                   prefix + ("discounts",))
    if not any(x.field[len(prefix):][:1] in (("valid_from",), ("valid_until",))
               for x in p.problems):
        p.extend(contract_rule_problems(out, prefix))
    p.done()
    return out


def contract_rule_problems(values: Mapping[str, Any],
                           prefix: tuple[str, ...] = ("input",)) -> list[FieldProblem]:
    """Rules across fields, over normalised values: a new contract, or a stored one merged with a
    change (a rule whose fields are absent does not apply)."""
    problems = []
    start, end = values.get("valid_from"), values.get("valid_until")
    if start is not None and end is not None and end < start:
        problems.append(FieldProblem(prefix + ("valid_until",), "INVALID_DATE_RANGE",
                                     "valid_until cannot be before valid_from"))
    if values.get("auto_renew") and "valid_until" in values and end is None:
        problems.append(FieldProblem(prefix + ("auto_renew",), "INVALID_VALUE",
                                     "an open-ended contract (no valid_until) cannot auto-renew"))
    return problems


def notice_problem(stored: Mapping[Any, Any], change: Mapping[str, Any], today: dt.date,
                   prefix: tuple[str, ...] = ("input",)) -> FieldProblem | None:
    """Auto-renewal of a contract in force can be cancelled only until the notice deadline
    (``valid_until`` − ``notice_period_days``); later, the contract renews once more."""
    if not (stored.get("auto_renew") and change.get("auto_renew") is False):
        return None
    if stored.get("status") not in (S.ACTIVE.value, S.SUSPENDED.value):
        return None
    until = stored.get("valid_until")
    if until is None or "valid_until" in change:
        return None
    deadline = notice_deadline(until, stored["notice_period_days"])
    if today > deadline:
        return FieldProblem(prefix + ("auto_renew",), "NOTICE_PERIOD_PASSED",
                            f"auto-renewal could be cancelled until {deadline.isoformat()} "
                            f"({stored['notice_period_days']} days' notice before the end)")
    return None


def validate_reason(value: Any, *, required: bool, key: str = "reason",
                    prefix: tuple[str, ...] = ("input",)) -> str | None:
    p = Collector(prefix=prefix)
    out: dict[str, Any] = {}
    _text(p, {key: value}, key, out, max_length=MAX_REASON, required=required, multiline=True)
    p.done()
    result: str | None = out.get(key)
    return result


def validate_date(value: Any, key: str, prefix: tuple[str, ...] = ("input",)) -> dt.date:
    p = Collector(prefix=prefix)
    out: dict[str, Any] = {}
    _date(p, {key: value}, key, out, required=True)
    p.done()
    result: dt.date = out[key]
    return result


def parse_notice_days(raw: str | None) -> tuple[int, ...]:
    """``CONTRACT_EXPIRY_NOTICE_DAYS``: a comma list of days ahead (default ``30``)."""
    if raw is None or not raw.strip():
        return (30,)
    days: set[int] = set()
    for part in raw.split(","):
        try:
            value = int(part.strip())
        except ValueError:
            raise ValueError(f"CONTRACT_EXPIRY_NOTICE_DAYS: {part.strip()!r} is not a whole "
                             "number of days") from None
        if not 0 <= value <= 3650:
            raise ValueError("CONTRACT_EXPIRY_NOTICE_DAYS: days must be between 0 and 3650")
        days.add(value)
    return tuple(sorted(days, reverse=True))
