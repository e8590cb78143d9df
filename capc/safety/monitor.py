"""The runtime monitor: every command and every set-point is checked against the safety spec
before a backend sees it, whatever the verifier said.

It reads only the `SafetySpec` and checks the *true* limits: the workspace as written, the
keep-out zones as written, `max_speed` and `max_accel`. The verifier proves obligations
against the workspace shrunk (and the zones grown) by `spec.margin`, so a command it proved
can never trip the monitor; the monitor is what stands between a `guarded` or unverified
program and the robot.

Two levels of check:

* per command (`check_waypoint`): the requested speed is a number in (0, max_speed], the
  target lies in the workspace, the straight segment to it stays out of every keep-out zone
  (exact segment/box and segment/cylinder intersection, not sampling);
* per set-point (`check_setpoint`, `check_setpoints` for a whole segment at once): the point
  lies in the workspace and outside every zone, and the speed and acceleration computed by
  finite differences over the set-point stream stay within the limits. The monitor keeps the
  last velocity, so acceleration is checked across segment boundaries too.

Numeric tolerance (stated once, here): positions may pass a bound by at most
`POSITION_TOLERANCE` (1 nm) and speeds/accelerations may exceed a limit by at most the
relative `RATE_TOLERANCE` (1e-9). Both only absorb float rounding of the interpolation and of
the finite differences themselves; the motion generator derates its profile by 1e-6 so that
its set-points never come near them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from capc.lazy_numpy import np

from capc.compiler.geometry import Box, Cylinder
from capc.safety.spec import KeepOut, SafetySpec

POSITION_TOLERANCE = 1e-9   # m
RATE_TOLERANCE = 1e-9       # relative, for speed and acceleration

Point = tuple[float, float, float]


@dataclass(frozen=True)
class Violation:
    """What the monitor refused. `limit` is the kind of limit: "workspace", "keep_out",
    "speed", "accel", "command" or "rule", and `zone` the keep-out zone's name or the rule's
    label ("limits.yaml:7", capc.safety.rules) (None for the others);
    `excess` is by how much (m, m/s or m/s^2; 0 for a grazing touch); `point` where (the
    set-point, the target, or where the segment enters the zone)."""

    limit: str
    excess: float
    point: Point | None
    message: str
    zone: str | None = None

    @property
    def name(self) -> str:
        """The limit as reports and the verifier's obligations name it ("keep_out:<zone>")."""
        return self.limit if self.zone is None else f"{self.limit}:{self.zone}"

    def to_json(self) -> dict[str, Any]:
        return {"limit": self.name, "excess": self.excess,
                "point": None if self.point is None else list(self.point), "message": self.message}


def _fmt(point: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.4f}" for v in point) + ")"


