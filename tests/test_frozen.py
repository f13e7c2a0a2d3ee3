"""``quick_init``: a frozen dataclass made by it behaves as the dataclass's own ``__init__``
makes it, for every way of calling it, and stays frozen."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import InitVar, dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.frozen import quick_init
from connector.model import Contact, ContactFields, RawPhone, SourceRecord
from connector.reconcile.plan import Candidate, PlanItem, SourceRef


def _pair(**options: Any) -> tuple[type, type]:
    """The same class twice: as the dataclass makes it, and with ``quick_init``."""

    def make() -> type:
        @dataclass(frozen=True, slots=True, **options)
        class Value:
            first: str
            second: int = 2
            third: tuple[str, ...] = ()
            fourth: list[int] = field(default_factory=list)
            fifth: str = field(default="5", kw_only=True)
            checked: list[str] = field(default_factory=list, compare=False, repr=False)

            def __post_init__(self) -> None:
                if self.first == "bad":
                    raise ValueError("first may not be bad")
                self.checked.append(self.first)

        return Value

    return make(), quick_init(make())


calls = st.tuples(
    st.text(max_size=5),
    st.one_of(st.none(), st.integers()),
    st.one_of(st.none(), st.tuples(st.text(max_size=3))),
    st.one_of(st.none(), st.lists(st.integers(), max_size=3)),
    st.one_of(st.none(), st.text(max_size=3)),
    st.booleans(),
)


@given(calls)
def test_same_values_as_the_dataclass_makes(call: tuple[Any, ...]) -> None:
    first, second, third, fourth, fifth, by_keyword = call
    plain, quick = _pair()
    # Positional up to the first missing value, as a caller could.
    positional: list[Any] = [first]
    for value in (second, third, fourth):
        if value is None:
            break
        positional.append(value)
    keywords = {"fifth": fifth} if fifth is not None else {}
    if by_keyword:
        values = {"first": first, "second": second, "third": third, "fourth": fourth}
        given_values = {name: v for name, v in values.items() if v is not None}
        made = [cls(**given_values, **keywords) for cls in (plain, quick)]
    else:
        made = [cls(*positional, **keywords) for cls in (plain, quick)]
    assert dataclasses.astuple(made[0]) == dataclasses.astuple(made[1])
    assert repr(made[0]) == repr(made[1])
    assert made[0].checked == made[1].checked == [first]  # __post_init__ ran once


def test_each_default_factory_gives_a_new_object() -> None:
    _, quick = _pair()
    one, two = quick("a"), quick("b")
    assert one.fourth == two.fourth == [] and one.fourth is not two.fourth


def test_errors_as_the_dataclass_raises_them() -> None:
    plain, quick = _pair()
    for cls in (plain, quick):
        with pytest.raises(ValueError, match="may not be bad"):
            cls("bad")
        with pytest.raises(TypeError):
            cls()  # a required field missing
        with pytest.raises(TypeError):
            cls("a", 2, (), [], [], "5")  # a keyword-only field given by position
        with pytest.raises(TypeError):
            cls("a", sixth=6)


def test_stays_frozen_hashable_and_picklable() -> None:
    item = PlanItem("add", after=ContactFields("Ann", "+441632960000"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.action = "delete"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del item.id  # type: ignore[misc]
    assert hash(item) == hash(PlanItem("add", after=ContactFields("Ann", "+441632960000")))
    assert pickle.loads(pickle.dumps(item)) == item
    assert dataclasses.replace(item, id="7").id == "7"
    with pytest.raises(ValueError, match="unknown action"):
        PlanItem("bogus")  # the class's own __post_init__ still runs


@pytest.mark.parametrize(
    "cls", [ContactFields, Contact, RawPhone, SourceRecord, SourceRef, Candidate, PlanItem]
)
def test_the_project_classes_keep_their_signatures(cls: type) -> None:
    fields = [f.name for f in dataclasses.fields(cls)]
    assert list(inspect.signature(cls).parameters) == fields
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"


def test_refuses_what_it_cannot_speak_for() -> None:
    @dataclass(slots=True)
    class Thawed:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Hidden:
        a: int
        b: int = field(default=0, init=False)

    @dataclass(frozen=True, slots=True)
    class Passed:
        a: int
        b: InitVar[int]

    for cls in (Thawed, NoSlots, Hidden, Passed):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)
