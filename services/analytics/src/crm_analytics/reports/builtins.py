"""The built-in reports, present and runnable on first start (issue 13): seeded by
``service_layer.saved_reports.seed_builtins`` at start-up, once per ``key`` (idempotent: a
report already seeded keeps its versions; an admin may change it like any other). Shared with
every role; each run applies the requester's access rule."""

from __future__ import annotations

from dataclasses import dataclass

from crm_analytics.reports.definition import (
    Chart,
    Definition,
    Filter,
    Grouping,
    Measure,
    PeriodSpec,
    Sort,
)


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    definition: Definition


TURNOVER = Measure("sum", "turnover", "Turnover")

BUILTINS: tuple[Builtin, ...] = (
    Builtin("turnover_by_client_quarter_yoy", "Turnover per client by quarter, year on year",
            "Each client's turnover by quarter of the current year beside the same quarter a "
            "year earlier.",
            Definition(dataset="sales", title="Turnover per client by quarter",
                       group_by=(Grouping("client"), Grouping("month", "quarter")),
                       measures=(TURNOVER,), period=PeriodSpec(relative="current_year"),
                       comparison="previous_year",
                       sort=(Sort("client"), Sort("month_quarter")))),
    Builtin("turnover_by_product_group_client_group",
            "Turnover by product group and client group",
            "The current year's turnover by product group and client group, with each pair's "
            "share of the total and the change against the previous year.",
            Definition(dataset="sales", title="Turnover by product group and client group",
                       group_by=(Grouping("product_group"), Grouping("client_group")),
                       measures=(TURNOVER, Measure("share", "turnover", "Share")),
                       period=PeriodSpec(relative="current_year"), comparison="previous_year",
                       chart=Chart("stacked_bar", "product_group", "sum_turnover",
                                   "client_group"))),
    Builtin("top_clients_growth", "Top 20 clients by growth",
            "The 20 clients whose turnover over the last 12 months grew most against the 12 "
            "months before (clients that did not grow may fill the list when fewer grew).",
            Definition(dataset="sales", title="Top 20 clients by growth",
                       group_by=(Grouping("client"),), measures=(TURNOVER,),
                       period=PeriodSpec(relative="last_12_months"), comparison="previous_year",
                       sort=(Sort("sum_turnover_change", True),), limit=20,
                       chart=Chart("bar", "client", "sum_turnover_change"))),
    Builtin("top_clients_decline", "Top 20 clients by decline",
            "The 20 clients whose turnover over the last 12 months fell most against the 12 "
            "months before.",
            Definition(dataset="sales", title="Top 20 clients by decline",
                       group_by=(Grouping("client"),), measures=(TURNOVER,),
                       period=PeriodSpec(relative="last_12_months"), comparison="previous_year",
                       sort=(Sort("sum_turnover_change"),), limit=20,
                       chart=Chart("bar", "client", "sum_turnover_change"))),
    Builtin("visits_calls_per_rep_week", "Visits and calls per rep per week",
            "Done visits and calls of the last 90 days by employee and week.",
            Definition(dataset="contacts", title="Visits and calls per rep per week",
                       group_by=(Grouping("employee"), Grouping("date", "week"),
                                 Grouping("kind")),
                       measures=(Measure("count", None, "Contacts"),
                                 Measure("sum", "duration_minutes", "Minutes")),
                       filters=(Filter("kind", "in", ("visit", "phone_call", "video_call")),
                                Filter("status", "eq", ("done",))),
                       period=PeriodSpec(relative="last_90_days"),
                       sort=(Sort("employee"), Sort("date_week"), Sort("kind")),
                       chart=Chart("stacked_bar", "date_week", "count", "kind"))),
    Builtin("commitments_per_rep", "Commitments opened and fulfilled per rep",
            "Commitments created this year by assignee: how many, how many the client "
            "confirmed or refused, the fulfilment rate and the average days to close.",
            Definition(dataset="tasks", title="Commitments opened and fulfilled per rep",
                       group_by=(Grouping("assignee"),),
                       measures=(Measure("count", None, "Opened"),
                                 Measure("sum", "fulfilled", "Fulfilled"),
                                 Measure("sum", "refused", "Refused"),
                                 Measure("avg", "fulfilled_percent", "Fulfilment rate %"),
                                 Measure("avg", "days_to_close", "Average days to close")),
                       filters=(Filter("kind", "eq", ("commitment",)),),
                       period=PeriodSpec(field="created_on", relative="current_year"))),
    Builtin("overdue_tasks", "Overdue tasks",
            "Open tasks and commitments past their due date, the longest overdue first.",
            Definition(dataset="tasks", title="Overdue tasks",
                       columns=("number", "title", "kind", "assignee", "client", "due_date",
                                "days_overdue", "status", "priority"),
                       filters=(Filter("overdue", "eq", ("true",)),),
                       sort=(Sort("due_date"),))),
    Builtin("contracts_expiring_60_days", "Contracts expiring in the next 60 days",
            "Active and suspended contracts whose last day of validity is within 60 days.",
            Definition(dataset="contracts", title="Contracts expiring in the next 60 days",
                       columns=("number", "client", "owner", "kind", "status", "valid_until",
                                "days_left", "auto_renew"),
                       filters=(Filter("status", "in", ("active", "suspended")),),
                       period=PeriodSpec(field="valid_until", relative="next_60_days"),
                       sort=(Sort("valid_until"),))),
    Builtin("competitor_observations_by_kind_group",
            "Competitor observations by kind and product group",
            "Observations of the last 90 days by kind and product group.",
            Definition(dataset="competitor_observations",
                       title="Competitor observations by kind and product group",
                       group_by=(Grouping("kind"), Grouping("product_group")),
                       measures=(Measure("count", None, "Observations"),
                                 Measure("count_distinct", "competitor", "Competitors")),
                       period=PeriodSpec(relative="last_90_days"),
                       chart=Chart("stacked_bar", "kind", "count", "product_group"))),
    Builtin("equipment_per_client", "Equipment placed per client",
            "Advertising assets placed at each client now.",
            Definition(dataset="inventory", title="Equipment placed per client",
                       group_by=(Grouping("client"), Grouping("asset_type")),
                       measures=(Measure("count", None, "Assets"),),
                       filters=(Filter("status", "eq", ("placed",)),),
                       sort=(Sort("client"), Sort("asset_type")))),
    Builtin("audits_overdue", "Audits overdue",
            "Placed assets whose next audit is past due, the longest unaudited first.",
            Definition(dataset="inventory", title="Audits overdue",
                       columns=("inventory_number", "asset_type", "client", "owner",
                                "placed_on", "next_audit_due", "last_audit_on",
                                "days_since_audit"),
                       filters=(Filter("audit_overdue", "eq", ("true",)),),
                       sort=(Sort("days_since_audit", True),))),
)