class Monitor:
    """Stateful over one run: it remembers the last set-point velocity."""

    def __init__(self, spec: SafetySpec, cell: Any = None):
        """`cell`: the profile's cell, whose support rule the gripper and end-of-run rules
        read (what a released object rests on); a monitor of set-points alone needs none."""
        self.spec, self.cell = spec, cell
        ws = spec.workspace
        self._low = np.array([ws.x.low, ws.y.low, ws.z.low]) - POSITION_TOLERANCE
        self._high = np.array([ws.x.high, ws.y.high, ws.z.high]) + POSITION_TOLERANCE
        self._low_tuple, self._high_tuple = tuple(self._low.tolist()), tuple(self._high.tolist())
        self._speed_limit = spec.max_speed * (1 + RATE_TOLERANCE)
        self._accel_limit = spec.max_accel * (1 + RATE_TOLERANCE)
        self.velocity = np.zeros(3)  # of the last accepted set-point (the robot starts at rest)
        self.setpoints_checked = 0
        # The rules' state (capc.safety.rules): what the gripper holds, how many grasps took
        # something. The run tells it through `check_grip`.
        self.held: str | None = None
        self.grasps = 0
        # The automaton's other state (capc.safety.rules): whether the gripper is closed (it
        # is open when a run starts), the `before ... first` rules whose first event has
        # happened, and whether a move has been commanded yet (the first starts at home).
        self.closed = False
        self.happened: frozenset = frozenset()
        self.moved = False
        # Where the objects are, for `avoid` boxes that move with an object: the run updates
        # it before each command (the backend's positions; the replay's world).
        self.objects: dict[str, Sequence[float]] = {}

    def reset(self) -> None:
        self.velocity = np.zeros(3)
        self.setpoints_checked = 0
        self.held, self.grasps = None, 0
        self.closed, self.happened, self.moved = False, frozenset(), False

    # -- rules ---------------------------------------------------------------------------

    def _rule_violation(self, hit, point) -> Violation | None:
        if hit is None:
            return None
        rule, excess, what = hit
        return Violation("rule", excess, point, f"{what}: breaks rule '{rule.words()}' ({rule.label})", rule.label)

    def check_grip(self, close: bool, held: str | None, tcp: Sequence[float], positions: dict[str, Sequence[float]],
                   kinds: dict[str, str]) -> Violation | None:
        """A gripper action against the rules. Closing: call it after the gripper closed,
        with what it took (`held`), before anything moves it. Opening: call it before the
        gripper opens, with what it holds and where everything is; it is not let go on a
        violation. The held state follows the action when it passes."""
        from capc.safety.rules import grip_breaks, happened_after

        point = tuple(float(v) for v in tcp)
        before = (self.held, self.closed, self.happened)
        if close:
            taken = held if self.held is None else None
            grasps = self.grasps + (taken is not None)
            hit = grip_breaks(self._cell(), self.spec.rules, True, taken, grasps, point, {}, kinds, POSITION_TOLERANCE,
                              before)
            self.happened = happened_after(self.spec.rules, True, taken, self.held, self.happened)
            self.held, self.grasps, self.closed = held, grasps, True
            return self._rule_violation(hit, point)
        hit = grip_breaks(self._cell(), self.spec.rules, False, held, self.grasps, point,
                          {k: tuple(float(c) for c in v) for k, v in positions.items()}, kinds, POSITION_TOLERANCE,
                          before)
        violation = self._rule_violation(hit, point)
        if violation is None:
            self.opened(held)
        return violation

    def opened(self, held: str | None) -> None:
        """The gripper opened letting `held` go (also after a refused opening in a run that
        only observes)."""
        from capc.safety.rules import happened_after

        self.happened = happened_after(self.spec.rules, False, None, held, self.happened)
        self.held, self.closed = None, False

    def check_end(self, positions: dict[str, Sequence[float]], kinds: dict[str, str]) -> Violation | None:
        """The world when the program has run to its end (`at_end` rules): reported, as the
        motions are done; the run ends stopped rather than completed."""
        from capc.safety.rules import end_breaks

        objects = {k: tuple(float(c) for c in v) for k, v in positions.items()}
        return self._rule_violation(end_breaks(self._cell(), self.spec.rules, (self.held, self.closed), objects,
                                               kinds, POSITION_TOLERANCE), None)

    def _cell(self) -> Any:
        if self.cell is None:
            raise ValueError("a monitor that checks gripper or end-of-run rules needs the profile's cell")
        return self.cell

    def _carry_rules(self) -> list:
        if not self.spec.rules:
            return []
        return [r for r in self.spec.rules if r.kind in ("carry_speed", "carry_height") and r.carries(self.held, self.closed)]

    # -- per command -------------------------------------------------------------------

    def check_waypoint(self, start: Sequence[float], target: Sequence[Any], speed: Any) -> Violation | None:
        """A straight move from `start` to `target` at most at `speed` (None: the spec's)."""
        first, self.moved = not self.moved, True  # the first move starts at home (carry heights bound it)
        if speed is not None:
            violation = self._check_speed_request(speed)
            if violation is not None:
                return violation
        try:
            point = tuple(float(v) for v in target)
        except (TypeError, ValueError):
            return Violation("command", 0.0, None, f"target {target!r} is not a point of three numbers")
        if len(point) != 3 or not all(math.isfinite(v) for v in point):
            return Violation("command", 0.0, None, f"target {target!r} is not a finite xyz point")
        violation = self.check_point(point)
        if violation is not None:
            return violation
        a = tuple(float(v) for v in start)
        for zone in self.spec.keep_out:
            hit = segment_enters(zone, a, point)
            if hit is not None:
                entry, inside = hit
                return Violation("keep_out", inside, entry,
                                 f"the segment {_fmt(a)} -> {_fmt(point)} enters keep-out zone "
                                 f"'{zone.name}' at {_fmt(entry)} ({inside:.4f} m of it inside)", zone.name)
        if self.spec.rules:  # last, in the verifier's order of obligations
            for rule, box in self._avoid_zones():
                hit = segment_enters(KeepOut(rule.label, box), a, point)
                if hit is not None:
                    entry, inside = hit
                    return self._rule_violation((rule, inside, f"the segment {_fmt(a)} -> {_fmt(point)} enters "
                                                 f"the box at {_fmt(entry)}"), entry)
            return self._check_carry(point, self.spec.max_speed if speed is None else float(speed), a if first else None)
        return None

    def _avoid_zones(self) -> list:
        from capc.safety.rules import avoid_zones

        return avoid_zones(self.spec.rules, self.held, self.objects)

    def _check_carry(self, point: Point, speed: float, start: Point | None = None, events: bool = True) -> Violation | None:
        """Carry limits in force, and (`events`: a commanded move, not a set-point) the rules
        about moves."""
        from capc.safety.rules import waypoint_breaks

        hit = waypoint_breaks(self.cell, self.spec.rules, (self.held, self.closed, self.happened), point, speed,
                              POSITION_TOLERANCE, RATE_TOLERANCE, start, events)
        return self._rule_violation(hit, point)

    def _check_speed_request(self, speed: Any) -> Violation | None:
        if isinstance(speed, bool) or not isinstance(speed, (int, float, np.integer, np.floating)):
            return Violation("speed", 0.0, None, f"requested speed {speed!r} is not a number")
        value = float(speed)
        if not math.isfinite(value) or value <= 0:
            return Violation("speed", 0.0, None, f"requested speed {value} m/s must be positive and finite")
        if value > self._speed_limit:
            return Violation("speed", value - self.spec.max_speed, None,
                             f"requested speed {value:g} m/s exceeds max_speed {self.spec.max_speed:g} m/s "
                             f"by {value - self.spec.max_speed:.4g} m/s")
        return None

    def check_point(self, point: Sequence[float]) -> Violation | None:
        """The point lies in the workspace and in no keep-out zone."""
        x, y, z = (float(v) for v in point)  # plain floats: ~10x cheaper than a 3-element array
        lx, ly, lz = self._low_tuple
        hx, hy, hz = self._high_tuple
        if not (lx <= x <= hx and ly <= y <= hy and lz <= z <= hz):  # also false for nan
            return self._workspace_violation(np.array([x, y, z]))
        p = np.array([x, y, z])
        for zone in self.spec.keep_out:
            if _zone_contains(zone, p):
                return Violation("keep_out", 0.0, (x, y, z),
                                 f"{_fmt(p)} is inside keep-out zone '{zone.name}'", zone.name)
        return None

    def _workspace_violation(self, p: np.ndarray) -> Violation:
        ws = self.spec.workspace
        worst, where = 0.0, "a coordinate is not a number"
        for axis, name, value in zip(ws.axes, "xyz", p.tolist()):
            if not math.isfinite(value):
                return Violation("workspace", math.inf, tuple(p.tolist()), f"{name} = {value} is not finite")
            for excess, text in ((axis.low - value, f"{name} = {value:.6g} is below {axis.low:g}"),
                                 (value - axis.high, f"{name} = {value:.6g} is above {axis.high:g}")):
                if excess > worst:
                    worst, where = excess, text
        # significant digits, not fixed ones: 2e-06 m past the edge is not "by 0.0000 m"
        return Violation("workspace", worst, tuple(p.tolist()),
                         f"{_fmt(p)} is outside the workspace: {where} by {worst:.3g} m")

    # -- per set-point -----------------------------------------------------------------

    def check_setpoint(self, prev: Sequence[float], cur: Sequence[float], dt: float) -> Violation | None:
        """One control tick from `prev` to `cur` lasting `dt` s. Updates the velocity state
        when the set-point is accepted."""
        hit = self.check_setpoints(prev, np.asarray([cur], dtype=float), dt)
        return None if hit is None else hit[1]

    def check_setpoints(self, prev: Sequence[float], points: np.ndarray, dt: float) -> tuple[int, Violation] | None:
        """A run of set-points following `prev`, one per tick of `dt` s. Returns the index
        of the first one that breaks a limit and why, or None; the velocity state advances
        over the accepted ones."""
        if len(points) == 0:
            return None
        path = np.vstack((np.asarray(prev, dtype=float)[None, :], points))
        velocities = np.diff(path, axis=0) / dt
        accels = np.diff(np.vstack((self.velocity[None, :], velocities)), axis=0) / dt
        bad = np.zeros(len(points), dtype=bool)
        bad |= ~np.all(np.isfinite(points), axis=1)
        bad |= np.any((points < self._low) | (points > self._high), axis=1)
        for zone in self.spec.keep_out:
            bad |= _zone_contains_many(zone, points)
        speeds = np.einsum("ij,ij->i", velocities, velocities)
        bad |= speeds > self._speed_limit ** 2
        accel_sq = np.einsum("ij,ij->i", accels, accels)
        bad |= accel_sq > self._accel_limit ** 2
        carry = self._carry_rules()
        zones = self._avoid_zones() if self.spec.rules else []
        for _, box in zones:
            bad |= _zone_contains_many(KeepOut("", box), points)
        for rule in carry:  # the carry limits of what is held, on every set-point
            if rule.kind == "carry_speed":
                bad |= speeds > (rule.value * (1 + RATE_TOLERANCE)) ** 2
            elif rule.kind == "carry_height":
                bad |= points[:, 2] > rule.value + POSITION_TOLERANCE
        if not bad.any():
            self.velocity = velocities[-1]
            self.setpoints_checked += len(points)
            return None
        i = int(np.argmax(bad))
        self.setpoints_checked += i
        if i > 0:
            self.velocity = velocities[i - 1]
        point = points[i]
        violation = self.check_point(point)
        speed, accel = math.sqrt(speeds[i]), math.sqrt(accel_sq[i])
        for rule, box in zones:
            if violation is None and _zone_contains(KeepOut("", box), point):
                violation = self._rule_violation((rule, 0.0, f"{_fmt(point)} is inside the box"), tuple(point.tolist()))
        if violation is None and carry:
            violation = self._check_carry(tuple(point.tolist()), speed, events=False)
        if violation is None:
            if speed > self._speed_limit:
                violation = Violation("speed", speed - self.spec.max_speed, tuple(point.tolist()),
                                      f"set-point {_fmt(point)} moves at {speed:.4f} m/s, above max_speed "
                                      f"{self.spec.max_speed:g} m/s by {speed - self.spec.max_speed:.4g}")
            else:
                violation = Violation("accel", accel - self.spec.max_accel, tuple(point.tolist()),
                                      f"set-point {_fmt(point)} accelerates at {accel:.4f} m/s^2, above "
                                      f"max_accel {self.spec.max_accel:g} m/s^2 by "
                                      f"{accel - self.spec.max_accel:.4g}")
        return i, violation


