"""Proof obligations of the cell's rules (capc.safety.rules) on the symbolic trace.

What the gripper holds is decided on every path (the executor forks where the world leaves a
grasp open), so a rule's condition on the held object is a plain Python test here and only
the geometry is a Z3 term:

* carry speed: the effective speed of a move while holding (a requested one, else the cell's
  `max_speed`) is at most the rule's;
* carry height: every target while holding, and the tool where it takes the object, is at
  most the rule's height (shrunk by the margin; the segment is straight, so its ends bound it);
* never pick: a grasp that takes the object is a violation on the path that makes it;
* max grasps: so is the grasp one past the count;
* avoid: no point of a move's straight segment lies in the box (grown by the margin), placed
  at the object's true position when it moves with one (a term, so the query is non-linear);
* release height: where an opening gripper lets the held object go, its reference point is
  at most the rule's height (less the margin) above where it comes to rest;
* never place: where an opening gripper lets the held object go, its centre is not within
  the protected object's support reach (grown by the margin) -- the kinematic backend's rule
  of "on" / "in" (the cell's supports).

Each `Property` carries the same three formulas as the other limits (capc.safety.obligations):
the violation against the shrunk limit, against the monitor's, and what passing the monitor
lets later commands assume.
"""

from __future__ import annotations

import math
from typing import Any

import z3

from capc import codes
from capc.compiler.geometry import Cylinder
from capc.safety.monitor import POSITION_TOLERANCE, RATE_TOLERANCE, segment_enters
from capc.safety.obligations import CLEAR, Property, _fmt, _gt, _in_region, _le, segment_hits
from capc.safety.rounding import slack
from capc.safety.rules import (
    AVOID, CARRY_HEIGHT, CARRY_SPEED, EMPTY_AT_END, END_STATE, MAX_GRASPS, MOVE, NEVER_PICK, NEVER_PLACE,
    RELEASE_HEIGHT, Rule,
)
from capc.safety.spec import KeepOut, SafetySpec
from capc.safety.z3util import as_real, conj, disj, is_sym, sym_abs

CODE_RULE = codes.E310


def _broken(rule: Rule, text: str, excess: float = 0.0) -> Property:
    """A rule the path itself breaks (what the gripper took is decided on the path)."""
    words = f"{text}; the rule says: {rule.words()}"
    return Property(rule.name, CODE_RULE, True, True, False, lambda val: (words, excess, None))


def _height(rule: Rule, z: Any, spec: SafetySpec, what: str) -> Property:
    limit, tol = rule.value, POSITION_TOLERANCE
    high = limit + tol
    passed = _le(z, high + slack(high)) if is_sym(z) else _le(z, high)

    def explain(val):
        v = val(z)
        return f"{what} at z = {_fmt(v)}, above {_fmt(limit)}; the rule says: {rule.words()}", v - limit, None

    return Property(rule.name, CODE_RULE, _gt(z, limit - spec.margin), _gt(z, high), passed, explain,
                    clear=_gt(z, limit + CLEAR))


def waypoint_properties(spec: SafetySpec, world, start: tuple, target: tuple, speed: Any,
                        t: Any) -> list[Property]:
    """The rules of a straight move from `start` to `target` at `speed` (None: the cell's
    maximum): `avoid` regions (in the monitor's order, first), then carry limits in force
    and the rules about moves, in the file's order."""
    held = world.held if world is not None else None
    closed = world.closed if world is not None else False
    happened = world.happened if world is not None else frozenset()
    out = []
    for rule in spec.rules:
        if rule.kind != AVOID or not rule.active(held):
            continue
        if rule.target is not None and (world is None or rule.target not in world.positions):
            continue
        ref = world.true_position(rule.target) if rule.target is not None else (0.0, 0.0, 0.0)
        out.append(_avoid(rule, ref, start, target, spec, t))
    first = world is not None and world.motion_count == 0  # the first move starts at home (monitor: `moved`)
    for rule in spec.rules:
        if rule.kind in (CARRY_SPEED, CARRY_HEIGHT) and rule.carries(held, closed):
            what = f"moves {held!r}" if rule.state is None else f"moves while {rule.state.during()}"
            if rule.kind == CARRY_SPEED:
                out.append(_carry_speed(rule, spec.max_speed if speed is None else speed, what))
                continue
            out.append(_height(rule, target[2], spec, f"{what} to a target"))
            if first:
                out.append(_height(rule, start[2], spec, f"{what} from the home pose"))
        elif rule.event is not None and rule.event.kind == MOVE:
            region = rule.event.region_in(world.cell)
            if region is None:
                if rule.breaks_at(True, held, closed, happened):
                    out.append(_broken(rule, "a move"))
            elif rule.breaks_at(True, held, closed, happened):
                out.append(_move_into(rule, region, target, spec))
    return out


