"""`capc.frozen.frozen` behaves as `dataclass(frozen=True)` does, on the same declarations."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import FrozenInstanceError, dataclass, field

import pytest

from capc.compiler import ir, types
from capc.frozen import frozen
from capc.grammar import ast


def _declare(decorate):
    @decorate
    class Base:
        span: object
        depth: int = field(default=1, kw_only=True, compare=False, repr=False)

    @decorate
    class Leaf(Base):
        name: str
        extra: dict = field(default_factory=dict, compare=False, hash=False)
        parts: tuple = ()

    @decorate
    class Empty:
        pass

    return Base, Leaf, Empty


OURS, REFERENCE = _declare(frozen), _declare(dataclass(frozen=True))


def _make(kind):
    base, leaf, empty = kind
    return [leaf("s", "a", {"k": 1}, (1, 2), depth=3), leaf("s", "a", {}, (1, 2)),
            leaf("s", "b"), base("s"), base("s", depth=9), empty(), empty()]


def test_equality_hash_and_repr_match_dataclass():
    ours, reference = _make(OURS), _make(REFERENCE)
    for i, (a, ra) in enumerate(zip(ours, reference)):
        assert repr(a).replace("Leaf", "X") == repr(ra).replace("Leaf", "X")
        for b, rb in zip(ours, reference):
            assert (a == b) == (ra == rb), (a, b)
            if ra == rb:
                assert hash(a) == hash(b)
    assert ours[0] == ours[1] and hash(ours[0]) == hash(ours[1])  # compare=False, hash=False
    assert ours[3] == ours[4]                                     # depth is not compared
    assert ours[3] != ours[0]                                     # another class, never equal


def test_instances_are_frozen():
    leaf = _make(OURS)[0]
    for statement in (lambda: setattr(leaf, "name", "z"), lambda: setattr(leaf, "new", 1),
                      lambda: delattr(leaf, "name"), lambda: setattr(leaf, "depth", 0)):
        with pytest.raises(FrozenInstanceError):
            statement()
    assert leaf.name == "a" and not hasattr(leaf, "new")


def test_dataclass_tools_still_work():
    base, leaf, _ = OURS
    item = leaf("s", "a", parts=(1,))
    assert [f.name for f in dataclasses.fields(leaf)] == ["span", "depth", "name", "extra", "parts"]
    assert dataclasses.replace(item, name="b") == leaf("s", "b", parts=(1,))
    assert dataclasses.asdict(item)["parts"] == (1,)
    assert copy.deepcopy(item) == item and copy.copy(item) == item
    assert leaf.__match_args__ == ("span", "name", "extra", "parts")
    match item:
        case leaf(_, "a"):
            pass
        case _:
            pytest.fail("match by position")


def test_the_ir_the_ast_and_the_types_are_frozen():
    for value in (ir.Name(None, types.Int(), "x"), ast.Name(None, "x"), types.Array((2,))):
        first = dataclasses.fields(value)[0].name
        with pytest.raises(FrozenInstanceError):
            setattr(value, first, None)
        assert value == copy.copy(value) and hash(value) == hash(copy.copy(value))