# --- geometry of keep-out zones ---------------------------------------------------------

def _zone_contains(zone: KeepOut, p: np.ndarray) -> bool:
    return bool(_zone_contains_many(zone, p[None, :])[0])


def _zone_contains_many(zone: KeepOut, points: np.ndarray) -> np.ndarray:
    """Points strictly inside the zone shrunk by the tolerance (the permissive side, as for
    the workspace: rounding is never blamed on the policy)."""
    region, tol = zone.region, POSITION_TOLERANCE
    if isinstance(region, Box):
        low = np.array([region.x.low, region.y.low, region.z.low]) + tol
        high = np.array([region.x.high, region.y.high, region.z.high]) - tol
        return np.all((points >= low) & (points <= high), axis=1)
    r = region.radius - tol
    dx, dy = points[:, 0] - region.cx, points[:, 1] - region.cy
    return ((dx * dx + dy * dy <= r * r) & (points[:, 2] >= region.z.low + tol)
            & (points[:, 2] <= region.z.high - tol))


def segment_enters(zone: KeepOut, a: Point, b: Point) -> tuple[Point, float] | None:
    """Where the closed segment a->b first meets the zone (shrunk by the tolerance) and the
    length of it inside; None when it stays out."""
    interval = _segment_interval(zone.region, a, b)
    if interval is None:
        return None
    t0, t1 = interval
    d = [bi - ai for ai, bi in zip(a, b)]
    length = math.sqrt(sum(v * v for v in d))
    entry = tuple(ai + t0 * di for ai, di in zip(a, d))
    return entry, (t1 - t0) * length


