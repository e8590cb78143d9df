"""The verifier's model of the shapely geometry of `capc.compiler.lib_shapely`.

As everywhere in the executor, when nothing involved depends on the world the REAL shapely
runs (through the runtime's interpreter, with its guards). When a coordinate does, the
geometry is a `SymGeom`:

* exactly, by its vertices (Z3 terms and floats), where the operation is linear in them:
  the constructors, `.coords`, `.x`, `.y`, `.exterior`, `.bounds`, `translate`, and `rotate` /
  `scale` by known amounts (the same cos/sin constants shapely computes), `interpolate` on a
  segment at a known fraction, the centroid of a point, a box or a multipoint;
* otherwise by a box that holds every point of it (`lo`, `hi`): sound over-approximations
  that still prove what lies clearly inside. A point interpolated on a line lies in the
  bounding box of its vertices; a buffer grows the bounds by its distance; the centroid of a
  line lies in its bounding box; a rotation of an approximated geometry rotates the corners
  of its box.

What neither decides abandons the path (the motions after it are guarded by the runtime
monitor), never guesses: coordinates of a buffer, the area of an approximated shape, a
predicate on shapes whose boxes overlap unless both are boxes or points. An approximation
can make a counterexample that the concrete replay does not confirm; the verifier reports
such an obligation unknown (guarded), not violated.
"""

from __future__ import annotations

import math
from typing import Any

import z3

from capc.compiler import lib_shapely
from capc.diagnostics import Span
from capc.safety.symvalues import Abandon, PolicyFault, SymbolicValue, box, has_sym, opaque_check, scalar, sym_sqrt
from capc.safety.z3util import as_real, conj, disj, is_sym, sym_max, sym_min

Pair = tuple[Any, Any]


class SymGeom(SymbolicValue):
    """A geometry whose coordinates depend on the world. `vertices` are exact (None: only the
    box is known); `rect` marks an axis-aligned box (from `box(...)`), `disc` a buffer of a
    point (its centre and radius); `tight` says the box is the geometry's bounds, not only a
    box around it (always so with exact vertices; for a buffer of a point, whose polygon has
    vertices at the angles 0, 90, 180 and 270 degrees)."""

    __slots__ = ("kind", "vertices", "lo", "hi", "rect", "disc", "tight")

    def __init__(self, kind: str, vertices: tuple[Pair, ...] | None, lo: Pair, hi: Pair, *,
                 rect: bool = False, disc: tuple[Pair, Any] | None = None, tight: bool = False):
        self.kind, self.vertices, self.lo, self.hi, self.rect, self.disc = kind, vertices, lo, hi, rect, disc
        self.tight = tight or vertices is not None

    def __repr__(self) -> str:
        return f"<{self.kind} depending on the world>"


def is_geometry(value: Any) -> bool:
    return isinstance(value, SymGeom) or lib_shapely.is_geometry(value)


def _exact(kind: str, vertices: list[Pair], *, rect: bool = False) -> SymGeom:
    xs, ys = [v[0] for v in vertices], [v[1] for v in vertices]
    lo = (_fold(sym_min, xs), _fold(sym_min, ys))
    hi = (_fold(sym_max, xs), _fold(sym_max, ys))
    return SymGeom(kind, tuple(vertices), lo, hi, rect=rect)


def _fold(fn, values: list) -> Any:
    out = values[0]
    for v in values[1:]:
        out = fn(out, v)
    return out


def _symbolic(value: Any) -> bool:
    return isinstance(value, SymGeom) or has_sym(value)


def _lift(value: Any, span: Span) -> SymGeom:
    """A real shapely geometry (all known) as a SymGeom with its exact vertices."""
    if isinstance(value, SymGeom):
        return value
    kind = type(value).__name__
    if value.is_empty:
        raise Abandon("an empty geometry next to values that depend on the world is not modelled", span)
    if kind in ("Point", "LineString", "LinearRing"):
        return _exact(kind, [tuple(c[:2]) for c in value.coords])
    if kind == "Polygon" and not value.interiors:
        return _exact(kind, [tuple(c[:2]) for c in value.exterior.coords])
    if kind == "MultiPoint":
        return _exact(kind, [tuple(g.coords[0][:2]) for g in value.geoms])
    raise Abandon(f"a {kind} next to values that depend on the world is not modelled", span)


