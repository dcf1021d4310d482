"""The datasets a report can read (docs/reports.md, "Datasets"): each a whitelist of fields,
each field a SQL expression over the reporting read model or the sales ledger, with a kind that
decides which filter operators, aggregates and date granularities fit it. A report names fields;
only these expressions ever reach SQL.

Every dataset states its access rule (DESIGN §6) as one condition built from the service's
``visibility.Access``: rows hanging off a client the requester may not see are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from crm_analytics.adapters.tables import (
    access,
    erp_product_groups,
    erp_products,
    rm_asset_audits,
    rm_assets,
    rm_client_groups,
    rm_clients,
    rm_competitor_observations,
    rm_contacts,
    rm_contracts,
    rm_tasks,
    turnover_groups_monthly,
    turnover_items_monthly,
    turnover_monthly,
)
from crm_analytics.service_layer.visibility import Access

FieldKind = Literal["text", "enum", "id", "date", "datetime", "integer", "decimal", "money",
                    "boolean"]
NUMERIC_KINDS = frozenset({"integer", "decimal", "money"})
GRANULARITIES = ("day", "week", "month", "quarter", "half_year", "year")
MONTH_GRANULARITIES = ("month", "quarter", "half_year", "year")

#: how long after its last audit (or its placement, if never audited) a placed asset is due
#: for an audit when its placement names no next audit (docs/reports.md)
AUDIT_INTERVAL_DAYS = 180

Expr = sa.ColumnElement[Any]


def today() -> Expr:
    """The database's today in UTC (derived fields: overdue, days left)."""
    return sa.cast(sa.func.timezone("UTC", sa.func.now()), sa.Date)


def utc_date(moment: Expr) -> Expr:
    return sa.cast(sa.func.timezone("UTC", moment), sa.Date)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: FieldKind
    value: Expr
    """What a row shows (a client's name)."""
    key: Expr | None = None
    """What groups and counts distinct (the client's id) when it differs from ``value``."""
    values: tuple[str, ...] = ()
    """The values of an ``enum`` field."""
    granularities: tuple[str, ...] = ()
    """The granularities a ``date`` field groups by."""
    month_grain: bool = False
    """The field holds the first day of a month (sales): a period covers the months it
    touches."""
    description: str = ""

    @property
    def group_key(self) -> Expr:
        return self.key if self.key is not None else self.value

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass(frozen=True)
class Bound:
    """A dataset's FROM clause and fields for one report (sales picks its rollup by the fields
    the report uses)."""

    source: sa.FromClause
    fields: dict[str, Field]
    row_key: tuple[Expr, ...]
    """Unique per source row: the tie-break of a listing's order."""
    base: Expr | None = None
    """A condition every row meets (contacts: completed meetings are counted as activities)."""


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    description: str
    date_field: str
    """The field a period applies to unless the report names another."""
    watermarks: tuple[str, ...]
    """The read model's parts whose latest event is the dataset's "data as of" (``sales``: the
    ledger's watermark)."""
    bind: Callable[[Collection[str]], Bound]
    visible: Callable[[Bound, Access], Expr]
    fields: dict[str, Field] = field(default_factory=dict)
    """The fields as documented (the widest binding)."""


def _employees(name: str) -> sa.FromClause:
    alias: sa.FromClause = access.require_employees().alias(name)
    return alias


def _enum(*values: str) -> tuple[str, ...]:
    return tuple(values)


CLIENT_STATUSES = _enum("prospect", "active", "inactive", "archived")


def _client_fields(client_id: Expr, c: sa.FromClause, g: sa.FromClause,
                   owner: sa.FromClause) -> list[Field]:
    return [
        Field("client", "Client", "text", sa.func.coalesce(c.c.name, sa.cast(client_id, sa.Text)),
              key=client_id, description="The client's trade (else legal) name."),
        Field("client_code", "Client code", "text", c.c.code),
        Field("client_group", "Client group", "text", g.c.name, key=c.c.group_id),
        Field("owner", "Owner", "text", owner.c.full_name, key=c.c.owner_id,
              description="The employee who owns the client."),
        Field("city", "City", "text", c.c.city,
              description="The city of the client's default address."),
        Field("client_status", "Client status", "enum", c.c.status, values=CLIENT_STATUSES),
    ]


