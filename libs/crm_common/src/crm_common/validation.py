"""One collector of validation problems: every problem of one input, reported at once.

A domain rule builds a :class:`Collector` over the raw input, reads fields through it (each
failure becomes a :class:`~crm_common.problems.FieldProblem` at the field's path instead of an
exception), and calls :meth:`Collector.done` at the end, which raises
:class:`~crm_common.problems.Problems` once with all of them::

    c = Collector(data)
    name = c.text("name", max_length=200, required=True)
    eik = c.run("eik", normalize_eik, data["eik"]) if c.has("eik") else None
    kind = c.choice("kind", ClientKind, required=True)
    c.done()

Paths are the snake_case input keys under ``prefix`` (``("input", "legal_name")``); the GraphQL
layer spells them as the API does (``input.legalName``). Messages the collector writes itself name
the field as the API does too (``legalName``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from crm_common.problems import FieldProblem, Problems, camel
from crm_common.text import InvalidValue, clean_text

__all__ = ["Collector", "Field"]

P = ParamSpec("P")
T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

Field = str | tuple[str, ...]
"""A field under the collector's prefix: one key, or a path (``("phones", "2")``)."""


class Collector:
    """The problems found so far in one input, and the helpers that find them.

    ``data`` is the raw input (snake_case keys) that :meth:`has`, :meth:`required`, :meth:`text`
    and :meth:`choice` read; ``prefix`` is the path of that input (``("input",)``, or
    ``("input", "addresses", "0")`` for a nested one).
    """

    def __init__(self, data: Mapping[str, Any] | None = None, *,
                 prefix: tuple[str, ...] = ("input",)) -> None:
        self.data: Mapping[str, Any] = data if data is not None else {}
        self.prefix = prefix
        self.problems: list[FieldProblem] = []

    # --- recording -----------------------------------------------------------------------------

    def path(self, field: Field) -> tuple[str, ...]:
        """The full path of ``field``."""
        return self.prefix + ((field,) if isinstance(field, str) else field)

    def add(self, field: Field, code: str, message: str) -> None:
        """Record one problem at ``field`` (under the prefix)."""
        self.problems.append(FieldProblem(self.path(field), code, message))

    def extend(self, problems: Iterable[FieldProblem]) -> None:
        """Record problems that already carry their full path (from another rule)."""
        self.problems.extend(problems)

    def failed(self, field: Field) -> bool:
        """Whether a problem was recorded at ``field`` or below it."""
        path = self.path(field)
        return any(p.field[:len(path)] == path for p in self.problems)

    def done(self) -> None:
        """Raise :class:`Problems` with every problem recorded, if there is any."""
        if self.problems:
            raise Problems(list(self.problems))

    # --- running rules -------------------------------------------------------------------------

    def run(self, field: Field, fn: Callable[P, T], /, *args: P.args,
            **kwargs: P.kwargs) -> T | None:
        """``fn(*args, **kwargs)``; an :class:`InvalidValue` it raises becomes a problem at
        ``field`` and the result is ``None``."""
        try:
            return fn(*args, **kwargs)
        except InvalidValue as exc:
            self.add(field, exc.code, exc.message)
            return None

    def merge(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``fn(*args, **kwargs)`` for a rule that collects on its own (a nested input, a list):
        the :class:`Problems` it raises are added here and the result is ``None``."""
        try:
            return fn(*args, **kwargs)
        except Problems as exc:
            self.extend(exc.problems)
            return None

    def unique_items(self, key: str, parse: Callable[[Any], T], *, max_items: int, what: str,
                     same: Callable[[T], Any] = lambda v: v) -> list[T] | None:
        """The list field ``key`` of ``data``: absent or ``null`` is an empty list; anything but
        a list is INVALID_TYPE and more than ``max_items`` TOO_MANY (``what`` names the items,
        plural: "a list of product groups"); each item goes through ``parse`` (an
        :class:`InvalidValue` becomes a problem at ``key.<index>``); repeats (equal under
        ``same``) are dropped, the first kept. ``None`` when anything was refused."""
        raw = self.data.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(key, "INVALID_TYPE", f"a list of {what}")
            return None
        if len(raw) > max_items:
            self.add(key, "TOO_MANY", f"at most {max_items} {what}")
            return None
        out: list[T] = []
        seen: set[Any] = set()
        for i, item in enumerate(raw):
            value = self.run((key, str(i)), parse, item)
            if value is not None and same(value) not in seen:
                seen.add(same(value))
                out.append(value)
        return None if self.failed(key) else out

    # --- reading fields of ``data`` ------------------------------------------------------------

    def has(self, key: str) -> bool:
        """Whether ``key`` was given with a value (absent and ``null`` are both "not given")."""
        return self.data.get(key) is not None

    def required(self, key: str) -> bool:
        """``True`` when ``key`` has a value; otherwise records ``REQUIRED`` and says ``False``."""
        if not self.has(key):
            self.add(key, "REQUIRED", f"{camel(key)} is required")
            return False
        return True

    def text(self, key: str, *, max_length: int, required: bool = False,
             multiline: bool = False) -> str | None:
        """``data[key]`` through :func:`~crm_common.text.clean_text` (blank is ``None``)."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            self.add(key, "INVALID_TYPE", f"{camel(key)} must be text")
            return None
        return self.run(key, clean_text, value, max_length=max_length, required=required,
                        multiline=multiline)

    def choice(self, key: str, enum_cls: type[E], *, required: bool = False,
               default: E | None = None) -> E | None:
        """``data[key]`` as a member of ``enum_cls``: a member, or its value in any case
        (``"VISIT"``, ``"visit"``). Not given: ``default``, or ``REQUIRED`` when required."""
        if not self.has(key):
            if required:
                self.add(key, "REQUIRED", f"{camel(key)} is required")
                return None
            return default
        raw = self.data[key]
        if isinstance(raw, enum_cls):
            return raw
        try:
            return enum_cls(str(raw).lower())
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum_cls)
            self.add(key, "INVALID_VALUE", f"{camel(key)} must be one of: {allowed}")
            return None
