"""The shapely geometry a policy may use, as Code as Policies gives it to generated code
(`from shapely.geometry import *`, `from shapely.affinity import *`): the constructors
`Point`, `LineString`, `LinearRing`, `Polygon`, `MultiPoint`, `box`, the affine maps `rotate`,
`scale`, `translate`, and the methods and attributes of the geometries they make.

One module holds both halves of each name: its type rule (read by the type checker, with the
shapes of the numpy rules in `capc.compiler.library`) and what it does at run time (the real
shapely, imported on the first call: `capc check` of a policy without geometry never loads
it). The verifier's model of the same names is `capc.safety.sym_shapely`.

Geometry here is 2-D: a z coordinate is refused (by the type rule where the shape is known,
at run time otherwise), so `.coords` are (x, y) pairs everywhere.

At run time `.coords` is a list of (x, y) tuples of Python floats: what indexing, slicing,
`len`, iteration and `np.array(...)` of shapely's coordinate sequence give in CPython.
"""

from __future__ import annotations

import math
from typing import Any

from capc import codes
from capc.compiler.library_records import CallSite, LibFunction, RuleError, shape_of
from capc.compiler.types import (
    BOOL, FLOAT, Array, Bool, Float, Geometry, Int, ListT, Str, TupleT, Type, Unknown, array_shape_of,
)

POINT, LINE, RING, POLYGON, MULTIPOINT = (Geometry(k) for k in (
    "Point", "LineString", "LinearRing", "Polygon", "MultiPoint"))
ANY_GEOMETRY = Geometry(None)
COORDS = ListT(TupleT((FLOAT, FLOAT)))
LINEAR = ("LineString", "LinearRing")
MAX_BUFFER_SEGMENTS = 64  # quad_segs: a buffer's vertices grow with it (and its work with them)


# --- type rules -----------------------------------------------------------------------------

def _geometry(site: CallSite, i: int, kinds: tuple[str, ...] | None = None, what: str = "a geometry") -> Type:
    t = site.type(i)
    if isinstance(t, Unknown):
        return ANY_GEOMETRY if kinds is None or len(kinds) != 1 else Geometry(kinds[0])
    if not isinstance(t, Geometry) or (kinds is not None and t.kind is not None and t.kind not in kinds):
        raise RuleError(f"{site.name}() expects {what} here, got {t.show()}", i, codes.E100,
                        "make one with Point(...), LineString(...), Polygon(...) or box(...)")
    return t


def _number(site: CallSite, i: int | str, t: Type | None) -> None:
    if t is not None and not isinstance(t, (Int, Float, Bool, Unknown)):
        raise RuleError(f"{site.name}() expects a number here, got {t.show()}", i)


def _xy(site: CallSite, i: int, t: Type, what: str = "an xy position") -> None:
    """A point given as numbers: an xy array, a pair, or a Point."""
    if isinstance(t, Geometry):
        if t.kind not in (None, "Point"):
            raise RuleError(f"{site.name}() expects {what} here, got {t.show()}", i)
        return
    shape = array_shape_of(t)
    if shape is False or (shape is not None and len(shape) != 1):
        raise RuleError(f"{site.name}() expects {what} here, got {t.show()}", i)
    if shape and shape[0] is not None and shape[0] != 2:
        raise RuleError(f"{site.name}() expects {what} here, got {t.show()}", i, codes.E104,
                        "geometry is 2-D here: take the x and y of a position with pos[:2]")


def _point(site: CallSite) -> Type:
    if len(site.args) == 1:
        _xy(site, 0, site.type(0))
    else:
        for i in range(len(site.args)):
            _number(site, i, site.type(i))
    return POINT


def _coordinates(site: CallSite, i: int) -> None:
    """A sequence of xy points: an (N, 2) array, a list of pairs or of Points."""
    t = site.type(i)
    if isinstance(t, ListT) and isinstance(t.elem, Geometry):
        if t.elem.kind not in (None, "Point"):
            raise RuleError(f"{site.name}() expects points here, got {t.show()}", i)
        return
    if isinstance(t, Geometry) and site.name in ("Polygon",) and t.kind in (None, "LinearRing"):
        return
    shape = array_shape_of(t)
    if shape is False or (shape is not None and len(shape) != 2):
        raise RuleError(f"{site.name}() expects a sequence of xy points here, got {t.show()}", i, codes.E100,
                        "pass [[x0, y0], [x1, y1], ...] or an (N, 2) array")
    if shape is not None and shape[1] is not None and shape[1] != 2:
        raise RuleError(f"{site.name}() expects xy points, got {t.show()}", i, codes.E104,
                        "geometry is 2-D here: take pts[:, :2]")


