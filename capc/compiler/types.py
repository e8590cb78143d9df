"""The types of the policy language.

Small on purpose: what a tabletop policy computes is numbers, names, xy/xyz vectors, point
arrays, and the containers CaP code builds from them. Arrays carry their shape where it is
known (`None` for a dimension we cannot know statically), which is what lets the checker say
"a 3-vector where an xy is required".
"""

from __future__ import annotations

from capc.frozen import frozen


class Type:
    """Base of all types; subclasses are frozen dataclasses so they compare by value."""

    def show(self) -> str:  # the spelling used in error messages
        return type(self).__name__.lower()

    def __str__(self) -> str:
        return self.show()


@frozen
class Int(Type):
    def show(self) -> str:
        return "int"


@frozen
class Float(Type):
    def show(self) -> str:
        return "float"


@frozen
class Bool(Type):
    def show(self) -> str:
        return "bool"


@frozen
class Str(Type):
    def show(self) -> str:
        return "str"


@frozen
class ObjName(Type):
    """A string that names an object of the scene (what `get_obj_names()` returns)."""

    def show(self) -> str:
        return "object name"


@frozen
class NoneType(Type):
    def show(self) -> str:
        return "None"


@frozen
class Array(Type):
    """A float numpy array. `shape` None = rank unknown; a None dimension = length unknown."""

    shape: tuple[int | None, ...] | None = None

    def show(self) -> str:
        if self.shape == (2,):
            return "xy position (2,)"
        if self.shape == (3,):
            return "xyz position (3,)"
        if self.shape is None:
            return "array"
        dims = ", ".join("N" if d is None else str(d) for d in self.shape)
        return f"array ({dims}{',' if len(self.shape) == 1 else ''})"


@frozen
class ListT(Type):
    elem: Type

    def show(self) -> str:
        return f"list[{self.elem.show()}]"


@frozen
class TupleT(Type):
    elems: tuple[Type, ...]

    def show(self) -> str:
        return "tuple[" + ", ".join(e.show() for e in self.elems) + "]"


@frozen
class DictT(Type):
    key: Type
    value: Type

    def show(self) -> str:
        return f"dict[{self.key.show()}, {self.value.show()}]"


@frozen
class FuncT(Type):
    """A user `def` or a lambda: parameter types (Unknown where not inferred) and result."""

    params: tuple[Type, ...]
    result: Type

    def show(self) -> str:
        return "function(" + ", ".join(p.show() for p in self.params) + f") -> {self.result.show()}"


@frozen
class OneOf(Type):
    """An argument that accepts several types, e.g. an object name or an xy position."""

    options: tuple[Type, ...]

    def show(self) -> str:
        return " or ".join(o.show() for o in self.options)


@frozen
class Geometry(Type):
    """A 2-D shapely geometry (`capc.compiler.lib_shapely`): `kind` is shapely's class name
    ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint"), None for any of them."""

    kind: str | None = None

    def show(self) -> str:
        return self.kind or "geometry"


@frozen
class Unknown(Type):
    """A value whose type we cannot know statically (e.g. the result of a function the LLM
    has not defined yet). Compatible with everything; the verifier treats it as unconstrained."""

    def show(self) -> str:
        return "unknown"


INT, FLOAT, BOOL, STR, OBJNAME, NONE, UNKNOWN = Int(), Float(), Bool(), Str(), ObjName(), NoneType(), Unknown()
XY = Array((2,))
XYZ = Array((3,))
POSITION = OneOf((XY, XYZ))
POINTS = Array((None, None))
POINTS_XY = Array((None, 2))
NUMBER = OneOf((INT, FLOAT))
PLACE = OneOf((OBJNAME, XY, XYZ))  # where a pick/place primitive may be pointed


def is_numeric(t: Type) -> bool:
    return isinstance(t, (Int, Float, Bool, Unknown))