def _points(ex, value: Any, span: Span) -> list[Pair]:
    """A sequence of xy points (array, list of pairs, list of Points) as a list of pairs."""
    if isinstance(value, SymGeom) or lib_shapely.is_geometry(value):
        geom = _lift(value, span)
        if geom.kind != "LinearRing" or geom.vertices is None:
            raise Abandon(f"a {geom.kind} as coordinates is not modelled", span)
        return list(geom.vertices)
    if isinstance(value, (list, tuple)) and value and all(is_geometry(v) for v in value):
        return [_xy(ex, v, span) for v in value]
    arr = box(value)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise PolicyFault(f"expected xy points, got an array of shape {arr.shape}", span)
    return [(scalar(r[0]), scalar(r[1])) for r in arr]


def _xy(ex, value: Any, span: Span) -> Pair:
    if is_geometry(value):
        geom = _lift(value, span)
        if geom.kind != "Point" or geom.vertices is None:
            if geom.kind == "Point":
                return _fresh_point_in(ex, geom.lo, geom.hi)
            raise PolicyFault(f"expected a point, got a {geom.kind}", span)
        return geom.vertices[0]
    arr = box(value)
    if arr.shape != (2,):
        raise PolicyFault(f"expected an xy point, got shape {arr.shape}", span)
    return scalar(arr[0]), scalar(arr[1])


def _num(value: Any, span: Span) -> Any:
    value = scalar(value)
    if isinstance(value, z3.BoolRef):
        return as_real(value)
    if not (is_sym(value) or isinstance(value, (int, float))):
        raise PolicyFault(f"expected a number, got {type(value).__name__}", span)
    return value


def _known(value: Any, what: str, span: Span) -> float:
    value = _num(value, span)
    if is_sym(value):
        raise Abandon(f"{what} that depends on the world is not modelled", span)
    return float(value)


def _fresh_point_in(ex, lo: Pair, hi: Pair) -> Pair:
    """A fresh point constrained to the box [lo, hi]."""
    out = []
    for axis, (a, b) in zip("xy", zip(lo, hi)):
        low = ex.interval(a)[0] if is_sym(a) else float(a)
        high = ex.interval(b)[1] if is_sym(b) else float(b)
        v = ex.fresh(f"geom_{axis}", low, high)
        ex.define(conj([v >= as_real(a), v <= as_real(b)]))
        out.append(v)
    return out[0], out[1]


def _approx(kind: str, lo: Pair, hi: Pair, **extra) -> SymGeom:
    return SymGeom(kind, None, lo, hi, **extra)


# --- constructors and affine maps -------------------------------------------------------------

def call_function(ex, name: str, args: list, kwargs: dict, span: Span) -> Any:
    for value in list(args) + list(kwargs.values()):
        opaque_check(value, span)
    if not any(_symbolic(a) for a in list(args) + list(kwargs.values())):
        return ex.concrete.geometry(name, None, args, kwargs, span)
    ex.concrete.charge(1 + len(args), span)
    handler = _FUNCTIONS.get(name)
    if handler is None:
        raise Abandon(f"{name}() on values that depend on the world is not modelled", span)
    return handler(ex, args, kwargs, span)


def _point(ex, args, kwargs, span):
    if len(args) == 1:
        return _exact("Point", [_xy(ex, args[0], span)])
    if len(args) != 2:
        raise Abandon("a 3-D Point is not modelled", span)
    return _exact("Point", [(_num(args[0], span), _num(args[1], span))])


