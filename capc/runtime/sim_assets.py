"""Bodies of the PyBullet tabletop: the table, 4 cm blocks and bowls, built from its cell.

Everything is sized from the tabletop profile's cell and coloured with its paint (the
`ShapeCache` carries both; `SimBackend` takes them from its profile), so the
simulated cell is the one the verifier and the kinematic backend reason about. Shapes are
created once per physics client and shared by every body of the same kind (creating a
shape is cheap, but a scene is re-placed on every reset).

Reference points (as the cell defines them): a block's base frame is its centre; a bowl's base
frame is the centre of its underside, on the table (z = 0), so `getBasePositionAndOrientation`
returns exactly what `object_positions()` must report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from typing import Any

BOWL_WALL_SEGMENTS = 12      # the bowl's wall is a ring of this many flat boxes
BOWL_WALL_THICKNESS = 0.005  # m
BLOCK_MASS = 0.05            # kg; a 4 cm wooden cube weighs about this
BOWL_MASS = 0.3              # kg; heavy enough not to skid when a finger brushes it
OBJECT_FRICTION = 1.0        # lateral friction of blocks and bowls (the fingers have 1.0 too)
TABLE_RGBA = (0.82, 0.74, 0.62, 1.0)
TABLE_MARGIN = 0.15          # the drawn table extends this far beyond the workspace


@dataclass
class ShapeCache:
    """Collision and visual shape ids of one physics client, made on first use."""

    client: int
    cell: Any                                  # the profile's cell: sizes of table, blocks, bowls
    paint: dict[str, tuple[float, float, float, float]]  # the profile's RGBA per colour word
    collision: dict[str, int] = field(default_factory=dict)
    visual: dict[tuple[str, str], int] = field(default_factory=dict)


def add_table(p, client: int, cell: Any) -> int:
    """A static box whose top face is z = 0, under the whole workspace. The robot stands on
    the same plane (its base frame is the origin), so the table also carries the robot."""
    b = cell.table_bounds
    half = ((b.x.high - b.x.low) / 2 + TABLE_MARGIN,
            (0.0 - b.y.low) / 2 + TABLE_MARGIN,  # from behind the robot base to the far edge
            0.025)
    centre = ((b.x.high + b.x.low) / 2, b.y.low / 2, -half[2])
    col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=client)
    vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=TABLE_RGBA,
                              physicsClientId=client)
    body = p.createMultiBody(0, col, vis, centre, physicsClientId=client)
    p.changeDynamics(body, -1, lateralFriction=OBJECT_FRICTION, physicsClientId=client)
    return body


def _bowl_parts(cell: Any) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]],
                           list[tuple[float, float, float, float]]]:
    """Half extents, positions and orientations (relative to the bowl's underside centre)
    of the floor and wall boxes. The walls stand ON the floor, so only the floor touches the
    table: one contact manifold per bowl instead of thirteen (a 6x cheaper physics step)."""
    r, h, floor, t = cell.bowl_radius, cell.bowl_height, cell.bowl_floor, BOWL_WALL_THICKNESS
    n = BOWL_WALL_SEGMENTS
    # A square floor whose corners reach the wall ring's outer radius.
    half_side = r / math.sqrt(2)
    halves = [(half_side, half_side, floor / 2)]
    positions = [(0.0, 0.0, floor / 2)]
    orientations = [(0.0, 0.0, 0.0, 1.0)]
    chord = 2 * r * math.tan(math.pi / n)
    wall_half_height = (h - floor) / 2
    for i in range(n):
        angle = 2 * math.pi * i / n
        mid = r - t / 2
        halves.append((t / 2, chord / 2, wall_half_height))
        positions.append((mid * math.cos(angle), mid * math.sin(angle), floor + wall_half_height))
        orientations.append((0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2)))
    return halves, positions, orientations


def _collision_shape(p, cache: ShapeCache, kind: str) -> int:
    if kind not in cache.collision:
        if kind == "bowl":
            halves, positions, orientations = _bowl_parts(cache.cell)
            shape = p.createCollisionShapeArray(
                [p.GEOM_BOX] * len(halves), halfExtents=halves, collisionFramePositions=positions,
                collisionFrameOrientations=orientations, physicsClientId=cache.client)
        else:
            s = cache.cell.block_size / 2
            shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=(s, s, s),
                                           physicsClientId=cache.client)
        cache.collision[kind] = shape
    return cache.collision[kind]


def _visual_shape(p, cache: ShapeCache, kind: str, color: str) -> int:
    key = (kind, color)
    if key not in cache.visual:
        rgba = cache.paint.get(color, cache.paint["gray"])
        if kind == "bowl":
            halves, positions, orientations = _bowl_parts(cache.cell)
            shape = p.createVisualShapeArray(
                [p.GEOM_BOX] * len(halves), halfExtents=halves, visualFramePositions=positions,
                visualFrameOrientations=orientations, rgbaColors=[rgba] * len(halves),
                physicsClientId=cache.client)
        else:
            s = cache.cell.block_size / 2
            shape = p.createVisualShape(p.GEOM_BOX, halfExtents=(s, s, s), rgbaColor=rgba,
                                        physicsClientId=cache.client)
        cache.visual[key] = shape
    return cache.visual[key]


def add_object(p, cache: ShapeCache, kind: str, color: str,
               position: tuple[float, float, float]) -> int:
    """One block or bowl with its reference point at `position`."""
    mass = BOWL_MASS if kind == "bowl" else BLOCK_MASS
    body = p.createMultiBody(mass, _collision_shape(p, cache, kind), _visual_shape(p, cache, kind, color),
                             position, physicsClientId=cache.client)
    # Resting objects may sleep (Bullet stops simulating them until something touches
    # them): a step of the full scene then costs what the arm alone costs.
    p.changeDynamics(body, -1, lateralFriction=OBJECT_FRICTION, spinningFriction=0.001,
                     rollingFriction=0.0001, activationState=p.ACTIVATION_STATE_ENABLE_SLEEPING,
                     physicsClientId=cache.client)
    if abs(position[2] - cache.cell.resting_z(kind)) < 1e-3:
        p.changeDynamics(body, -1, activationState=p.ACTIVATION_STATE_SLEEP,
                         physicsClientId=cache.client)
    return body