def _with_clients(base: sa.FromClause, client_id: Expr) -> tuple[sa.FromClause, list[Field]]:
    c = rm_clients.alias("c")
    g = rm_client_groups.alias("g")
    owner = _employees("owner")
    source = base.outerjoin(c, c.c.client_id == client_id) \
        .outerjoin(g, g.c.group_id == c.c.group_id) \
        .outerjoin(owner, owner.c.employee_id == c.c.owner_id)
    return source, _client_fields(client_id, c, g, owner)


def _by_name(fields: list[Field]) -> dict[str, Field]:
    return {f.name: f for f in fields}


def _client_rule(client_id: Expr, a: Access) -> Expr:
    return a.scope()(client_id)


# -- sales ---------------------------------------------------------------------------------------

_PRODUCT_FIELDS = {"product", "product_code"}
_GROUP_FIELDS = {"product_group", "product_group_code"}


def _bind_sales(used: Collection[str]) -> Bound:
    names = set(used)
    if names & _PRODUCT_FIELDS:
        t: sa.Table = turnover_items_monthly
    elif names & _GROUP_FIELDS:
        t = turnover_groups_monthly
    else:
        t = turnover_monthly
    source, fields = _with_clients(t, t.c.client_id)
    fields += [
        Field("month", "Month", "date", t.c.month, granularities=MONTH_GRANULARITIES,
              month_grain=True, description="The month of the documents' dates (sales are "
                                            "kept by month)."),
        Field("turnover", "Turnover", "money", t.c.invoiced_net - t.c.credited_net,
              description="Invoiced net minus credit notes, EUR."),
        Field("invoiced", "Invoiced", "money", t.c.invoiced_net),
        Field("credited", "Credited", "money", t.c.credited_net),
        Field("quantity", "Quantity", "decimal", t.c.invoiced_quantity - t.c.credited_quantity),
        Field("ordered", "Ordered", "money", t.c.ordered_net),
        Field("ordered_quantity", "Ordered quantity", "decimal", t.c.ordered_quantity),
    ]
    key: tuple[Expr, ...] = (t.c.client_id, t.c.month)
    if t is not turnover_monthly:
        pg = erp_product_groups.alias("pg")
        source = source.outerjoin(pg, pg.c.code == t.c.product_group_code)
        fields += [Field("product_group", "Product group", "text",
                         sa.func.coalesce(pg.c.name, t.c.product_group_code),
                         key=t.c.product_group_code),
                   Field("product_group_code", "Product group code", "text",
                         t.c.product_group_code)]
        key += (t.c.product_group_code,)
    if t is turnover_items_monthly:
        p = erp_products.alias("p")
        source = source.outerjoin(p, p.c.code == t.c.product_code)
        fields += [Field("product", "Product", "text",
                         sa.func.coalesce(p.c.name, t.c.product_code), key=t.c.product_code),
                   Field("product_code", "Product code", "text", t.c.product_code)]
        key += (t.c.product_code,)
    return Bound(source, _by_name(fields), key)


def _sales_visible(b: Bound, a: Access) -> Expr:
    return _client_rule(b.fields["client"].group_key, a)


# -- clients -------------------------------------------------------------------------------------

def _bind_clients(used: Collection[str]) -> Bound:
    c = rm_clients.alias("c")
    g = rm_client_groups.alias("g")
    owner = _employees("owner")
    source = c.outerjoin(g, g.c.group_id == c.c.group_id) \
        .outerjoin(owner, owner.c.employee_id == c.c.owner_id)
    fields = _client_fields(c.c.client_id, c, g, owner) + [
        Field("kind", "Kind", "enum", c.c.kind, values=_enum("company", "individual", "unknown")),
        Field("created_on", "Created on", "date", utc_date(c.c.created_at),
              granularities=GRANULARITIES),
    ]
    return Bound(source, _by_name(fields), (c.c.client_id,))


def _own_client_visible(b: Bound, a: Access) -> Expr:
    return _client_rule(b.fields["client"].group_key, a)


# -- contracts -----------------------------------------------------------------------------------

