"""The kinematic backend: no physics, exact and fast (tests, property tests, benchmarks).

The tool centre point *is* the last set-point. A closing gripper takes the object whose
grasp point (the cell's grasp_z: a block's centre, a bowl's mid-height) is nearest the TCP and
within its grasp_radius; the held object then keeps its offset to the TCP. An opening
gripper lets it down onto its support below (the cell's released_height, the rule the verifier and the
plans share): on the table, on the top face of a block it is centred over (within half a
block), or on the floor of a bowl whose outline it is inside. Objects standing on a block that is picked up stay
where they are (there is no physics to topple or carry them).

The hot path (`send_setpoint`) stores the set-point as given (a row of plain floats from the
runtime) and touches no numpy: see bench/runtime.py for the rate.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from capc.compiler.profiles import get_profile
from capc.compiler.scene import Scene
from capc.safety.spec import SafetySpec

GRIPPER_SECONDS = 0.25   # a close or open takes this long (the sim's 60 ticks at 240 Hz)


class KinematicBackend:
    name = "kinematic"

    def __init__(self, cell=None):
        """`cell`: the profile's cell whose rules it follows (None: the default profile's)."""
        self.cell = get_profile().cell if cell is None else cell
        self._tcp: Sequence[float] = (0.0, 0.0, 0.0)
        self._objects: dict[str, list[float]] = {}
        self._kinds: dict[str, str] = {}
        self._held: str | None = None
        self._offset = (0.0, 0.0, 0.0)
        self._time = 0.0
        self._ticks = 0
        self.stopped = False

    def reset(self, scene: Scene, spec: SafetySpec, tcp_start: tuple[float, float, float]) -> None:
        self._tcp = tuple(float(v) for v in tcp_start)
        self._objects = {o.name: [float(v) for v in o.position] for o in scene.objects}
        self._kinds = {o.name: o.kind for o in scene.objects}
        self._held, self._offset = None, (0.0, 0.0, 0.0)
        self._time, self._ticks, self.stopped = 0.0, 0, False

    def send_setpoint(self, tcp: Sequence[float], dt: float) -> None:
        self._tcp = tcp
        self._ticks += 1
        self._time += dt
        if self._held is not None:
            ox, oy, oz = self._offset
            self._objects[self._held] = [tcp[0] + ox, tcp[1] + oy, tcp[2] + oz]

    def set_gripper(self, close: bool) -> str | None:
        self._time += GRIPPER_SECONDS
        if close:
            if self._held is None:
                name = self._graspable()
                if name is not None:
                    self.take(name)
        elif self._held is not None:
            name, self._held = self._held, None
            self._objects[name][2] = self._support_height(name)
        return self._held

    def graspable(self) -> str | None:
        """The object a closing gripper would take now (None: nothing within reach)."""
        return self._graspable()

    def place(self, name: str, position) -> None:
        """Put `name` at `position` (xyz) without physics: an observer's expectation follows
        what was measured (capc.runtime.outcomes)."""
        self._objects[name] = [float(v) for v in position]

    def take(self, name: str) -> None:
        """Hold `name` where it is now, whatever the nearest-grasp rule would take."""
        self._held = name
        pos = self._objects[name]
        self._offset = (pos[0] - self._tcp[0], pos[1] - self._tcp[1], pos[2] - self._tcp[2])

    def _graspable(self) -> str | None:
        x, y, z = (float(v) for v in self._tcp)
        best, best_d = None, self.cell.grasp_radius
        for name, (ox, oy, oz) in self._objects.items():
            gz = self.cell.grasp_z(self._kinds[name], oz)
            d = math.sqrt((ox - x) ** 2 + (oy - y) ** 2 + (gz - z) ** 2)
            if d <= best_d:
                best, best_d = name, d
        return best

    def _support_height(self, name: str) -> float:
        """The reference height `name` comes to rest at when released where it is."""
        x, y, z = self._objects[name]
        others = ((self._kinds[o], p) for o, p in self._objects.items() if o != name)
        return self.cell.released_height(self._kinds[name], x, y, z, others)

    def tcp(self) -> np.ndarray:
        return np.array(self._tcp, dtype=float)

    def object_positions(self) -> dict[str, np.ndarray]:
        return {name: np.array(pos, dtype=float) for name, pos in self._objects.items()}

    def held_object(self) -> str | None:
        return self._held

    def sim_time(self) -> float:
        return self._time

    @property
    def ticks(self) -> int:
        return self._ticks

    def stop(self) -> None:
        self.stopped = True  # nothing moves without a set-point: holding still is free

    def close(self) -> None:
        pass
