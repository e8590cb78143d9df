"""The gripper's volume, and what a straight motion of it would run into (floats, no physics).

The sim's Panda hand points straight down with its fingers closing along world y, or along
x after a quarter turn (`choose_axis`, the rule the sim backend follows). Its parts, as
boxes relative to the tool centre point (the Panda's collision shapes in PyBullet, probed
with a point, fingers open at the sim's `FINGER_OPEN`): two fingers 24-54 mm out along the
closing axis, 12 mm either side across it, from 9 mm below the TCP to 48 mm above; the hand
10.4 cm either side along the axis, 2.8 cm across, from 3.8 cm above the TCP up.

`sweep_hit` is what the runtime's observer (capc.runtime.outcomes) checks before a segment
is sent, on every backend alike: the first object the fingers, the hand or the held object
would run into on the way. Objects are 4 cm cubes and bowls (a floor disc under a wall ring)
at the positions the backend reports; the table is not an object. A contact the plan means
is not a collision: fingers going straight down into a bowl or up out of it (its grasp point
within the grasp radius of an end of the segment) may brush its wall, fingers around a block
have 4 mm each side, and a held block lowered onto a support only touches it (a held object's
overlaps shallower than `CONTACT` do not count; the fingers' and the hand's do). Boxes are
checked against blocks exactly (where along the segment they first overlap), against bowls
and for a held bowl pose by pose, every `SAMPLE_STEP`.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

# The collision shapes, probed with a point in PyBullet (its AABBs are 2-4 mm larger).
FINGER_SPAN = (0.024, 0.054)      # along the closing axis, from the TCP
FINGER_HALF_WIDTH = 0.012         # across it
FINGER_Z = (-0.009, 0.048)        # from the TCP's height
HAND_HALF = (0.104, 0.028)        # along the closing axis, across it
HAND_Z = (0.038, 0.126)
# The turning rule reads the fingers' AABBs (a few mm of room to spare).
TURN_SPAN, TURN_HALF_WIDTH = (0.022, 0.056), 0.0145
# A finger closer than this to a neighbour's outline makes the hand turn a quarter to close
# along the other axis, if that is clearer (a bowl's rim 8 cm from a block's centre is 2 cm
# from it).
FINGER_CLEARANCE = 0.01
# m: a shallower overlap of a held object is a touch (settling, a support's face).
CONTACT = 0.002
# The fingers and the hand touch nothing the plans mean them to (4 mm beside a block, above a
# support): any overlap counts. A finger 1 mm into a block's top knocked it 3 cm in the sim.
GRIPPER_CONTACT = 0.0
REACH = HAND_HALF[0] + 0.2        # m: nothing the hand or what it holds touches is farther (a bowl is 12 cm wide)
SAMPLE_STEP = 0.004               # m between the poses a segment is checked at (objects are 4 cm)

Box = tuple[float, float, float, float, float, float]   # x0, x1, y0, y1, z0, z1
# What a cell must say about its objects for the sweep: the tabletop's blocks and bowls. A
# profile whose cell says nothing of them (tests/shelf_profile.py) gets no prediction.
CELL_FIELDS = ("block_size", "bowl_radius", "bowl_height", "bowl_floor", "travel_height", "grasp_radius")


def applies(cell: Any) -> bool:
    return all(hasattr(cell, name) for name in CELL_FIELDS)


def finger_boxes(x: float, y: float, z: float, axis: str, span: tuple[float, float] = FINGER_SPAN,
                 w: float = FINGER_HALF_WIDTH) -> list[Box]:
    lo, hi = span
    z0, z1 = z + FINGER_Z[0], z + FINGER_Z[1]
    if axis == "y":
        return [(x - w, x + w, y - hi, y - lo, z0, z1), (x - w, x + w, y + lo, y + hi, z0, z1)]
    return [(x - hi, x - lo, y - w, y + w, z0, z1), (x + lo, x + hi, y - w, y + w, z0, z1)]


def hand_box(x: float, y: float, z: float, axis: str) -> Box:
    along, across = HAND_HALF
    hx, hy = (across, along) if axis == "y" else (along, across)
    return (x - hx, x + hx, y - hy, y + hy, z + HAND_Z[0], z + HAND_Z[1])


def finger_clearance(x: float, y: float, axis: str, objects: dict[str, Any], kinds: dict[str, str],
                     held: str | None, cell: Any) -> float:
    """How far the open fingers over (x, y), closing along `axis`, are from the outline of any
    object but the held one and the one between them (its centre within the grasp radius of
    (x, y)), seen from above."""
    best = math.inf
    for name, (ox, oy, _) in objects.items():
        if name == held or math.hypot(ox - x, oy - y) <= cell.grasp_radius:
            continue
        for x0, x1, y0, y1, _, _ in finger_boxes(x, y, 0.0, axis, TURN_SPAN, TURN_HALF_WIDTH):
            dx = max(0.0, abs(ox - (x0 + x1) / 2) - (x1 - x0) / 2)
            dy = max(0.0, abs(oy - (y0 + y1) / 2) - (y1 - y0) / 2)
            if kinds.get(name) == "bowl":  # a disc: distance to the finger's rectangle, less the radius
                gap = math.hypot(dx, dy) - cell.bowl_radius
            else:
                b = cell.block_size / 2
                gap = math.hypot(max(0.0, dx - b), max(0.0, dy - b))
            best = min(best, gap)
    return best


def choose_axis(axis: str, target: Iterable[float], objects: dict[str, Any], kinds: dict[str, str],
                held: str | None, cell: Any) -> str:
    """The closing axis after a segment ending at `target`. A segment that ends at travel
    height over a place (the approach to a pick, the carry to a place) is where the hand can
    turn: the fingers will come down there, and a neighbour in their way (a bowl's rim beside
    the block) is avoided by closing along the other axis (the blocks are axis-aligned: either
    pair of faces holds). Lower segments keep the hand as it is."""
    x, y, z = (float(v) for v in target)
    if z < cell.travel_height - 1e-3:
        return axis
    clear = {a: finger_clearance(x, y, a, objects, kinds, held, cell) for a in ("y", "x")}
    other = "x" if axis == "y" else "y"
    return other if clear[axis] < FINGER_CLEARANCE and clear[other] > clear[axis] else axis


# --- what a box runs into -------------------------------------------------------------

def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def _box_box(a: Box, b: Box, contact: float = CONTACT) -> bool:
    return all(_overlap(a[i], a[i + 1], b[i], b[i + 1]) > contact for i in (0, 2, 4))


def _box_ring(box: Box, cx: float, cy: float, inner: float, outer: float, contact: float = CONTACT) -> bool:
    """Does the rectangle of `box` (seen from above) reach into the ring inner < r < outer
    around (cx, cy) by more than `contact`?"""
    x0, x1, y0, y1 = box[:4]
    near = math.hypot(max(x0 - cx, 0.0, cx - x1), max(y0 - cy, 0.0, cy - y1))
    far = math.hypot(max(abs(x0 - cx), abs(x1 - cx)), max(abs(y0 - cy), abs(y1 - cy)))
    return near < outer - contact and far > inner + contact


def _box_object(box: Box, kind: str, pos: Any, cell: Any, contact: float = CONTACT) -> bool:
    ox, oy, oz = pos
    if kind != "bowl":
        h = cell.block_size / 2
        return _box_box(box, (ox - h, ox + h, oy - h, oy + h, oz - h, oz + h), contact)
    floor, top, r = oz + cell.bowl_floor, oz + cell.bowl_height, cell.bowl_radius
    wall = r - 0.005  # the wall ring's inner radius (sim_assets.BOWL_WALL_THICKNESS)
    if _overlap(box[4], box[5], oz, floor) > contact and _box_ring(box, ox, oy, -1.0, r, contact):
        return True
    return _overlap(box[4], box[5], floor, top) > contact and _box_ring(box, ox, oy, wall, r, contact)


def _bowl_object(bowl: Any, kind: str, pos: Any, down_to_table: bool, cell: Any) -> bool:
    """A held bowl (a solid cylinder; `down_to_table`: with the column under it) against an object."""
    bx, by, bz = bowl
    ox, oy, oz = pos
    z0 = 0.0 if down_to_table else bz
    r = cell.bowl_radius
    if kind == "bowl":
        apart = math.hypot(ox - bx, oy - by) >= 2 * r - CONTACT
        return not apart and _overlap(z0, bz + cell.bowl_height, oz, oz + cell.bowl_height) > CONTACT
    h = cell.block_size / 2
    box = (ox - h, ox + h, oy - h, oy + h, oz - h, oz + h)
    return _box_ring(box, bx, by, -1.0, r) and _overlap(z0, bz + cell.bowl_height, box[4], box[5]) > CONTACT


def sweep_hit(start: Iterable[float], end: Iterable[float], axis: str, objects: dict[str, Any],
              kinds: dict[str, str], held: str | None, lowering_bowl: bool = False,
              *, cell: Any) -> tuple[str, str] | None:
    """(object, part) of the first object the gripper's fingers or hand, or the held object,
    would run into moving in a straight line from `start` to `end` (TCP positions), or None.
    `objects` are reference positions (the held one where it is now: it keeps its offset to
    the tool). `lowering_bowl`: the held bowl is being put down, and anything under it counts
    (a bowl rests on the table only: on a block or another bowl it would tilt)."""
    sx, sy, sz = (float(v) for v in start)
    ex, ey, ez = (float(v) for v in end)
    # Fingers that come straight down into a bowl or up out of it (its grasp point within the
    # grasp radius of an end of the segment: to pick it, or to put a block in it) may brush its
    # wall: not a collision. Moving sideways inside it, they drag it.
    around = set()
    vertical = math.hypot(ex - sx, ey - sy) < 1e-3
    for name, (ox, oy, oz) in objects.items():
        if kinds.get(name) != "bowl" or not vertical:
            continue
        gz = cell.grasp_z("bowl", oz)
        if min(math.dist((ox, oy, gz), (sx, sy, sz)), math.dist((ox, oy, gz), (ex, ey, ez))) <= cell.grasp_radius:
            around.add(name)
    offset = None
    if held is not None and held in objects:
        hx, hy, hz = objects[held]
        offset = (hx - sx, hy - sy, hz - sz)
    # Only objects near the segment can be hit: the hand reaches REACH from the TCP (a held
    # bowl as far), and nothing stands higher than a few blocks.
    lo_x, hi_x = min(sx, ex) - REACH, max(sx, ex) + REACH
    lo_y, hi_y = min(sy, ey) - REACH, max(sy, ey) + REACH
    others = [(n, kinds.get(n, "block"), p) for n, p in objects.items()
              if n != held and lo_x <= p[0] <= hi_x and lo_y <= p[1] <= hi_y
              and p[2] <= max(sz, ez) + HAND_Z[1] + REACH]
    if not others:
        return None
    # Nothing to hit when the lowest point of the gripper (and of what it holds) stays above
    # every object's top: most segments, at travel height.
    lowest = min(sz, ez) + FINGER_Z[0]
    if offset is not None:
        bottom = offset[2] - (cell.block_size / 2 if kinds.get(held) != "bowl" else 0.0)
        lowest = min(lowest, 0.0 if lowering_bowl else min(sz, ez) + bottom)
    tops = [p[2] + (cell.block_size / 2 if kind != "bowl" else cell.bowl_height) for _, kind, p in others]
    if lowest >= max(tops):
        return None
    d = (ex - sx, ey - sy, ez - sz)
    h = cell.block_size / 2
    moving = [(box, "fingers") for box in finger_boxes(sx, sy, sz, axis)] + [(hand_box(sx, sy, sz, axis), "hand")]
    held_box = None
    if offset is not None and kinds.get(held) != "bowl":
        cx, cy, cz = sx + offset[0], sy + offset[1], sz + offset[2]
        held_box = ((cx - h, cx + h, cy - h, cy + h, cz - h, cz + h), f"held {held!r}")
    # Boxes against blocks: exactly, where along the segment they first overlap.
    first: tuple[float, str, str] | None = None
    for name, kind, (ox, oy, oz) in others:
        if kind == "bowl":
            continue
        block = (ox - h, ox + h, oy - h, oy + h, oz - h, oz + h)
        for box, part in moving + ([held_box] if held_box else []):
            t = _entry(box, d, block, CONTACT if part.startswith("held") else GRIPPER_CONTACT)
            if t is not None and (first is None or t < first[0]):
                first = (t, name, part)
    # Against bowls (a floor disc under a wall ring), and a held bowl against anything: pose by
    # pose, up to the first block hit.
    bowls = [o for o in others if o[1] == "bowl"]
    held_bowl = offset is not None and kinds.get(held) == "bowl"
    if bowls or held_bowl:
        steps = max(1, math.ceil(math.dist((sx, sy, sz), (ex, ey, ez)) / SAMPLE_STEP))
        for i in range(steps + 1):
            t = i / steps
            if first is not None and t >= first[0]:
                break
            x, y, z = sx + t * d[0], sy + t * d[1], sz + t * d[2]
            for name, kind, pos in (others if held_bowl else bowls):
                if kind == "bowl" and name not in around:
                    for box, part in moving + ([held_box] if held_box else []):
                        contact = CONTACT if part.startswith("held") else GRIPPER_CONTACT
                        if _box_object(_shifted(box, t, d), kind, pos, cell, contact):
                            return name, part
                if held_bowl and _bowl_object((x + offset[0], y + offset[1], z + offset[2]), kind, pos, lowering_bowl, cell):
                    return name, f"held {held!r}"
    return None if first is None else (first[1], first[2])


def _shifted(box: Box, t: float, d: tuple[float, float, float]) -> Box:
    return (box[0] + t * d[0], box[1] + t * d[0], box[2] + t * d[1], box[3] + t * d[1],
            box[4] + t * d[2], box[5] + t * d[2])


def _entry(box: Box, d: tuple[float, float, float], fixed: Box, contact: float) -> float | None:
    """The first t in [0, 1] at which `box` moved by t * d overlaps `fixed` by more than
    `contact` on every axis (None: never). Per axis the overlap is an interval of t."""
    low, high = 0.0, 1.0
    for k in range(3):
        b0, b1, a0, a1, v = box[2 * k], box[2 * k + 1], fixed[2 * k], fixed[2 * k + 1], d[k]
        # b0 + t v < a1 - contact and b1 + t v > a0 + contact
        for p, q, r in ((b0, v, a1 - contact), (-b1, -v, -(a0 + contact))):
            if abs(q) < 1e-15:
                if not p < r:
                    return None
            elif q > 0:
                high = min(high, (r - p) / q)
            else:
                low = max(low, (r - p) / q)
        if low >= high:
            return None
    return low
