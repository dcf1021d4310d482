"""The one validation collector (crm_common.validation.Collector): every problem of an input at
its field path, raised once."""

from __future__ import annotations

import enum

import pytest

from crm_common.identifiers import normalize_eik
from crm_common.problems import FieldProblem, Problems
from crm_common.text import InvalidValue
from crm_common.validation import Collector


class Kind(enum.Enum):
    VISIT = "visit"
    PHONE_CALL = "phone_call"


def _found(exc: pytest.ExceptionInfo[Problems]) -> set[tuple[str, str]]:
    return {(".".join(p.field), p.code) for p in exc.value.problems}


def test_done_without_problems_does_nothing() -> None:
    c = Collector({"name": "Агро"})
    assert c.text("name", max_length=10) == "Агро"
    c.done()
    assert c.problems == []


def test_every_problem_is_raised_once_at_its_path() -> None:
    c = Collector({"name": "x" * 11, "eik": "121759223", "kind": "walk"})
    c.text("name", max_length=10)
    c.run("eik", normalize_eik, c.data["eik"])
    c.choice("kind", Kind)
    c.required("client_id")
    with pytest.raises(Problems) as exc:
        c.done()
    assert _found(exc) == {("input.name", "TOO_LONG"), ("input.eik", "INVALID_EIK"),
                           ("input.kind", "INVALID_VALUE"), ("input.client_id", "REQUIRED")}


def test_run_returns_the_value_or_none_and_takes_arguments() -> None:
    c = Collector()
    assert c.run("eik", normalize_eik, " 121 759 222 ") == "121759222"
    assert c.run("eik", lambda: normalize_eik("1")) is None
    assert [p.field for p in c.problems] == [("input", "eik")]


def test_run_does_not_swallow_other_errors() -> None:
    c = Collector()
    with pytest.raises(ZeroDivisionError):
        c.run("x", lambda: 1 // 0)


def test_a_nested_prefix_and_a_path() -> None:
    c = Collector(prefix=("input", "addresses", "0"))
    c.add(("phones", "2"), "INVALID_PHONE", "bad")
    assert c.problems == [FieldProblem(("input", "addresses", "0", "phones", "2"),
                                       "INVALID_PHONE", "bad")]
    assert c.failed("phones")
    assert not c.failed("emails")


def test_merge_gathers_the_problems_of_a_rule_that_collects_on_its_own() -> None:
    def child(raw: str, *, index: int) -> str:
        inner = Collector(prefix=("input", "items", str(index)))
        value = inner.run("eik", normalize_eik, raw)
        inner.done()
        assert value is not None
        return value

    c = Collector()
    assert c.merge(child, "121759222", index=0) == "121759222"
    assert c.merge(child, "nope", index=1) is None
    c.add("name", "REQUIRED", "name is required")
    with pytest.raises(Problems) as exc:
        c.done()
    assert _found(exc) == {("input.items.1.eik", "INVALID_EIK"), ("input.name", "REQUIRED")}


def test_text_refuses_what_is_not_text_naming_the_field_as_the_api_does() -> None:
    c = Collector({"legal_name": 12})
    assert c.text("legal_name", max_length=10) is None
    assert [(p.code, p.message) for p in c.problems] == [("INVALID_TYPE",
                                                           "legalName must be text")]


def test_text_options_required_and_multiline() -> None:
    c = Collector({"notes": "ред 1\r\nред 2", "title": "  "})
    assert c.text("notes", max_length=20, multiline=True) == "ред 1\nред 2"
    assert c.text("title", max_length=20, required=True) is None
    assert c.text("absent", max_length=20) is None
    assert c.text("subject", max_length=20, required=True) is None
    assert [(p.field[-1], p.code) for p in c.problems] == [("title", "REQUIRED"),
                                                            ("subject", "REQUIRED")]


def test_choice_reads_members_and_values_in_any_case() -> None:
    c = Collector({"a": Kind.VISIT, "b": "PHONE_CALL", "c": "phone_call", "d": None})
    assert c.choice("a", Kind) is Kind.VISIT
    assert c.choice("b", Kind) is Kind.PHONE_CALL
    assert c.choice("c", Kind) is Kind.PHONE_CALL
    assert c.choice("d", Kind, default=Kind.VISIT) is Kind.VISIT
    assert c.choice("e", Kind) is None
    assert c.problems == []
    assert c.choice("e", Kind, required=True) is None
    assert c.problems == [FieldProblem(("input", "e"), "REQUIRED", "e is required")]


def test_choice_lists_the_allowed_values() -> None:
    c = Collector({"kind": "walk"})
    c.choice("kind", Kind)
    assert c.problems[0].message == "kind must be one of: visit, phone_call"


def test_has_treats_null_as_not_given() -> None:
    c = Collector({"a": None, "b": 0, "c": ""})
    assert not c.has("a")
    assert c.has("b")
    assert c.has("c")
    assert not c.has("d")


def test_unique_items_reads_a_bounded_list_item_by_item() -> None:
    def parse(v: object) -> str:
        if not isinstance(v, str) or not v.strip():
            raise InvalidValue("REQUIRED", "empty")
        return v.strip()

    def run(data: dict[str, object],
            **kw: object) -> tuple[object, list[tuple[tuple[str, ...], str]]]:
        c = Collector(data)
        got = c.unique_items("tags", parse, max_items=4, what="tags", **kw)  # type: ignore[arg-type]
        return got, [(p.field, p.code) for p in c.problems]

    assert run({}) == ([], [])
    assert run({"tags": None}) == ([], [])
    assert run({"tags": ["a", " a", "B", "b"]}, same=str.casefold) == (["a", "B"], [])
    assert run({"tags": "a"}) == (None, [(("input", "tags"), "INVALID_TYPE")])
    assert run({"tags": ["a"] * 5}) == (None, [(("input", "tags"), "TOO_MANY")])
    assert run({"tags": ["a", " "]}) == (None, [(("input", "tags", "1"), "REQUIRED")])