def _segment_interval(region, a: Point, b: Point) -> tuple[float, float] | None:
    tol = POSITION_TOLERANCE
    if isinstance(region, Box):
        return _slabs(a, b, [(axis.low + tol, axis.high - tol) for axis in region.axes])
    assert isinstance(region, Cylinder)
    interval = _slabs(a, b, [(-math.inf, math.inf), (-math.inf, math.inf),
                             (region.z.low + tol, region.z.high - tol)])
    if interval is None:
        return None
    lo, hi = interval
    # |xy(t) - c|^2 <= r^2 is a quadratic q(t) = qa t^2 + qb t + qc <= 0.
    ox, oy = a[0] - region.cx, a[1] - region.cy
    dx, dy = b[0] - a[0], b[1] - a[1]
    r = region.radius - tol
    qa, qb, qc = dx * dx + dy * dy, 2 * (ox * dx + oy * dy), ox * ox + oy * oy - r * r
    if qa == 0.0:
        return (lo, hi) if qc <= 0 else None
    disc = qb * qb - 4 * qa * qc
    if disc < 0:
        return None
    root = math.sqrt(disc)
    t_in, t_out = (-qb - root) / (2 * qa), (-qb + root) / (2 * qa)
    lo, hi = max(lo, t_in), min(hi, t_out)
    return (lo, hi) if lo <= hi else None


def _slabs(a: Point, b: Point, bounds: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Parameter interval [t0, t1] within [0, 1] where a + t (b - a) lies in all slabs."""
    lo, hi = 0.0, 1.0
    for ai, bi, (low, high) in zip(a, b, bounds):
        d = bi - ai
        if d == 0.0:
            if ai < low or ai > high:
                return None
            continue
        t_low, t_high = (low - ai) / d, (high - ai) / d
        if t_low > t_high:
            t_low, t_high = t_high, t_low
        lo, hi = max(lo, t_low), min(hi, t_high)
        if lo > hi:
            return None
    return lo, hi