def _constructor(kind: Geometry):
    def rule(site: CallSite) -> Type:
        _coordinates(site, 0)
        return kind
    return rule


def _box(site: CallSite) -> Type:
    for i in range(len(site.args)):
        _number(site, i, site.type(i))
    if "ccw" in site.keywords and not isinstance(site.kw_type("ccw"), (Bool, Unknown)):
        raise RuleError("box(): ccw must be True or False", "ccw")
    return POLYGON


def _origin(site: CallSite) -> None:
    expr = site.keywords.get("origin")
    if expr is None and len(site.args) > _ORIGIN_AT.get(site.name, 99):
        expr = site.args[_ORIGIN_AT[site.name]]
    if expr is None:
        return
    if isinstance(expr.type, Str):
        value = site.const(expr)
        if value not in ("center", "centroid"):
            raise RuleError(f"{site.name}(): origin is 'center', 'centroid' or a point", "origin")
        return
    _xy(site, _ORIGIN_AT[site.name], expr.type, "an origin ('center', 'centroid' or a point)")


_ORIGIN_AT = {"rotate": 2, "scale": 4}


def _affine(site: CallSite) -> Type:
    result = _geometry(site, 0)
    for i in range(1, len(site.args)):
        if not (site.name in _ORIGIN_AT and i == _ORIGIN_AT[site.name]) and not (site.name == "rotate" and i == 3):
            _number(site, i, site.type(i))
    for name in ("xfact", "yfact", "zfact", "xoff", "yoff", "zoff"):
        _number(site, name, site.kw_type(name))
    if "use_radians" in site.keywords and not isinstance(site.kw_type("use_radians"), (Bool, Unknown)):
        raise RuleError("rotate(): use_radians must be True or False", "use_radians")
    _origin(site)
    return result


def _interpolate(site: CallSite) -> Type:
    _geometry(site, 0, LINEAR, "a line (LineString or LinearRing)")
    _number(site, 1, site.type(1))
    return POINT


def _project(site: CallSite) -> Type:
    _geometry(site, 0, LINEAR, "a line (LineString or LinearRing)")
    _geometry(site, 1, ("Point",), "a Point")
    return FLOAT


def _buffer(site: CallSite) -> Type:
    _geometry(site, 0)
    _number(site, 1, site.type(1))
    _number(site, "quad_segs", site.kw_type("quad_segs"))
    return POLYGON


def _predicate(site: CallSite) -> Type:
    _geometry(site, 0)
    _geometry(site, 1)
    return BOOL


def _distance(site: CallSite) -> Type:
    _geometry(site, 0)
    _geometry(site, 1)
    return FLOAT


def _combine(site: CallSite) -> Type:
    _geometry(site, 0)
    _geometry(site, 1)
    return ANY_GEOMETRY


def _attribute(result: Type, kinds: tuple[str, ...] | None = None, what: str = "a geometry"):
    def rule(site: CallSite) -> Type:
        _geometry(site, 0, kinds, what)
        return result
    return rule


def _coords(site: CallSite) -> Type:
    t = _geometry(site, 0, ("Point", "LineString", "LinearRing"), "a Point or a line")
    del t
    return COORDS


def _f(name: str, params: tuple[str, ...], min_args: int, rule, doc: str, keywords: tuple[str, ...] = (),
       max_args: int | None = -1, attribute: bool = False) -> LibFunction:
    return LibFunction(name, params, min_args, len(params) if max_args == -1 else max_args, keywords,
                       rule, doc, False, attribute)


# Called by name, as `from shapely.geometry import *` and `from shapely.affinity import *` give them.
GEOMETRY_FUNCTIONS: dict[str, LibFunction] = {f.name: f for f in (
    _f("Point", ("x", "y"), 1, _point, "a point: Point(x, y) or Point(xy)"),
    _f("LineString", ("coordinates",), 1, _constructor(LINE), "a polyline through the points"),
    _f("LinearRing", ("coordinates",), 1, _constructor(RING), "a closed polyline through the points"),
    _f("Polygon", ("shell",), 1, _constructor(POLYGON), "the polygon with these corners"),
    _f("MultiPoint", ("points",), 1, _constructor(MULTIPOINT), "a collection of points"),
    _f("box", ("minx", "miny", "maxx", "maxy"), 4, _box, "the rectangle between two corners", ("ccw",)),
    _f("rotate", ("geom", "angle", "origin", "use_radians"), 2, _affine,
       "the geometry rotated counter-clockwise (degrees unless use_radians=True) about origin"),
    _f("scale", ("geom", "xfact", "yfact", "zfact", "origin"), 1, _affine,
       "the geometry scaled about origin (default 'center', the middle of its bounds)"),
    _f("translate", ("geom", "xoff", "yoff", "zoff"), 1, _affine, "the geometry moved by (xoff, yoff)"),
)}