def _bind_contracts(used: Collection[str]) -> Bound:
    k = rm_contracts.alias("k")
    source, fields = _with_clients(k, k.c.client_id)
    fields += [
        Field("number", "Number", "text", k.c.number),
        Field("title", "Title", "text", k.c.title),
        Field("kind", "Kind", "enum", k.c.kind,
              values=_enum("sales", "distribution", "service", "framework", "other")),
        Field("status", "Status", "enum", k.c.status,
              values=_enum("draft", "active", "suspended", "expired", "terminated")),
        Field("signed_on", "Signed on", "date", k.c.signed_on, granularities=GRANULARITIES),
        Field("valid_from", "Valid from", "date", k.c.valid_from, granularities=GRANULARITIES),
        Field("valid_until", "Valid until", "date", k.c.valid_until,
              granularities=GRANULARITIES, description="Last day of validity (empty: open)."),
        Field("days_left", "Days left", "integer", k.c.valid_until - today(),
              description="Days from today to the last day of validity."),
        Field("auto_renew", "Auto-renew", "boolean", k.c.auto_renew),
        Field("value", "Value", "money", k.c.value,
              description="Empty: the contract events carry no amount yet."),
    ]
    return Bound(source, _by_name(fields), (k.c.contract_id,))


# -- contacts (activities and meetings) ----------------------------------------------------------

def _bind_contacts(used: Collection[str]) -> Bound:
    x = rm_contacts.alias("x")
    employee = _employees("emp")
    source, fields = _with_clients(x, x.c.client_id)
    source = source.outerjoin(employee, employee.c.employee_id == x.c.employee_id)
    fields += [
        Field("employee", "Employee", "text", employee.c.full_name, key=x.c.employee_id,
              description="Who made (or is to make) the contact."),
        Field("kind", "Kind", "enum", x.c.kind,
              values=_enum("visit", "meeting", "phone_call", "video_call", "email", "message",
                           "other")),
        Field("source", "Source", "enum", x.c.source, values=_enum("activity", "meeting"),
              description="activity: a done contact; meeting: a meeting not done (yet)."),
        Field("status", "Status", "enum", x.c.status,
              values=_enum("done", "scheduled", "cancelled")),
        Field("direction", "Direction", "enum", x.c.direction, values=_enum("outbound",
                                                                            "inbound")),
        Field("date", "Date", "date", utc_date(x.c.occurred_at), granularities=GRANULARITIES,
              description="The day of the contact (UTC); a meeting's start."),
        Field("duration_minutes", "Duration (min)", "integer", x.c.duration_minutes),
    ]
    base = sa.or_(x.c.source == "activity", x.c.status != "completed")
    return Bound(source, _by_name(fields), (x.c.contact_id,), base)


def _contacts_visible(b: Bound, a: Access) -> Expr:
    """Contacts of visible clients, and every contact the rep made."""
    if a.sees_all:
        return sa.true()
    return sa.or_(b.fields["employee"].group_key == a.principal.subject,
                  _client_rule(b.fields["client"].group_key, a))


# -- tasks and commitments -----------------------------------------------------------------------

OPEN_STATUSES = ("assigned", "in_progress", "in_production", "on_hold")


