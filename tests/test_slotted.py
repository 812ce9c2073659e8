"""The fast constructor builds the same frozen records as the dataclass's own."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from smsc.routing.numbers import Destination
from smsc.slotted import slot_constructor


def test_same_object_as_the_dataclass_constructor() -> None:
    make = slot_constructor(Destination)
    made = make("380671234567", 380, "UA", "380", "mobile", ("Europe/Kyiv",))
    built = Destination(
        number="380671234567",
        country_code=380,
        region="UA",
        prefix="380",
        line_type="mobile",
        time_zones=("Europe/Kyiv",),
    )
    assert made == built
    assert hash(made) == hash(built)
    assert repr(made) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.number = "1"  # type: ignore[misc]


def test_refuses_classes_it_cannot_build() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="slotted dataclass"):
        slot_constructor(NoSlots)
    with pytest.raises(TypeError, match="__post_init__"):
        slot_constructor(Checked)