def _move_into(rule: Rule, region: Any, target: tuple, spec: SafetySpec) -> Property:
    """A move whose target lies in `region` (grown by the margin) breaks the rule (the state
    already says it would); the monitor tests the target in the region less its tolerance."""
    def inside(grow: float) -> Any:
        if not any(is_sym(v) for v in target):
            return region.contains(tuple(float(v) for v in target), -grow)
        return _in_region(region, tuple(as_real(v) for v in target), grow)

    def explain(val):
        where = ", ".join(_fmt(val(v)) for v in target)
        return f"moves to ({where}); the rule says: {rule.words()}", 0.0, tuple(val(v) for v in target)

    return Property(rule.name, CODE_RULE, inside(spec.margin), inside(-POSITION_TOLERANCE), True, explain,
                    clear=inside(-CLEAR))


def _avoid(rule: Rule, ref: tuple, start: tuple, target: tuple, spec: SafetySpec, t: Any) -> Property:
    """No point of the segment lies in the rule's box placed at `ref` (grown by the margin):
    the keep-out obligation of capc.safety.obligations, with a box that may move with an
    object (its bounds are then terms of the object's unknown position)."""
    m = spec.margin
    if not any(is_sym(v) for v in start + target + tuple(ref)):
        box = rule.region(ref if rule.target else None)
        a, b = [float(v) for v in start], [float(v) for v in target]
        hit, hit_true = segment_hits(box, a, b, m), segment_hits(box, a, b, 0.0)
        return Property(rule.name, CODE_RULE, hit, hit_true, not hit_true, lambda val: _avoid_words(rule, box, a, b))
    point = tuple(as_real(s) + t * (as_real(e) - as_real(s)) for s, e in zip(start, target))
    region = rule.box
    if isinstance(region, Cylinder):  # a disc around the (moved) centre, between two heights
        cx, cy = as_real(ref[0]) + region.cx, as_real(ref[1]) + region.cy
        lows, highs = [as_real(ref[2]) + region.z.low], [as_real(ref[2]) + region.z.high]

        def inside(grow: float):
            r = region.radius + grow
            dx, dy = point[0] - cx, point[1] - cy
            return z3.And(t >= 0, t <= 1, dx * dx + dy * dy <= r * r, point[2] >= lows[0] - grow,
                          point[2] <= highs[0] + grow)
    else:
        lows = [as_real(r) + a.low for r, a in zip(ref, region.axes)]
        highs = [as_real(r) + a.high for r, a in zip(ref, region.axes)]

        def inside(grow: float):
            return z3.And(t >= 0, t <= 1,
                          *[z3.And(c >= lo - grow, c <= hi + grow) for c, lo, hi in zip(point, lows, highs)])

    def explain(val):
        box = rule.region(tuple(val(r) for r in ref) if rule.target else None)
        return _avoid_words(rule, box, [val(c) for c in start], [val(c) for c in target])

    # as for keep-out zones: "the segment missed the box" needs a quantifier; assume nothing
    return Property(rule.name, CODE_RULE, inside(m), inside(-POSITION_TOLERANCE), True, explain, segment_t=t,
                    clear=inside(-CLEAR))


def _avoid_words(rule: Rule, box, a: list, b: list):
    hit = segment_enters(KeepOut(rule.label, box), tuple(a), tuple(b))
    entry, inside = hit if hit is not None else (tuple(b), 0.0)
    return (f"the straight path enters the box at ({', '.join(_fmt(c) for c in entry)}), {_fmt(inside)} m of it "
            f"inside; the rule says: {rule.words()}", inside, entry)


def _carry_speed(rule: Rule, speed: Any, what: str) -> Property:
    limit = rule.value * (1 + RATE_TOLERANCE)  # the monitor's test
    passed = _le(speed, limit + slack(limit)) if is_sym(speed) else _le(speed, limit)

    def explain(val):
        v = val(speed)
        if not math.isfinite(v):
            return f"{what} at a speed that is not a finite number", 0.0, None
        return (f"{what} at {_fmt(v)} m/s, above {_fmt(rule.value)} m/s; the rule says: {rule.words()}",
                v - rule.value, None)

    return Property(rule.name, CODE_RULE, _gt(speed, rule.value), _gt(speed, limit), passed, explain)