def _bind_tasks(used: Collection[str]) -> Bound:
    t = rm_tasks.alias("t")
    assignee = _employees("assignee")
    source, fields = _with_clients(t, t.c.client_id)
    source = source.outerjoin(assignee, assignee.c.employee_id == t.c.assignee_id)
    is_open = t.c.status.in_(OPEN_STATUSES)
    closed_days = sa.cast(sa.func.extract("epoch", t.c.closed_at - t.c.created_at) / 86400,
                          sa.Numeric(12, 1))
    fields += [
        Field("number", "Number", "text", t.c.number),
        Field("title", "Title", "text", t.c.title),
        Field("kind", "Kind", "enum", t.c.kind, values=_enum("general", "commitment")),
        Field("commitment_type", "Commitment type", "enum", t.c.commitment_type,
              values=_enum("new_contract", "offer", "sample", "test_product", "invoice",
                           "other")),
        Field("status", "Status", "enum", t.c.status, values=OPEN_STATUSES + (
            "closed_confirmed", "closed_refused", "cancelled")),
        Field("outcome", "Outcome", "enum", t.c.outcome, values=_enum("confirmed", "refused")),
        Field("priority", "Priority", "enum", t.c.priority,
              values=_enum("low", "normal", "high", "urgent")),
        Field("assignee", "Assignee", "text", assignee.c.full_name, key=t.c.assignee_id),
        Field("due_date", "Due date", "date", t.c.due_date, granularities=GRANULARITIES),
        Field("created_on", "Created on", "date", utc_date(t.c.created_at),
              granularities=GRANULARITIES),
        Field("closed_on", "Closed on", "date", utc_date(t.c.closed_at),
              granularities=GRANULARITIES),
        Field("open", "Open", "boolean", is_open),
        Field("overdue", "Overdue", "boolean", sa.and_(is_open, t.c.due_date < today()),
              description="Open and due before today."),
        Field("days_overdue", "Days overdue", "integer",
              sa.case((sa.and_(is_open, t.c.due_date < today()), today() - t.c.due_date),
                      else_=0)),
        Field("fulfilled", "Fulfilled", "integer",
              sa.case((t.c.outcome == "confirmed", 1), else_=0),
              description="1 when closed with the client's confirmation, else 0 (its average "
                          "is the fulfilment rate)."),
        Field("fulfilled_percent", "Fulfilled %", "integer",
              sa.case((t.c.outcome == "confirmed", 100), else_=0),
              description="100 when confirmed, else 0: its average is the fulfilment rate in "
                          "%."),
        Field("refused", "Refused", "integer", sa.case((t.c.outcome == "refused", 1), else_=0)),
        Field("days_to_close", "Days to close", "decimal", closed_days,
              description="From creation to closing, in days (empty while open)."),
    ]
    return Bound(source, _by_name(fields), (t.c.task_id,))


def _tasks_visible(b: Bound, a: Access) -> Expr:
    """Tasks of visible clients, and every task assigned to the rep."""
    if a.sees_all:
        return sa.true()
    return sa.or_(b.fields["assignee"].group_key == a.principal.subject,
                  _client_rule(b.fields["client"].group_key, a))


# -- competitor observations ---------------------------------------------------------------------

def _bind_observations(used: Collection[str]) -> Bound:
    o = rm_competitor_observations.alias("o")
    reporter = _employees("reporter")
    source, fields = _with_clients(o, o.c.client_id)
    source = source.outerjoin(reporter, reporter.c.employee_id == o.c.reported_by)
    fields += [
        Field("competitor", "Competitor", "text", o.c.competitor_name, key=o.c.competitor_id),
        Field("kind", "Kind", "enum", o.c.kind,
              values=_enum("price_change", "new_product", "promotion", "distribution",
                           "marketing", "personnel", "other")),
        Field("impact", "Impact", "enum", o.c.impact, values=_enum("low", "medium", "high")),
        Field("product_group", "Product group", "text", o.c.product_group),
        Field("reported_by", "Reported by", "text", reporter.c.full_name, key=o.c.reported_by),
        Field("observed_on", "Observed on", "date", o.c.observed_on,
              granularities=GRANULARITIES),
    ]
    return Bound(source, _by_name(fields), (o.c.observation_id,))


def _observations_visible(b: Bound, a: Access) -> Expr:
    """As the activities service shows them: observations at no client, those the rep reported,
    and those at clients the rep may see."""
    if a.sees_all:
        return sa.true()
    client = b.fields["client"].group_key
    return sa.or_(client.is_(None), b.fields["reported_by"].group_key == a.principal.subject,
                  _client_rule(client, a))


# -- inventory -----------------------------------------------------------------------------------