def _polyline(kind: str):
    def make(ex, args, kwargs, span):
        pts = _points(ex, args[0], span)
        if kind in ("LineString",) and len(pts) == 1:
            raise PolicyFault("LineStrings must have at least 2 coordinate tuples", span)
        if not pts:
            raise Abandon(f"an empty {kind} is not modelled", span)
        if kind in ("LinearRing", "Polygon"):
            first, last = pts[0], pts[-1]
            closed = conj([as_real(first[0]) == as_real(last[0]), as_real(first[1]) == as_real(last[1])]) \
                if (is_sym(first[0]) or is_sym(first[1]) or is_sym(last[0]) or is_sym(last[1])) \
                else (first == last)
            if not ex.branch(closed, span):
                pts = pts + [first]
            if len(pts) < 4:
                raise PolicyFault("A linearring requires at least 4 coordinates", span)
        return _exact(kind, pts)
    return make


def _box(ex, args, kwargs, span):
    minx, miny, maxx, maxy = (_num(a, span) for a in args[:4])
    ccw = kwargs.get("ccw", True)
    if is_sym(ccw):
        raise Abandon("box(ccw=...) that depends on the world", span)
    if ccw:
        corners = [(maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny), (maxx, miny)]
    else:
        corners = [(minx, miny), (minx, maxy), (maxx, maxy), (maxx, miny), (minx, miny)]
    return _exact("Polygon", corners, rect=True)


def _origin(ex, geom: SymGeom, origin: Any, span: Span) -> Pair:
    if isinstance(origin, str):
        if origin == "center":
            if geom.vertices is None:
                raise Abandon("the centre of an approximated geometry is not modelled", span)
            return (as_real(geom.lo[0]) + as_real(geom.hi[0])) / 2, (as_real(geom.lo[1]) + as_real(geom.hi[1])) / 2
        if origin == "centroid":
            return _xy(ex, _centroid(ex, geom, span), span)
        raise PolicyFault(f"origin {origin!r} is not 'center', 'centroid' or a point", span)
    return _xy(ex, origin, span)


def _map(ex, geom: SymGeom, matrix: tuple, span: Span) -> SymGeom:
    """The affine map x' = a x + b y + xoff, y' = d x + e y + yoff (known a, b, d, e)."""
    a, b, d, e, xoff, yoff = matrix

    def f(p: Pair) -> Pair:
        return a * p[0] + b * p[1] + xoff, d * p[0] + e * p[1] + yoff

    if geom.vertices is not None:
        return _exact(geom.kind, [f(p) for p in geom.vertices], rect=geom.rect and b == 0 and d == 0)
    corners = [f((x, y)) for x in (geom.lo[0], geom.hi[0]) for y in (geom.lo[1], geom.hi[1])]
    bounds = _exact("MultiPoint", corners)
    disc = None
    if geom.disc is not None and a == e and b == -d:  # a rotation keeps a disc a disc
        disc = (f(geom.disc[0]), geom.disc[1])
    # an axis-aligned map keeps the extreme vertices extreme: tight bounds stay tight
    return _approx(geom.kind, bounds.lo, bounds.hi, disc=disc, tight=geom.tight and b == 0 and d == 0)


def _affine_args(name: str, args: list, kwargs: dict) -> dict:
    params = lib_shapely.GEOMETRY_FUNCTIONS[name].params
    bound = dict(zip(params, args))
    bound.update(kwargs)
    return bound


def _rotate(ex, args, kwargs, span):
    p = _affine_args("rotate", args, kwargs)
    geom = _lift(p["geom"], span)
    angle = _known(p["angle"], "a rotation angle", span)
    if not p.get("use_radians", False):
        angle = angle * math.pi / 180.0
    cosp, sinp = math.cos(angle), math.sin(angle)
    cosp = 0.0 if abs(cosp) < 2.5e-16 else cosp  # as shapely.affinity.rotate rounds them
    sinp = 0.0 if abs(sinp) < 2.5e-16 else sinp
    x0, y0 = _origin(ex, geom, p.get("origin", "center"), span)
    return _map(ex, geom, (cosp, -sinp, sinp, cosp, x0 - x0 * cosp + y0 * sinp, y0 - x0 * sinp - y0 * cosp), span)


