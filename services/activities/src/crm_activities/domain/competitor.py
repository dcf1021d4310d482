"""Competitors and observed changes in their strategy: what valid input is. Pure, no I/O."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_activities.domain.activity import optional_id
from crm_common.identifiers import normalize_eik, normalize_url
from crm_common.text import clean_text
from crm_common.validation import Collector


class ObservationKind(enum.Enum):
    PRICE_CHANGE = "price_change"
    NEW_PRODUCT = "new_product"
    PROMOTION = "promotion"
    DISTRIBUTION = "distribution"
    MARKETING = "marketing"
    PERSONNEL = "personnel"
    OTHER = "other"


class Impact(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


MAX_NAME = 300
MAX_NOTES = 5000
MAX_PRODUCT_GROUP = 100
MAX_PRODUCT_GROUPS = 50
MAX_DESCRIPTION = 5000
MAX_SOURCE = 300
EARLIEST_OBSERVATION = dt.date(2000, 1, 1)


def product_group(value: object) -> str:
    text = clean_text(value, max_length=MAX_PRODUCT_GROUP, required=True)
    assert text is not None
    return text


def _groups(c: Collector) -> list[str] | None:
    if "product_groups" not in c.data:
        return None
    return c.unique_items("product_groups", product_group, max_items=MAX_PRODUCT_GROUPS,
                          what="product groups", same=str.casefold)


def validate_competitor(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Fields of a competitor; on update only the keys present (null clears an optional one)."""
    c = Collector(data)
    out: dict[str, Any] = {}
    if creating or "name" in data:
        out["name"] = c.text("name", max_length=MAX_NAME, required=True)
    if "eik" in data:
        out["eik"] = c.run("eik", lambda: normalize_eik(data["eik"])) \
            if data["eik"] not in (None, "") else None
    if "website" in data:
        out["website"] = c.run("website", lambda: normalize_url(data["website"])) \
            if data["website"] not in (None, "") else None
    groups = _groups(c)
    if groups is not None:
        out["product_groups"] = groups
    elif creating:
        out["product_groups"] = []
    if "notes" in data:
        out["notes"] = c.text("notes", max_length=MAX_NOTES, multiline=True)
    c.done()
    return out


@dataclass(frozen=True)
class ObservationValues:
    competitor_id: uuid.UUID
    observed_on: dt.date
    kind: ObservationKind
    description: str
    client_id: uuid.UUID | None
    product_group: str | None
    source: str | None
    impact: Impact


def validate_observation(data: Mapping[str, Any], today: dt.date) -> ObservationValues:
    c = Collector(data)
    competitor = optional_id(c, "competitor_id") if c.required("competitor_id") else None
    observed: dt.date | None = None
    if c.required("observed_on"):
        raw = data["observed_on"]
        if not isinstance(raw, dt.date) or isinstance(raw, dt.datetime):
            c.add("observed_on", "INVALID_TYPE", "observedOn is a date")
        elif raw > today + dt.timedelta(days=1):  # a day for time zones ahead of UTC
            c.add("observed_on", "IN_THE_FUTURE", "an observation cannot be dated in the future")
        elif raw < EARLIEST_OBSERVATION:
            c.add("observed_on", "OUT_OF_RANGE", "the date must be after 2000-01-01")
        else:
            observed = raw
    kind = c.choice("kind", ObservationKind, required=True)
    description = c.text("description", max_length=MAX_DESCRIPTION, required=True,
                         multiline=True)
    client = optional_id(c, "client_id")
    group = c.text("product_group", max_length=MAX_PRODUCT_GROUP)
    source = c.text("source", max_length=MAX_SOURCE)
    impact = c.choice("impact", Impact, required=True)
    c.done()
    assert competitor and observed and kind and description and impact
    return ObservationValues(competitor, observed, kind, description, client, group, source,
                             impact)
