"""to_raw keeps "absent" apart from "null" and turns nested inputs and enums into plain values."""

from __future__ import annotations

import enum

import strawberry

from crm_common.graphql.inputs import to_raw


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Inner:
    colour: Colour
    note: str | None = strawberry.UNSET


@strawberry.input
class Outer:
    name: str | None = strawberry.UNSET
    cleared: str | None = strawberry.UNSET
    inner: Inner | None = strawberry.UNSET
    items: list[Inner] | None = strawberry.UNSET
    colours: list[Colour] | None = strawberry.UNSET


def test_to_raw() -> None:
    raw = to_raw(Outer(cleared=None, inner=Inner(colour=Colour.RED),
                       items=[Inner(colour=Colour.BLUE, note="x")],
                       colours=[Colour.RED, Colour.BLUE]))
    assert raw == {"cleared": None, "inner": {"colour": "red"},
                   "items": [{"colour": "blue", "note": "x"}], "colours": ["red", "blue"]}