def _scale(ex, args, kwargs, span):
    p = _affine_args("scale", args, kwargs)
    geom = _lift(p["geom"], span)
    xf = _known(p.get("xfact", 1.0), "a scale factor", span)
    yf = _known(p.get("yfact", 1.0), "a scale factor", span)
    x0, y0 = _origin(ex, geom, p.get("origin", "center"), span)
    out = _map(ex, geom, (xf, 0.0, 0.0, yf, x0 - x0 * xf, y0 - y0 * yf), span)
    if geom.disc is not None and xf == yf:
        out.disc = ((xf * geom.disc[0][0] + x0 - x0 * xf, yf * geom.disc[0][1] + y0 - y0 * yf),
                    abs(xf) * geom.disc[1])
    elif geom.disc is not None:
        out.disc = None
    return out


def _translate(ex, args, kwargs, span):
    p = _affine_args("translate", args, kwargs)
    geom = _lift(p["geom"], span)
    dx, dy = _num(p.get("xoff", 0.0), span), _num(p.get("yoff", 0.0), span)
    if geom.vertices is not None:
        return _exact(geom.kind, [(x + dx, y + dy) for x, y in geom.vertices], rect=geom.rect)
    disc = None if geom.disc is None else ((geom.disc[0][0] + dx, geom.disc[0][1] + dy), geom.disc[1])
    return _approx(geom.kind, (geom.lo[0] + dx, geom.lo[1] + dy), (geom.hi[0] + dx, geom.hi[1] + dy), disc=disc,
                   tight=geom.tight)


_FUNCTIONS = {
    "Point": _point, "LineString": _polyline("LineString"), "LinearRing": _polyline("LinearRing"),
    "Polygon": _polyline("Polygon"), "MultiPoint": _polyline("MultiPoint"), "box": _box,
    "rotate": _rotate, "scale": _scale, "translate": _translate,
}


# --- methods and attributes -------------------------------------------------------------------

def call_method(ex, name: str, receiver: Any, args: list, kwargs: dict, span: Span) -> Any:
    for value in list(args) + list(kwargs.values()):
        opaque_check(value, span)
    if not _symbolic(receiver) and not any(_symbolic(a) for a in list(args) + list(kwargs.values())):
        return ex.concrete.geometry(name, receiver, args, kwargs, span)
    ex.concrete.charge(1 + len(args), span)
    handler = _METHODS.get(name)
    if handler is None:
        raise Abandon(f".{name} of a geometry that depends on the world is not modelled", span)
    return handler(ex, _lift(receiver, span), args, kwargs, span)


def _need_vertices(geom: SymGeom, what: str, span: Span) -> tuple[Pair, ...]:
    if geom.vertices is None:
        raise Abandon(f"{what} of an approximated geometry (a buffer, a point on a line) is not modelled", span)
    return geom.vertices


def _coords(ex, geom, args, kwargs, span):
    if geom.kind not in ("Point", "LineString", "LinearRing"):
        raise PolicyFault(f"a {geom.kind} has no .coords", span)
    if geom.vertices is None and geom.kind == "Point":
        return [_fresh_point_in(ex, geom.lo, geom.hi)]
    return [tuple(p) for p in _need_vertices(geom, ".coords", span)]


def _coordinate(i: int):
    def get(ex, geom, args, kwargs, span):
        if geom.kind != "Point":
            raise PolicyFault(f"a {geom.kind} has no .{'xy'[i]}", span)
        if geom.vertices is None:
            return _fresh_point_in(ex, geom.lo, geom.hi)[i]
        return geom.vertices[0][i]
    return get


def _exterior(ex, geom, args, kwargs, span):
    if geom.kind != "Polygon":
        raise PolicyFault(f"a {geom.kind} has no .exterior", span)
    if geom.vertices is None:
        return _approx("LinearRing", geom.lo, geom.hi)
    return SymGeom("LinearRing", geom.vertices, geom.lo, geom.hi, rect=geom.rect)