# Methods and attributes of geometries (METHODS["geometry"] in capc.compiler.library).
GEOMETRY_METHODS: dict[str, LibFunction] = {f.name: f for f in (
    _f("interpolate", ("distance",), 1, _interpolate, "the point at a distance along the line",
       ("normalized",)),
    _f("project", ("other",), 1, _project, "how far along the line the point nearest to other is",
       ("normalized",)),
    _f("buffer", ("distance",), 1, _buffer, "the region within distance of the geometry", ("quad_segs",)),
    _f("contains", ("other",), 1, _predicate, "whether other lies inside (not on the boundary)"),
    _f("within", ("other",), 1, _predicate, "whether this lies inside other"),
    _f("intersects", ("other",), 1, _predicate, "whether the two share a point"),
    _f("disjoint", ("other",), 1, _predicate, "whether the two share no point"),
    _f("distance", ("other",), 1, _distance, "the smallest distance between the two"),
    _f("union", ("other",), 1, _combine, "the points in either"),
    _f("intersection", ("other",), 1, _combine, "the points in both"),
    _f("coords", (), 0, _coords, "the (x, y) coordinates", attribute=True),
    _f("x", (), 0, _attribute(FLOAT, ("Point",), "a Point"), "a point's x", attribute=True),
    _f("y", (), 0, _attribute(FLOAT, ("Point",), "a Point"), "a point's y", attribute=True),
    _f("area", (), 0, _attribute(FLOAT), "the area", attribute=True),
    _f("length", (), 0, _attribute(FLOAT), "the length (perimeter of a polygon)", attribute=True),
    _f("centroid", (), 0, _attribute(POINT), "the centre of mass", attribute=True),
    _f("exterior", (), 0, _attribute(RING, ("Polygon",), "a Polygon"), "a polygon's outline",
       attribute=True),
    _f("bounds", (), 0, _attribute(TupleT((FLOAT, FLOAT, FLOAT, FLOAT))), "(minx, miny, maxx, maxy)",
       attribute=True),
)}
GEOMETRY_PROPERTIES = tuple(n for n, f in GEOMETRY_METHODS.items() if f.attribute)


# --- run time -------------------------------------------------------------------------------

def is_geometry(value: Any) -> bool:
    """A shapely geometry (tested without importing shapely: none exists before it is loaded)."""
    return type(value).__module__.startswith("shapely.")


def _shapely():
    import shapely.affinity
    import shapely.geometry

    return shapely


_FUNCTION_KEYWORDS = {
    "Point": (), "LineString": (), "LinearRing": (), "Polygon": (), "MultiPoint": (), "box": ("ccw",),
    "rotate": ("origin", "use_radians"), "scale": ("xfact", "yfact", "zfact", "origin"),
    "translate": ("xoff", "yoff", "zoff"),
}
_METHOD_KEYWORDS = {"interpolate": ("normalized",), "project": ("normalized",), "buffer": ("quad_segs",)}


def _fault(interp: Any, message: str, span: Any) -> Exception:
    from capc.compiler.interpreter.values import E_POLICY_ERROR, RuntimeStop

    return RuntimeStop(E_POLICY_ERROR, message, span)


def _size(value: Any) -> int:
    """Coordinates a geometry holds (what an operation on it walks)."""
    if is_geometry(value):
        import shapely

        return int(shapely.get_num_coordinates(value))
    if isinstance(value, (list, tuple)):
        return sum(_size(v) if isinstance(v, (list, tuple)) or is_geometry(v) else 1 for v in value)
    size = getattr(value, "size", None)
    return int(size) if isinstance(size, int) else 1


