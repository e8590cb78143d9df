"""The world the verifier reasons about, and how each robot primitive acts on it.

`WorldState` implements the registry's `World` protocol over values that may be Z3 terms, so
motion plans (capc.compiler.tabletop) run unchanged on it: the verifier checks exactly the
segments the runtime will drive. It follows the kinematic backend's rules:

* closing the gripper takes the object whose grasp point is nearest the tool, within
  the cell's `grasp_radius` (inside `put_first_on_second(name, ...)` the plan descends onto that
  object's grasp point: it is taken to be the one grasped; any other grasp is decided per
  object by the caller, forking where the world leaves it open);
* a held object keeps its offset from the tool (the grasp happened where the tool was, which
  is where the object was *perceived*), so it moves with the tool;
* a released object keeps its xy and comes to rest on its support: a bowl on the table, a
  block on the highest block or bowl under it (not above its bottom), else on the table (an
  if-then-else term over the objects, exactly the kinematic backend's rule);
* a plan lets a block go on top of what it perceives under the target (`surface`), so the
  released block rests where it was let go, as on CaP's tabletop.

Plans aim at *perceived* positions (the runtime plans with what it perceives): the true
position plus a fresh error within the tolerance per query. Named places ('top left corner',
...) are resolved from the cell when no object has that name: their reference point is on the
table (z = 0) and they are treated like a bowl.

Where a value is unknown the state asks its `Unknowns` for one: the verifier's unknowns are
fresh Z3 reals with bounds, the replay's are the counterexample's concrete numbers.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import z3

from capc.compiler.registry import RobotProfile
from capc.safety.symvalues import PolicyFault, UnknownObject, compare
from capc.safety.z3util import as_real, conj, sym_abs, sym_max

# How far (m) a counterexample keeps every open world-model comparison from its threshold:
# far above double rounding of coordinates under a metre (~1e-16), far below anything a
# camera or a gripper could tell apart, and below the cell's `support_slack` (its allowance for a
# support "just below" a released block, which the kinematic backend reads too) so it cannot
# hide a support.
EDGE_GAP = 1e-7


class Unknowns(Protocol):
    def perceived(self, key: tuple, true: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]: ...
    def known(self, cond: Any) -> bool | None: ...
    def interval(self, value: Any) -> tuple[float, float]: ...
    def havoc_position(self, key: tuple, name: str) -> tuple[Any, Any, Any]: ...
    def edge(self, a: Any, b: Any, gap: float) -> None: ...


class WorldState:
    def __init__(self, positions: dict[str, tuple[Any, Any, Any]], tcp: tuple[Any, Any, Any],
                 unknowns: Unknowns, kinds: dict[str, str] | None = None, *, profile: RobotProfile):
        self.cell, self._kind_of = profile.cell, profile.object_kind
        self.positions = dict(positions)
        self.kinds = dict(kinds or {})
        self.tcp_now = tuple(tcp)
        self.held: str | None = None
        self.offset: tuple[Any, Any, Any] = (0.0, 0.0, 0.0)  # held object minus tool
        self.unknowns = unknowns
        self.motion_count = 0      # distinguishes the keys of unknowns across motions
        self.position_queries = 0  # distinguishes the perception errors of plan queries
        self.grasps = 0            # grasps that took something (the rules' max_grasps)
        self.grasps_checked = 0    # of them, those the rules have seen
        self.closed = False        # the gripper (open when a run starts; the rules' automaton)
        self.happened: frozenset = frozenset()  # `before ... first` rules whose first event has happened
        self.surface_calls = 0     # distinguishes those of the surfaces plans ask for

    # --- the registry's World protocol ---------------------------------------------

    def position(self, name: str) -> tuple[Any, Any, Any]:
        """Where a plan aims for `name`: its perceived position."""
        if name in self.positions:
            self.position_queries += 1
            return self.unknowns.perceived(("plan", self.motion_count, self.position_queries),
                                           self.true_position(name))
        if name in self.cell.places:
            x, y = self.cell.places[name]
            return (x, y, 0.0)
        raise UnknownObject(name, f"there is no object or place named {name!r} in the scene")

    def true_position(self, name: str) -> tuple[Any, Any, Any]:
        if self.held == name:
            return tuple(t + o for t, o in zip(self.tcp_now, self.offset))
        return self.positions[name]

    def kind(self, name: str) -> str:
        if name in self.kinds:
            return self.kinds[name]
        if name not in self.positions and name in self.cell.places:
            return "place"
        return self._kind_of(name)

    def tcp(self) -> tuple[Any, Any, Any]:
        return self.tcp_now

    def maximum(self, a: Any, b: Any) -> Any:
        """max(a, b), decided where the world settles which is larger (plans take the max of
        heights: a decided one keeps later terms small)."""
        if isinstance(a, z3.ExprRef) or isinstance(b, z3.ExprRef):
            larger = self._decide(compare(">=", a, b))
            if larger is True:
                return a
            if larger is False:
                return b
        return sym_max(a, b)

    # --- state changes ------------------------------------------------------------

    def move(self, target: tuple[Any, Any, Any]) -> None:
        self.tcp_now = tuple(target)
        self.motion_count += 1

    def grasp_point(self, name: str) -> tuple[Any, Any, Any]:
        x, y, z = self.positions[name]
        return (x, y, self.cell.grasp_z(self.kind(name), z))

    def grasp(self, name: str | None) -> None:
        """Take `name` (None: nothing within reach) where it is now."""
        if self.held is not None or name is None or name not in self.positions:
            return
        self.held = name
        self.grasps += 1
        self.offset = tuple(p - t for p, t in zip(self.positions[name], self.tcp_now))

    def release(self, key: tuple, placed: bool = False) -> None:
        """The released object keeps its xy and comes to rest on its support."""
        if self.held is None:
            return
        name = self.held
        x, y, z = self.true_position(name)
        self.held = None
        self.offset = (0.0, 0.0, 0.0)
        self.positions[name] = (x, y, self.support_height(name, x, y, z))

    def support_height(self, name: str, x: Any, y: Any, z: Any) -> Any:
        """The height a released object comes to rest at (the kinematic backend's rule): a
        bowl on the table; a block on the highest block or bowl floor under it whose top is
        not above the block's bottom, else on the table. An if-then-else term where the
        world leaves it open, so no path forks here."""
        kind = self.kind(name)
        if kind != "block":
            return self.cell.resting_z(kind)
        others = {o: p for o, p in self.positions.items() if o != name}
        return self._highest_support(x, y, others, bottom=z - self.cell.block_size / 2)

    def surface(self, x: Any, y: Any, exclude: str | None) -> Any:
        """The registry's `surface`: where a plan lets a block go over (x, y), from the
        *perceived* positions of the other objects (the runtime can only perceive them).
        An object is perceived only where it may matter: not when it cannot be under the point
        even with the largest perception error, nor when it cannot rise above a support already
        certain (no unknowns for those: a line or a stack of blocks costs what it did before).
        The others' errors are keyed by (this call, name), not by a running count, so a replay
        that skips more or fewer of them still reads the same answers (the truth for the rest)."""
        self.surface_calls += 1
        call = self.surface_calls
        others = {o: p for o, p in self.positions.items() if o not in (exclude, self.held)}

        def perceive(other: str, true: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
            return self.unknowns.perceived(("surface", call, other), true)

        return self._highest_support(x, y, others, bottom=None, perceive=perceive,
                                     error=getattr(self.unknowns, "tolerance", math.inf))

    def _highest_support(self, x: Any, y: Any, others: dict[str, tuple[Any, Any, Any]], bottom: Any,
                         perceive: Any = None, error: float = 0.0) -> Any:
        """The reference height of a block over (x, y) resting on the highest of `others`
        under it whose top is not above `bottom` (None: any height), else on the table.
        `perceive` (if given) turns an object's true position into the one the rule reads,
        its xy within `error` of the truth and its height the same.

        Candidates are visited highest first: once a support is certain, a candidate that
        cannot rise above the height found so far changes nothing and builds no term. With
        the conditions decided (bounds, else the path's solver) a stack's heights stay plain
        numbers instead of nesting every height below them. The tests go cheapest first:
        each object's own bounds (cached per term), then whether it can rise above what is
        certain, and only for what is left the bounds of simplified differences (whose cost
        grows with the depth of a stack: asked of every block at every step, they made a
        stack quadratic in its height per step)."""
        half = self.cell.block_size / 2
        candidates = []
        for other, (ox, oy, oz) in others.items():
            reach = self.cell.support_reach(self.kind(other)) + error
            if self._apart(ox, x, reach) or self._apart(oy, y, reach):
                continue  # cannot be under it: decided on bounds, no term built
            rest = self.cell.place_z(self.kind(other), oz)
            candidates.append((self.unknowns.interval(rest)[1], len(candidates), other, rest))
        best: Any = self.cell.resting_z("block")
        for rest_high, _, other, rest in sorted(candidates, key=lambda c: (-c[0], c[1])):
            if rest_high <= self.unknowns.interval(best)[0]:
                continue  # cannot rise above what is already certain (decided on bounds)
            kind = self.kind(other)
            ox, oy, oz = others[other]
            reach = self.cell.support_reach(kind)
            if self._far(ox, x, reach + error) or self._far(oy, y, reach + error):
                continue
            if perceive is not None:
                ox, oy, _ = perceive(other, (ox, oy, oz))
                if self._far(ox, x, reach) or self._far(oy, y, reach):
                    continue
            if self._decide(compare("<=", rest, best)) is True:
                continue  # not higher than what is already certain
            if kind == "block":
                inside = [compare("<=", sym_abs(ox - x), reach), compare("<=", sym_abs(oy - y), reach)]
            else:
                dx, dy = ox - x, oy - y
                inside = [compare("<=", dx * dx + dy * dy, reach ** 2)]
            self._edges(ox - x, oy - y, rest - half, bottom, kind)
            if bottom is not None:
                inside.append(compare("<=", rest - half, bottom + self.cell.support_slack))
            cond = self._decide(conj(inside))
            if cond is True:
                best = self.maximum(best, rest)
            elif cond is not False:
                best = z3.If(cond, as_real(self.maximum(best, rest)), as_real(best))
        return best

    def _edges(self, dx: Any, dy: Any, top: Any, bottom: Any, kind: str) -> None:
        """Tell the unknowns which comparisons a support condition is made of. Exact reals
        decide each one (or leave it open), but a world that puts one exactly on its threshold
        -- a block released exactly half a block off its support's centre, as two perception
        errors at the tolerance make it -- is decided by float rounding on a backend, either
        way: a counterexample must keep EDGE_GAP clear of every one (capc.safety.verifier)."""
        half = self.cell.block_size / 2
        if kind == "block":
            self.unknowns.edge(sym_abs(dx), half, EDGE_GAP)
            self.unknowns.edge(sym_abs(dy), half, EDGE_GAP)
        else:  # squared distances: a gap of EDGE_GAP in the distance is about 2 r EDGE_GAP here
            reach = self.cell.bowl_radius - half
            self.unknowns.edge(dx * dx + dy * dy, reach * reach, 2 * reach * EDGE_GAP)
        if bottom is not None:
            self.unknowns.edge(top, bottom + self.cell.support_slack, EDGE_GAP)

    def grasp_edges(self, squared: dict[str, Any], reach: float) -> None:
        """The same for a closing gripper's choice: each object's squared distance to the tool
        against the grasp radius and against every other's (a tie or a grasp point exactly at
        the radius is the backend's float rounding to decide). Squared distances: a gap of
        EDGE_GAP in the distance is about 2 r EDGE_GAP in them."""
        gap = 2 * self.cell.grasp_radius * EDGE_GAP
        names = list(squared)
        for i, n in enumerate(names):
            self.unknowns.edge(squared[n], reach, gap)
            for m in names[i + 1:]:
                self.unknowns.edge(squared[n], squared[m], gap)

    def _decide(self, cond: Any) -> Any:
        """`cond` itself, or True / False where the world settles it."""
        if isinstance(cond, bool):
            return cond
        decided = self.unknowns.known(cond)
        return cond if decided is None else decided

    def _apart(self, a: Any, b: Any, distance: float) -> bool:
        alo, ahi = self.unknowns.interval(a)
        blo, bhi = self.unknowns.interval(b)
        return alo - bhi > distance or blo - ahi > distance

    def _far(self, a: Any, b: Any, distance: float) -> bool:
        """|a - b| > distance in every world: on the bounds of each, else on those of their
        simplified difference (a placed block's x and its target share a perception error
        that separate bounds count twice: 8 cm wide where the difference is 2 cm)."""
        if self._apart(a, b, distance):
            return True
        if not (isinstance(a, z3.ExprRef) or isinstance(b, z3.ExprRef)):
            return False
        low, high = self.unknowns.interval(z3.simplify(as_real(a) - as_real(b)))
        return low > distance or high < -distance

    def havoc(self, key: tuple) -> None:
        """After a motion nobody could check: every object and the tool are somewhere in
        the workspace (the monitor keeps the tool there; a carried object moves with it)."""
        for name in list(self.positions):
            self.positions[name] = self.unknowns.havoc_position(key + (name,), name)
        self.tcp_now = self.unknowns.havoc_position(key + ("<tool>",), "<tool>")
        self.held = None
        self.offset = (0.0, 0.0, 0.0)