def _bind_inventory(used: Collection[str]) -> Bound:
    s = rm_assets.alias("s")
    source, fields = _with_clients(s, s.c.client_id)
    last = sa.func.coalesce(s.c.last_audit_at, s.c.placed_at)
    stale = sa.or_(last.is_(None), last < sa.func.now() - sa.text(
        f"interval '{AUDIT_INTERVAL_DAYS} days'"))
    due = sa.and_(s.c.status == "placed", sa.case(
        (s.c.next_audit_due.is_not(None), s.c.next_audit_due < today()), else_=stale))
    fields += [
        Field("inventory_number", "Inventory number", "text", s.c.inventory_number),
        Field("asset_type", "Asset type", "text", s.c.asset_type_name),
        Field("status", "Status", "enum", s.c.status,
              values=_enum("in_stock", "placed", "in_repair", "lost", "written_off")),
        Field("placed_on", "Placed on", "date", utc_date(s.c.placed_at),
              granularities=GRANULARITIES),
        Field("returned_on", "Returned on", "date", utc_date(s.c.returned_at),
              granularities=GRANULARITIES),
        Field("next_audit_due", "Next audit due", "date", s.c.next_audit_due,
              granularities=GRANULARITIES),
        Field("last_audit_on", "Last audit", "date", utc_date(s.c.last_audit_at),
              granularities=GRANULARITIES),
        Field("last_audit_result", "Last audit result", "enum", s.c.last_audit_result,
              values=_enum("found", "missing", "moved", "damaged", "unrecorded")),
        Field("audit_overdue", "Audit overdue", "boolean", due,
              description="Placed, and its placement's next audit is past due (without one: "
                          f"not audited in the last {AUDIT_INTERVAL_DAYS} days)."),
        Field("days_since_audit", "Days since audit", "integer",
              today() - utc_date(last)),
    ]
    return Bound(source, _by_name(fields), (s.c.asset_id,))


def _bind_audits(used: Collection[str]) -> Bound:
    u = rm_asset_audits.alias("u")
    auditor = _employees("auditor")
    source, fields = _with_clients(u, u.c.client_id)
    source = source.outerjoin(auditor, auditor.c.employee_id == u.c.audited_by)
    fields += [
        Field("inventory_number", "Inventory number", "text", u.c.inventory_number),
        Field("asset_type", "Asset type", "text", u.c.asset_type_name),
        Field("result", "Result", "enum", u.c.result,
              values=_enum("found", "missing", "moved", "damaged", "unrecorded")),
        Field("condition", "Condition", "text", u.c.condition),
        Field("audited_by", "Audited by", "text", auditor.c.full_name, key=u.c.audited_by),
        Field("audited_on", "Audited on", "date", utc_date(u.c.audited_at),
              granularities=GRANULARITIES),
    ]
    return Bound(source, _by_name(fields), (u.c.audit_id, u.c.asset_id))


def _dataset(name: str, label: str, description: str, date_field: str,
             watermarks: tuple[str, ...], bind: Callable[[Collection[str]], Bound],
             visible: Callable[[Bound, Access], Expr]) -> Dataset:
    widest = bind({"product"}) if name == "sales" else bind(())
    return Dataset(name, label, description, date_field, watermarks, bind, visible,
                   widest.fields)


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    _dataset("sales", "Sales", "The sales ledger's monthly figures (EUR) by client, product "
             "group and product.", "month", ("sales",), _bind_sales, _sales_visible),
    _dataset("clients", "Clients", "Clients with their group, owner, city and status.",
             "created_on", ("clients",), _bind_clients, _own_client_visible),
    _dataset("contracts", "Contracts", "Contracts with kind, status and validity.",
             "valid_until", ("contracts", "clients"), _bind_contracts, _own_client_visible),
    _dataset("contacts", "Contacts", "Done contacts (visits, calls, e-mails, meetings held) "
             "and meetings scheduled or cancelled.", "date", ("contacts", "clients"),
             _bind_contacts, _contacts_visible),
    _dataset("tasks", "Tasks and commitments", "Tasks and commitments with type, status, "
             "outcome, assignee, due and closed dates.", "created_on", ("tasks", "clients"),
             _bind_tasks, _tasks_visible),
    _dataset("competitor_observations", "Competitor observations", "Changes in competitors' "
             "strategy observed by the team.", "observed_on",
             ("competitor_observations", "clients"), _bind_observations,
             _observations_visible),
    _dataset("inventory", "Inventory", "Advertising assets: where each is placed and its last "
             "audit.", "placed_on", ("inventory", "clients"), _bind_inventory,
             _own_client_visible),
    _dataset("inventory_audits", "Inventory audits", "Every audited asset line.", "audited_on",
             ("inventory", "clients"), _bind_audits, _own_client_visible),
)}


def period_shift_months(start: dt.date, end: dt.date) -> int | None:
    """Whole months from ``start`` (a first day) to ``end`` (a last day); None otherwise."""
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1
