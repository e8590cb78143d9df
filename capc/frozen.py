"""`@frozen`: a frozen dataclass that costs less to define.

Python 3.11's `dataclass` writes each method it adds as source text and compiles it: six
compilations per frozen class (`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`,
`__delattr__`), plus an `inspect.signature` for the docstring. The syntax tree and the IR
define 76 such classes, and every `capc` process paid about 40 ms for them before reading a
byte of its policy.

`@frozen` lets `dataclass` write `__init__` (built per call, in the parser's hot loop) and the
frozen `__setattr__`/`__delattr__`, and gives the class `__eq__`, `__hash__` and `__repr__`
made from an `operator.attrgetter` over its fields instead of compiled text. They answer as
the generated ones do: equality between instances of exactly the same class over the
compared fields, a hash over the hashed fields, the dataclass repr. The class is still a
frozen dataclass: `fields`, `replace`, `asdict` and `match` work as before.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any, Callable, TypeVar

C = TypeVar("C", bound=type)


def _values_of(names: list[str]) -> Callable[[Any], tuple]:
    """The tuple of these attributes of an object (always a tuple, even for one name)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return attrgetter(*names)


def frozen(cls: C) -> C:
    if cls.__dict__.get("__doc__") is None:
        cls.__doc__ = cls.__name__  # set below; spares dataclass its inspect.signature
        undocumented = True
    else:
        undocumented = False
    dataclasses.dataclass(frozen=True, eq=False, repr=False)(cls)
    fields = dataclasses.fields(cls)
    if undocumented:
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in fields)})"
    compared = _values_of([f.name for f in fields if f.compare])
    hashed = _values_of([f.name for f in fields if (f.compare if f.hash is None else f.hash)])
    shown = [f.name for f in fields if f.repr]

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self):
        return hash(hashed(self))

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    # A method the class body defines itself stays, as with dataclass. (A body that defines
    # __eq__ alone leaves __hash__ = None in the class dict: that counts as not defined.)
    for name, method in (("__eq__", __eq__), ("__hash__", __hash__), ("__repr__", __repr__)):
        if cls.__dict__.get(name) is None:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)
    return cls