def _check_args(interp: Any, what: str, args: list, kwargs: dict, allowed: tuple[str, ...], span: Any) -> None:
    bad = set(kwargs) - set(allowed)
    if bad:
        raise _fault(interp, f"{what} does not take keyword '{sorted(bad)[0]}' here", span)
    work = sum(_size(a) for a in list(args) + list(kwargs.values()))
    interp.guard.length(work, f"the coordinates given to {what}", span, lower_bound=True)
    interp.charge(1 + work, span)
    for value in list(args) + list(kwargs.values()):
        if callable(value) and not is_geometry(value):
            raise _fault(interp, f"{what} cannot take a function", span)


def _result(interp: Any, what: str, value: Any, span: Any) -> Any:
    if is_geometry(value):
        if value.has_z:
            raise _fault(interp, f"{what} made a 3-D geometry; geometry is 2-D here", span)
        n = _size(value)
        interp.guard.length(n, f"the result of {what}", span)
        interp.charge(n, span)
        return value
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return float(value)
    if isinstance(value, tuple):
        return tuple(float(v) for v in value)
    return value


def call_function(interp: Any, name: str, args: list, kwargs: dict, span: Any) -> Any:
    """`Point(...)`, `rotate(...)`, ...: the real shapely function, with the interpreter's guards."""
    if name not in GEOMETRY_FUNCTIONS:
        raise _fault(interp, f"'{name}' is not a geometry function available to policies", span)
    fn_info = GEOMETRY_FUNCTIONS[name]
    if not fn_info.min_args <= len(args) <= (fn_info.max_args or len(args)):
        raise _fault(interp, f"{name}() takes {fn_info.min_args} to {fn_info.max_args} positional "
                             f"argument(s) here, got {len(args)}", span)
    _check_args(interp, f"{name}()", args, kwargs, _FUNCTION_KEYWORDS[name], span)
    shapely = _shapely()
    module = shapely.affinity if name in ("rotate", "scale", "translate") else shapely.geometry
    if name in ("rotate", "scale", "translate") and not is_geometry(args[0]):
        raise _fault(interp, f"{name}() expects a geometry, got {type(args[0]).__name__}", span)
    try:
        result = getattr(module, name)(*args, **kwargs)
    except Exception as exc:  # shapely and GEOS errors are the policy's (bad coordinates, ...)
        raise _fault(interp, f"{name}() failed: {exc}", span) from None
    return _result(interp, f"{name}()", result, span)


def call_method(interp: Any, name: str, receiver: Any, args: list, kwargs: dict, span: Any) -> Any:
    """`line.interpolate(...)`, `poly.area`, ...: the real shapely method or attribute."""
    info = GEOMETRY_METHODS.get(name)
    if info is None:
        raise _fault(interp, f"a {type(receiver).__name__} has no method '{name}' available to policies", span)
    if not info.min_args <= len(args) <= (info.max_args or 0):
        raise _fault(interp, f".{name}() takes {info.max_args} positional argument(s) here, got {len(args)}",
                     span)
    _check_args(interp, f".{name}()", [receiver] + list(args), kwargs, _METHOD_KEYWORDS.get(name, ()), span)
    if name == "buffer":
        segments = kwargs.get("quad_segs", 16)
        if not isinstance(segments, int) or not 1 <= segments <= MAX_BUFFER_SEGMENTS:
            raise _fault(interp, f".buffer(): quad_segs is an integer from 1 to {MAX_BUFFER_SEGMENTS}", span)
    for other in args[:1]:
        if name not in ("interpolate", "buffer") and not is_geometry(other):
            raise _fault(interp, f".{name}() expects a geometry, got {type(other).__name__}", span)
    try:
        if info.attribute:
            value = getattr(receiver, name)
            if name == "coords":
                return [tuple(float(v) for v in c) for c in value]
            return _result(interp, f".{name}", value, span)
        if name in ("interpolate", "buffer"):
            distance = args[0]
            if not isinstance(distance, (int, float)) and type(distance).__module__ != "numpy":
                raise _fault(interp, f".{name}() expects a number, got {type(distance).__name__}", span)
            if not math.isfinite(float(distance)):
                raise _fault(interp, f".{name}() of a distance that is not finite", span)
        result = getattr(receiver, name)(*args, **kwargs)
    except (AttributeError, NotImplementedError) as exc:
        raise _fault(interp, f".{name} is not defined for a {type(receiver).__name__}: {exc}", span) from None
    except Exception as exc:
        if type(exc).__name__ == "RuntimeStop":
            raise
        raise _fault(interp, f".{name}() failed: {exc}", span) from None
    return _result(interp, f".{name}()", result, span)