def grip_properties(spec: SafetySpec, close: bool, taken: str | None, grasps: int, world,
                    before: tuple) -> list[Property]:
    """The rules of a gripper action: after a closing one took `taken` (None: nothing new)
    as grasp number `grasps`; before an opening one lets go of what `world` holds. `before`
    is the state (held, closed, happened) just before the action (the monitor's order of
    checks: capc.safety.rules.grip_breaks)."""
    out: list[Property] = []
    held_before, closed_before, happened = before
    held = world.held
    after = (held, True) if close else (None, False)
    for rule in spec.rules:
        if rule.event is not None:
            if rule.breaks_at(rule.event.at_grip(close, taken, held_before), held_before, closed_before, happened):
                out.append(_broken(rule, f"the gripper {'closes' if close else 'opens'}" + (
                    f" on {taken!r}" if taken is not None else f" holding {held_before!r}" if held_before else "")))
        elif rule.kind == CARRY_HEIGHT and rule.carries(*after) and not rule.carries(held_before, closed_before):
            what = f"takes {taken!r}" if rule.state is None else f"the gripper {'closes' if close else 'opens'}"
            out.append(_height(rule, world.tcp()[2], spec, what))
        elif close and taken is not None and rule.kind == NEVER_PICK and rule.obj == taken:
            out.append(_broken(rule, f"the gripper closes on {taken!r}"))
        elif close and taken is not None and rule.kind == MAX_GRASPS and grasps > rule.value:
            out.append(_broken(rule, f"grasp number {grasps} takes {taken!r}", grasps - rule.value))
        elif not close and rule.kind == RELEASE_HEIGHT and rule.applies(held):
            out.append(_release(rule, held, world, spec))
        elif (not close and held is not None and rule.kind == NEVER_PLACE and rule.applies(held)
              and rule.target in world.positions and rule.target != held):
            out.append(_placement(rule, held, world, spec))
    return out


def end_properties(spec: SafetySpec, world) -> list[Property]:
    """`at_end: {empty: X}`: when the program has run to its end, no object but X (and what
    is held) has its centre within X's support reach (grown by the margin)."""
    out = []
    for rule in spec.rules:
        if rule.kind == END_STATE and not rule.state.holds(world.held, world.closed):
            out.append(_broken(rule, f"the program ends with the gripper {'closed' if world.closed else 'open'}, "
                                     f"holding {repr(world.held) if world.held else 'nothing'}"))
            continue
        if rule.kind != EMPTY_AT_END or rule.target not in world.positions or rule.target == world.held:
            continue
        tx, ty, _ = world.positions[rule.target]
        kind = world.kind(rule.target)
        others = [(n, world.positions[n]) for n in world.positions if n not in (rule.target, world.held)]

        def within(grow: float, tx=tx, ty=ty, kind=kind, others=others):
            return disj([_over(world.cell, kind, _real(p[0] - tx), _real(p[1] - ty), grow) for _, p in others])

        def explain(val, rule=rule, tx=tx, ty=ty, kind=kind, others=others):
            from capc.safety.rules import support_xy

            inside = [n for n, p in others if support_xy(world.cell, kind, val(p[0]) - val(tx), val(p[1]) - val(ty), 0.0)]
            what = ", ".join(repr(n) for n in inside) or "an object"
            return f"{what} is in or on the {rule.target} when the program ends; the rule says: {rule.words()}", 0.0, None

        out.append(Property(rule.name, CODE_RULE, within(spec.margin), within(-POSITION_TOLERANCE), True, explain,
                            clear=within(-CLEAR)))
    return out


def _real(v: Any) -> Any:
    return as_real(v) if is_sym(v) else v


def _release(rule: Rule, held: str, world, spec: SafetySpec) -> Property:
    """The drop: the held object's reference height now, less the one it comes to rest at
    (WorldState.support_height: the kinematic backend's rule, an if-then-else term)."""
    x, y, z = world.true_position(held)
    drop = z - world.support_height(held, x, y, z)
    if is_sym(drop):
        drop = as_real(drop)
    limit, tol = rule.value, POSITION_TOLERANCE
    high = limit + tol

    def explain(val):
        v = val(drop)
        return (f"lets {held!r} go {_fmt(v)} m above where it comes to rest; the rule says: {rule.words()}",
                v - limit, None)

    passed = _le(drop, high + slack(high)) if is_sym(drop) else _le(drop, high)
    return Property(rule.name, CODE_RULE, _gt(drop, limit - spec.margin), _gt(drop, high), passed, explain,
                    clear=_gt(drop, limit + CLEAR))


def _over(cell: Any, kind: str, dx: Any, dy: Any, grow: float) -> Any:
    reach = cell.support_reach(kind) + grow
    if kind == "block":
        return conj([_le(sym_abs(dx), reach), _le(sym_abs(dy), reach)])
    d2 = dx * dx + dy * dy
    return _le(d2, reach * reach)


def _placement(rule: Rule, held: str, world, spec: SafetySpec) -> Property:
    hx, hy, _ = world.true_position(held)
    tx, ty, _ = world.positions[rule.target]
    kind = world.kind(rule.target)
    dx, dy = hx - tx, hy - ty
    if is_sym(dx):
        dx = as_real(dx)
    if is_sym(dy):
        dy = as_real(dy)

    def explain(val):
        x, y = val(hx), val(hy)
        return (f"lets {held!r} go at ({_fmt(x)}, {_fmt(y)}), over the {rule.target}; the rule says: "
                f"{rule.words()}", 0.0, None)

    # passing the monitor says the centre was not within the reach shrunk by its tolerance;
    # assuming nothing of it is weaker, and sound
    return Property(rule.name, CODE_RULE, _over(world.cell, kind, dx, dy, spec.margin), _over(world.cell, kind, dx, dy, -POSITION_TOLERANCE),
                    True, explain, clear=_over(world.cell, kind, dx, dy, -CLEAR))

