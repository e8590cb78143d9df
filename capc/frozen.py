"""`@frozen`: a frozen dataclass that costs less to define.

Python 3.11's `dataclass` writes each method it adds as source text and compiles it: six
compilations per frozen class (`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`,
`__delattr__`), plus an `inspect.signature` for the docstring. The syntax tree, the IR, the
types and the registry define about 95 such classes, and every `capc` process paid some
30 ms for them before reading a byte of its policy.

`@frozen` has `dataclass` write only `__init__` (a plain, not a frozen one) and gives the class
the other five made from closures over its field names, compiled once with this module:
`__eq__`, `__hash__` and `__repr__` read the fields with an `operator.attrgetter`, and
`__setattr__` lets each field be set once (by `__init__`) and nothing ever after, raising
`FrozenInstanceError` as a frozen dataclass does; `__delattr__` always raises it. They answer
as the generated ones do: equality between instances of exactly the same class over the
compared fields, a hash over the hashed fields, the dataclass repr. The class is still a
dataclass (`fields`, `replace`, `asdict`, `match` work as before; `__dataclass_params__`
says frozen=False, and nothing in capc reads it). Building an instance costs about 0.1 µs
more per field (the `__setattr__` call), about 3% of the front end's time per policy.
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
    dataclasses.dataclass(eq=False, repr=False)(cls)  # made frozen below
    fields = dataclasses.fields(cls)
    field_names = frozenset(f.name for f in fields)

    def __setattr__(self, name, value, _set=object.__setattr__):
        # __init__ sets each field once; after it, nothing can be set.
        if name not in field_names or name in self.__dict__:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        _set(self, name, value)

    def __delattr__(self, name):
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

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
    for name, method in (("__eq__", __eq__), ("__hash__", __hash__), ("__repr__", __repr__),
                         ("__setattr__", __setattr__), ("__delattr__", __delattr__)):
        if cls.__dict__.get(name) is None:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)
    return cls
