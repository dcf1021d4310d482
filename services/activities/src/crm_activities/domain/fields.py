"""Collects every problem of one input at once, each naming its field (``input.startsAt``)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from crm_activities.domain.values import InvalidValue, clean_text
from crm_common.problems import FieldProblem, Problems

E = TypeVar("E", bound=enum.Enum)


class Collector:
    """Validation of one input: ``take_*`` read ``data[key]``, record a problem on failure."""

    def __init__(self, data: Mapping[str, Any], prefix: tuple[str, ...] = ("input",)) -> None:
        self.data = data
        self.prefix = prefix
        self.problems: list[FieldProblem] = []

    def add(self, key: str | tuple[str, ...], code: str, message: str) -> None:
        path = (key,) if isinstance(key, str) else key
        self.problems.append(FieldProblem(self.prefix + path, code, message))

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def failed(self, key: str) -> bool:
        return any(p.field[len(self.prefix):][:1] == (key,) for p in self.problems)

    def run(self, key: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except InvalidValue as exc:
            self.add(key, exc.code, exc.message)
            return None

    def required(self, key: str, what: str | None = None) -> bool:
        if not self.has(key):
            self.add(key, "REQUIRED", f"{what or key} is required")
            return False
        return True

    def text(self, key: str, *, max_length: int, required: bool = False,
             multiline: bool = False) -> str | None:
        if required and not self.has(key):
            self.add(key, "REQUIRED", f"{key} is required")
            return None
        value: str | None = self.run(key, lambda: clean_text(
            self.data.get(key), max_length=max_length, required=required, multiline=multiline))
        return value

    def choice(self, key: str, enum_cls: type[E], *, required: bool = False,
               default: E | None = None) -> E | None:
        if not self.has(key):
            if required:
                self.add(key, "REQUIRED", f"{key} is required")
            return default
        raw = self.data[key]
        if isinstance(raw, enum_cls):
            return raw
        try:
            return enum_cls(str(raw).lower())
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            self.add(key, "INVALID_VALUE", f"{key} must be one of: {allowed}")
            return None

    def done(self) -> None:
        if self.problems:
            raise Problems(self.problems)
