"""Proof obligations of one motion waypoint, and the record of a checked obligation.

For every `Waypoint` of a motion plan (start = the tool's position before it):
* `workspace`: the target lies in the workspace shrunk by `spec.margin` on every side. The
  workspace is a box, hence convex: both ends inside means the whole segment is inside.
* `keep_out:<zone>`: no point of the straight segment start -> target lies in the zone grown
  by the margin. The violation is "exists t in [0,1] with start + t (target - start) in the
  zone", which is non-linear when both ends are unknown; Z3 decides it or times out
  (-> unknown). A linear pre-check (the segment's bounding box misses the zone) proves most
  of them without the non-linear query.
* `speed`: a requested speed is > 0 and <= max_speed (None means the cell's maximum).

Each property carries its violation formula against the shrunk limits (what we prove), the
same against the true limits as the monitor applies them (with its 1 nm / 1e-9 tolerance:
used to pick counterexamples the monitor really stops), and the assumption that the command
passed the monitor, for the commands after it. That assumption must follow from what the
monitor lets through, never say more: the monitor tests the run's doubles, so a symbolic
(exact-real) value is given the rounding slack of capc.safety.rounding on top of the
monitor's tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import z3

from capc import codes
from capc.compiler.geometry import Box, Cylinder
from capc.diagnostics import Span
from capc.safety.intervals import Bounds
from capc.safety.monitor import POSITION_TOLERANCE, RATE_TOLERANCE, segment_enters
from capc.safety.rounding import slack
from capc.safety.spec import KeepOut, SafetySpec
from capc.safety.z3util import as_real, conj, is_sym

AXES = "xyz"

PROVED, VIOLATED, UNKNOWN = "proved", "violated", "unknown"
CLEAR = 1e-3  # m: a counterexample that breaks a limit by this much survives any rounding

CODE_WORKSPACE = codes.E301
CODE_KEEP_OUT = codes.E302
CODE_SPEED = codes.E303
CODE_UNVERIFIED = codes.E305     # a motion or path the verifier could not decide: guarded
CODE_POLICY_FAULT = codes.E306   # the policy fails at run time on some path (stops safely)
CODE_BUDGET = codes.E307         # the verification budget ran out: the rest is guarded
CODE_UNKNOWN_OBJECT = codes.E308  # scene mode: the policy names an object the scene does not have
CODE_WALL_CLOCK = codes.E309     # a wall-clock ceiling stopped it: the report depends on the machine

Evaluator = Callable[[Any], float]


@dataclass(frozen=True)
class Property:
    name: str
    code: str
    violated: Any            # Python bool or Z3 bool: the obligation fails (shrunk limits)
    violated_true: Any       # the same against the true limits
    holds_true: Any          # implied by "the monitor let it pass" (assumed for later commands)
    explain: Callable[[Evaluator], tuple[str, float, tuple | None]]
    segment_t: Any = None    # the Z3 real t of a segment query (to read the entry point)
    clear: Any = None        # violated by at least CLEAR: preferred for counterexamples (robust to rounding)


@dataclass
class Obligation:
    """One checked property of one waypoint of one call on one path."""

    id: int
    span: Span
    callers: tuple[Span, ...]
    primitive: str
    role: str
    property: str
    code: str
    verdict: str
    call_index: int
    message: str
    counterexample: dict | None = None
    seconds: float = 0.0
    path: int = 0
    replay: Any = field(default=None, repr=False)  # data for the concrete replay (not JSON)

    def to_json(self) -> dict:
        return {
            "id": self.id, "primitive": self.primitive, "role": self.role, "property": self.property,
            "code": self.code, "verdict": self.verdict, "call_index": self.call_index,
            "message": self.message, "span": self.span.to_json(),
            "callers": [c.to_json() for c in self.callers],
            "counterexample": self.counterexample, "seconds": round(self.seconds, 6), "path": self.path,
        }


# --- workspace -------------------------------------------------------------------------

def _fmt(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:.3g}"


def workspace_property(target: tuple, spec: SafetySpec, bounds: Bounds | None = None) -> Property:
    ws, m = spec.workspace, spec.margin
    inside_shrunk, inside_true, inside_clear, passed = [], [], [], []
    tol = POSITION_TOLERANCE  # the monitor's: "true" means what the monitor lets through
    for axis, v in zip(ws.axes, target):
        lo, hi = bounds.interval(v) if bounds is not None and is_sym(v) else (None, None)
        if lo is not None and lo >= axis.low + m and hi <= axis.high - m:
            continue  # the interval of this coordinate is inside: no term to build
        inside_shrunk += [_ge(v, axis.low + m), _le(v, axis.high - m)]
        inside_true += [_ge(v, axis.low - tol), _le(v, axis.high + tol)]
        inside_clear += [_ge(v, axis.low - CLEAR), _le(v, axis.high + CLEAR)]
        # The monitor compares the run's double; a symbolic coordinate is the exact value,
        # which may lie a rounding error beyond (capc.safety.rounding). A Python number is the
        # run's own double: the monitor's test exactly.
        low, high = (axis.low - tol, axis.high + tol)
        if is_sym(v):
            low, high = low - slack(low), high + slack(high)
        passed += [_ge(v, low), _le(v, high)]
    holds = conj(inside_true)

    def explain(val: Evaluator):
        # reported against the limit as written: a reported violation breaks it
        worst, text = -math.inf, ""
        for name, axis, v in zip(AXES, ws.axes, target):
            x = val(v)
            for excess, words in ((axis.low - x, f"below the workspace's lower limit {_fmt(axis.low)}"),
                                  (x - axis.high, f"above the workspace's upper limit {_fmt(axis.high)}")):
                if excess > worst:
                    worst, text = excess, f"{name} = {_fmt(x)} is {words}"
        return text, worst, None

    return Property("workspace", CODE_WORKSPACE, _negate(conj(inside_shrunk)), _negate(holds), conj(passed),
                    explain, clear=_negate(conj(inside_clear)))


# --- keep-out zones ----------------------------------------------------------------------

def keep_out_property(start: tuple, target: tuple, zone: KeepOut, spec: SafetySpec, t: z3.ArithRef,
                      bounds: Bounds | None = None) -> Property:
    m = spec.margin
    region = zone.region
    name = f"keep_out:{zone.name}"
    if bounds is not None and any(is_sym(v) for v in start + target) and _hull_misses(region, start, target, m, bounds):
        return Property(name, CODE_KEEP_OUT, False, False, True, lambda val: ("", 0.0, None))
    if not any(is_sym(v) for v in start + target):
        a, b = [float(v) for v in start], [float(v) for v in target]
        hit = segment_hits(region, a, b, m)
        hit_true = segment_hits(region, a, b, 0.0)

        return Property(name, CODE_KEEP_OUT, hit, hit_true, not hit_true, lambda val: _explain_segment(zone, a, b))
    point = tuple(as_real(s) + t * (as_real(e) - as_real(s)) for s, e in zip(start, target))
    on_segment = z3.And(t >= 0, t <= 1)
    violated = z3.And(on_segment, _in_region(region, point, m))
    violated_true = z3.And(on_segment, _in_region(region, point, -POSITION_TOLERANCE))

    def explain(val: Evaluator):
        return _explain_segment(zone, [val(c) for c in start], [val(c) for c in target])

    # "the segment missed the zone" needs a quantifier; assuming anything stronger (say, that
    # its bounding box missed) would drop worlds the monitor lets through: assume nothing
    clear = z3.And(on_segment, _in_region(region, point, -CLEAR))
    return Property(name, CODE_KEEP_OUT, violated, violated_true, True, explain, segment_t=t, clear=clear)


def _explain_segment(zone: KeepOut, a: list[float], b: list[float]):
    """Words, excess (length of path inside the zone, m) and entry point."""
    hit = segment_enters(zone, tuple(a), tuple(b))
    entry, inside = hit if hit is not None else (tuple(b), 0.0)
    where = "ends inside" if inside == 0.0 else "enters"
    return (f"the straight path {where} keep-out zone '{zone.name}' at ({', '.join(_fmt(c) for c in entry)}), "
            f"{_fmt(inside)} m of it inside", inside, entry)


def _hull_misses(region, start: tuple, target: tuple, grow: float, bounds: Bounds) -> bool:
    """The interval hull of the segment misses the zone grown by `grow` on some axis."""
    if isinstance(region, Box):
        zone = [(a.low - grow, a.high + grow) for a in region.axes]
    else:
        r = region.radius + grow
        zone = [(region.cx - r, region.cx + r), (region.cy - r, region.cy + r),
                (region.z.low - grow, region.z.high + grow)]
    for (zlo, zhi), s, e in zip(zone, start, target):
        slo, shi = bounds.interval(s)
        elo, ehi = bounds.interval(e)
        if max(shi, ehi) < zlo or min(slo, elo) > zhi:
            return True
    return False


def _in_region(region, p: tuple, grow: float) -> Any:
    if isinstance(region, Box):
        return z3.And(*[z3.And(c >= axis.low - grow, c <= axis.high + grow) for axis, c in zip(region.axes, p)])
    r = region.radius + grow
    dx, dy = p[0] - region.cx, p[1] - region.cy
    return z3.And(dx * dx + dy * dy <= r * r, p[2] >= region.z.low - grow, p[2] <= region.z.high + grow)


def segment_hits(region, a: list[float], b: list[float], grow: float) -> bool:
    """Does the segment a->b enter the region grown by `grow`? (Exact, floats: the monitor's
    own segment test on the grown zone.)"""
    return segment_enters(KeepOut("zone", grown(region, grow)), tuple(a), tuple(b)) is not None


def grown(region, by: float):
    if not by:
        return region
    if isinstance(region, Box):
        return region.shrink(-by)
    return Cylinder(region.cx, region.cy, region.radius + by, region.z.shrink(-by))


# --- speed --------------------------------------------------------------------------------

def speed_property(speed: Any, spec: SafetySpec) -> Property:
    vmax = spec.max_speed
    ok = conj([_gt(speed, 0), _le(speed, vmax)])
    limit = vmax * (1 + RATE_TOLERANCE)
    passes = conj([_gt(speed, 0), _le(speed, limit)])  # the monitor's test
    # assumed after the command ran: a symbolic speed is exact, the monitor saw its double
    passed = passes if not is_sym(speed) else conj([_gt(speed, -slack(0.0)), _le(speed, limit + slack(limit))])

    def explain(val: Evaluator):
        v = val(speed)
        if not math.isfinite(v):
            return f"requested speed {v} m/s is not a finite number", 0.0, None
        if v <= 0:
            return f"requested speed {_fmt(v)} m/s is not positive", -v, None
        return f"requested speed {_fmt(v)} m/s is above the limit {_fmt(vmax)} m/s", v - vmax, None

    return Property("speed", CODE_SPEED, _negate(ok), _negate(passes), passed, explain)


# --- small helpers over Python numbers and Z3 terms --------------------------------------

def _negate(p: Any) -> Any:
    return (not p) if isinstance(p, bool) else z3.Not(p)


def _ge(a, b):
    return (as_real(a) >= b) if is_sym(a) else (a >= b)


def _le(a, b):
    return (as_real(a) <= b) if is_sym(a) else (a <= b)


def _lt(a, b):
    return (as_real(a) < b) if is_sym(a) else (a < b)


def _gt(a, b):
    return (as_real(a) > b) if is_sym(a) else (a > b)