def _bounds(ex, geom, args, kwargs, span):
    if geom.tight:
        return (geom.lo[0], geom.lo[1], geom.hi[0], geom.hi[1])
    lo = _fresh_point_in(ex, geom.lo, geom.hi)
    hi = _fresh_point_in(ex, geom.lo, geom.hi)
    ex.define(conj([lo[0] <= hi[0], lo[1] <= hi[1]]))
    return (lo[0], lo[1], hi[0], hi[1])


def _centroid(ex, geom, span):
    if geom.kind == "Point" and geom.vertices is not None:
        return geom
    if geom.rect:
        return _exact("Point", [((as_real(geom.lo[0]) + as_real(geom.hi[0])) / 2,
                                 (as_real(geom.lo[1]) + as_real(geom.hi[1])) / 2)])
    if geom.kind == "MultiPoint" and geom.vertices is not None:
        n = len(geom.vertices)
        return _exact("Point", [(sum(as_real(p[0]) for p in geom.vertices) / n,
                                 sum(as_real(p[1]) for p in geom.vertices) / n)])
    if geom.disc is not None:
        return _exact("Point", [geom.disc[0]])
    if geom.kind in ("LineString", "LinearRing") or (geom.kind == "Point"):
        # a length-weighted mean of segment midpoints (or the mean of the vertices for a
        # line of length 0): inside the box of the vertices; one fresh point, read consistently
        return _exact("Point", [_fresh_point_in(ex, geom.lo, geom.hi)])
    raise Abandon("the centroid of a polygon that depends on the world is not modelled "
                  "(a self-crossing outline can put it outside the shape)", span)


def _centroid_method(ex, geom, args, kwargs, span):
    return _centroid(ex, geom, span)


def _interpolate(ex, geom, args, kwargs, span):
    if geom.kind not in ("LineString", "LinearRing"):
        raise PolicyFault(f"a {geom.kind} cannot be interpolated", span)
    distance = _num(args[0], span)
    normalized = kwargs.get("normalized", False)
    if is_sym(normalized):
        raise Abandon("interpolate(normalized=...) that depends on the world", span)
    vertices = geom.vertices
    if vertices is not None and len(vertices) == 2 and normalized and not is_sym(distance):
        t = float(distance)
        t = max(0.0, 1.0 + t) if t < 0 else min(t, 1.0)  # shapely counts a negative one from the end
        (ax, ay), (bx, by) = vertices
        return _exact("Point", [(ax + t * (as_real(bx) - as_real(ax)), ay + t * (as_real(by) - as_real(ay)))])
    # a point on the line lies in the box of its vertices
    return _exact("Point", [_fresh_point_in(ex, geom.lo, geom.hi)])


def _project(ex, geom, args, kwargs, span):
    if geom.kind not in ("LineString", "LinearRing"):
        raise PolicyFault(f"a {geom.kind} cannot project", span)
    normalized = kwargs.get("normalized", False)
    if is_sym(normalized):
        raise Abandon("project(normalized=...) that depends on the world", span)
    return ex.fresh("projected", 0.0, 1.0 if normalized else None)


def _buffer(ex, geom, args, kwargs, span):
    distance = _num(args[0], span)
    segments = kwargs.get("quad_segs", 16)
    if is_sym(segments) or not isinstance(segments, int) or not 1 <= segments <= lib_shapely.MAX_BUFFER_SEGMENTS:
        raise Abandon("buffer(quad_segs=...) out of range or depending on the world", span)
    if not ex.branch(as_real(distance) > 0, span):
        raise Abandon("a buffer by a distance that is not positive is not modelled", span)
    lo = (as_real(geom.lo[0]) - distance, as_real(geom.lo[1]) - distance)
    hi = (as_real(geom.hi[0]) + distance, as_real(geom.hi[1]) + distance)
    disc = (geom.vertices[0], distance) if geom.kind == "Point" and geom.vertices is not None else None
    return _approx("Polygon", lo, hi, disc=disc, tight=disc is not None)