def assignable(value: Type, target: Type) -> bool:
    """May a value of type `value` be passed where `target` is expected?

    Numbers widen (bool → int → float); an object name is a string; sequences of numbers of
    the right length are accepted where an array is expected (CaP code passes tuples and
    lists as positions); unknown shapes are accepted (the verifier and runtime re-check)."""
    if isinstance(value, Unknown) or isinstance(target, Unknown):
        return True
    if isinstance(target, OneOf):
        return any(assignable(value, option) for option in target.options)
    if isinstance(value, OneOf):
        return all(assignable(option, target) for option in value.options)
    if value == target:
        return True
    if isinstance(target, Float):
        return isinstance(value, (Int, Bool))
    if isinstance(target, Int):
        return isinstance(value, Bool)
    if isinstance(target, Str):
        return isinstance(value, ObjName)
    if isinstance(target, ObjName):
        return isinstance(value, Str)  # any string may name an object; the scene decides
    if isinstance(target, Array):
        shape = array_shape_of(value)
        if shape is False:
            return False
        return shapes_compatible(shape, target.shape)
    if isinstance(target, Geometry):
        return isinstance(value, Geometry) and target.kind in (None, value.kind)
    if isinstance(target, ListT) and isinstance(value, ListT):
        return assignable(value.elem, target.elem)
    if isinstance(target, TupleT) and isinstance(value, TupleT):
        return len(value.elems) == len(target.elems) and all(
            assignable(v, t) for v, t in zip(value.elems, target.elems))
    if isinstance(target, DictT) and isinstance(value, DictT):
        return assignable(value.key, target.key) and assignable(value.value, target.value)
    return False


def array_shape_of(t: Type) -> tuple[int | None, ...] | None | bool:
    """The array shape a value would have after `np.array(value)`; False when it cannot be
    an array of floats."""
    if isinstance(t, Array):
        return t.shape
    if isinstance(t, (Int, Float, Bool)):
        return ()
    if isinstance(t, Unknown):
        return None
    if isinstance(t, TupleT):
        inner = [array_shape_of(e) for e in t.elems]
        if any(s is False for s in inner):
            return False
        if not inner:
            return (0,)
        first = inner[0]
        if first is not None and all(s == first for s in inner):
            return (len(inner),) + first
        return None  # ragged or partly unknown: let the runtime decide
    if isinstance(t, ListT):
        inner = array_shape_of(t.elem)
        if inner is False:
            return False
        if inner is None:
            return None
        return (None,) + inner
    return False


def shapes_compatible(actual: tuple[int | None, ...] | None, wanted: tuple[int | None, ...] | None) -> bool:
    if actual is None or wanted is None:
        return True
    if len(actual) != len(wanted):
        return False
    return all(a is None or w is None or a == w for a, w in zip(actual, wanted))


def join(a: Type, b: Type) -> Type:
    """The least type holding both (used for if/else merges and list elements)."""
    if a == b:
        return a
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return UNKNOWN
    if is_numeric(a) and is_numeric(b) and not isinstance(a, Unknown):
        return FLOAT if isinstance(a, Float) or isinstance(b, Float) else INT
    if {type(a), type(b)} == {Str, ObjName}:
        return STR
    if isinstance(a, Array) and isinstance(b, Array):
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            return Array(None)
        return Array(tuple(x if x == y else None for x, y in zip(a.shape, b.shape)))
    if isinstance(a, ListT) and isinstance(b, ListT):
        return ListT(join(a.elem, b.elem))
    if isinstance(a, Geometry) and isinstance(b, Geometry):
        return Geometry(None)
    if isinstance(a, TupleT) and isinstance(b, TupleT) and len(a.elems) == len(b.elems):
        return TupleT(tuple(join(x, y) for x, y in zip(a.elems, b.elems)))
    if isinstance(a, NoneType) or isinstance(b, NoneType):
        return OneOf((a, b)) if not isinstance(a, OneOf) else a
    return OneOf((a, b))
