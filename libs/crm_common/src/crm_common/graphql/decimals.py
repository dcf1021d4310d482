"""The ``Decimal`` scalar of every subgraph: a malformed decimal reaches the field's rule.

Strawberry's own ``Decimal`` refuses a value ``decimal.Decimal`` cannot read (``"12500,50"``,
``"12.5%"``, ``"1e"``) while coercing the variables: a request error without a field, which the
gateway reports as ``DOWNSTREAM_SERVICE_ERROR`` (issue 14). Yet ``"NaN"``, which does parse, was
a userError naming the field. Here the scalar hands a value it cannot read on as it came, a
:class:`MalformedDecimal` (a ``str``), and the field's rule refuses it as it refuses ``"NaN"``:
every decimal rule of the services (``creditLimit``, a discount's ``percent``, prices, rule
values and thresholds, quote quantities) takes the raw value, tries ``Decimal(str(value))`` and
says what it expects ("must be an amount such as 12500.00") at the field's path.

The scalar keeps Strawberry's name and description, so the SDL does not change.
"""

from __future__ import annotations

import decimal
from typing import Final

from strawberry.types.scalar import ScalarDefinition

__all__ = ["DECIMAL", "MalformedDecimal", "parse_decimal"]

#: a decimal written longer than this is not read (a hostile megabyte of digits)
MAX_DECIMAL_TEXT: Final = 100


class MalformedDecimal(str):
    """A decimal input that is no number, as the caller wrote it (cut to
    :data:`MAX_DECIMAL_TEXT` characters): left for the field's rule to refuse."""

    __slots__ = ()


def parse_decimal(value: object) -> decimal.Decimal | MalformedDecimal:
    """A ``Decimal`` input as Strawberry reads it (text, or a JSON number), or the
    :class:`MalformedDecimal` it is when it does not read as one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return MalformedDecimal(str(value)[:MAX_DECIMAL_TEXT])
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_DECIMAL_TEXT:
        return MalformedDecimal(text[:MAX_DECIMAL_TEXT])
    try:
        return decimal.Decimal(text)
    except decimal.DecimalException:
        return MalformedDecimal(text)


DECIMAL: Final = ScalarDefinition(
    name="Decimal",
    description="Decimal (fixed-point)",
    specified_by_url=None,
    serialize=str,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=decimal.Decimal,
)

#: what ``subgraph_schema`` hands Strawberry (``scalar_overrides``)
SCALAR_OVERRIDES: Final[dict[object, ScalarDefinition]] = {decimal.Decimal: DECIMAL}