def _separated(a: SymGeom, b: SymGeom) -> Any:
    """The boxes of a and b are apart (so the shapes share no point)."""
    return disj([as_real(a.hi[0]) < as_real(b.lo[0]), as_real(b.hi[0]) < as_real(a.lo[0]),
                 as_real(a.hi[1]) < as_real(b.lo[1]), as_real(b.hi[1]) < as_real(a.lo[1])])


def _box_has_point(box_geom: SymGeom, p: Pair, strict: bool) -> Any:
    x, y = as_real(p[0]), as_real(p[1])
    if strict:
        return conj([as_real(box_geom.lo[0]) < x, x < as_real(box_geom.hi[0]),
                      as_real(box_geom.lo[1]) < y, y < as_real(box_geom.hi[1])])
    return conj([as_real(box_geom.lo[0]) <= x, x <= as_real(box_geom.hi[0]),
                 as_real(box_geom.lo[1]) <= y, y <= as_real(box_geom.hi[1])])


def _exact_point(g: SymGeom) -> Pair | None:
    return g.vertices[0] if g.kind == "Point" and g.vertices is not None else None


def _relate(ex, name: str, a: SymGeom, b: SymGeom, span: Span) -> Any:
    """contains / intersects / within / disjoint where the boxes or the shapes decide it."""
    if name == "within":
        return _relate(ex, "contains", b, a, span)
    if name == "disjoint":
        result = _relate(ex, "intersects", a, b, span)
        return z3.Not(result) if is_sym(result) else not result
    pa, pb = _exact_point(a), _exact_point(b)
    if a.rect and pb is not None:
        return _box_has_point(a, pb, strict=(name == "contains"))
    if name == "intersects" and b.rect and pa is not None:
        return _box_has_point(b, pa, strict=False)
    if pa is not None and pb is not None:
        return conj([as_real(pa[0]) == as_real(pb[0]), as_real(pa[1]) == as_real(pb[1])])
    if ex.branch(_separated(a, b), span):
        return False
    raise Abandon(f".{name}() of shapes that depend on the world and may overlap is not modelled", span)


def _predicate(name: str):
    def run(ex, geom, args, kwargs, span):
        return _relate(ex, name, geom, _lift(args[0], span), span)
    return run


def _distance(ex, geom, args, kwargs, span):
    other = _lift(args[0], span)
    pa, pb = _exact_point(geom), _exact_point(other)
    if pa is None or pb is None:
        raise Abandon(".distance() between shapes other than points is not modelled", span)
    dx, dy = as_real(pa[0]) - as_real(pb[0]), as_real(pa[1]) - as_real(pb[1])
    return sym_sqrt(ex, dx * dx + dy * dy, span)


def _length(ex, geom, args, kwargs, span):
    vertices = _need_vertices(geom, ".length", span)
    if geom.kind in ("Point", "MultiPoint"):
        return 0.0
    total = 0.0
    for (ax, ay), (bx, by) in zip(vertices, vertices[1:]):
        dx, dy = as_real(bx) - as_real(ax), as_real(by) - as_real(ay)
        total = total + sym_sqrt(ex, dx * dx + dy * dy, span)
    return total


def _area(ex, geom, args, kwargs, span):
    if geom.kind != "Polygon":
        return 0.0
    vertices = _need_vertices(geom, ".area", span)
    twice = sum(as_real(ax) * as_real(by) - as_real(bx) * as_real(ay)
                for (ax, ay), (bx, by) in zip(vertices, vertices[1:]))
    return z3.If(twice >= 0, twice, -twice) / 2  # GEOS: the absolute signed area of the shell


_METHODS = {
    "coords": _coords, "x": _coordinate(0), "y": _coordinate(1), "exterior": _exterior, "bounds": _bounds,
    "centroid": _centroid_method, "interpolate": _interpolate, "project": _project, "buffer": _buffer,
    "contains": _predicate("contains"), "within": _predicate("within"), "intersects": _predicate("intersects"),
    "disjoint": _predicate("disjoint"), "distance": _distance, "length": _length, "area": _area,
}
