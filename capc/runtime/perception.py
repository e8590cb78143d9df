"""What the policy perceives: object positions read from the backend's state, optionally with
seeded Gaussian noise clipped to the spec's perception tolerance.

The noise is horizontal only (a top-down camera: CaP's `get_obj_pos` returns xy) and fresh
for every query, like a new camera frame. Clipping keeps every perceived position within
`spec.perception_tolerance` of the truth per axis, which is exactly the uncertainty the
verifier assumes in scene mode: a run never perceives a world the proof did not cover.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from capc.compiler.scene import Scene
from capc.safety.spec import SafetySpec


class Perception:
    def __init__(self, backend, scene: Scene, spec: SafetySpec, *, noise: float = 0.0, seed: int = 0):
        self.backend = backend
        self.scene = scene
        self.noise = float(noise)
        self.tolerance = spec.perception_tolerance
        self.rng = np.random.default_rng(seed)
        self.kinds = {o.name: o.kind for o in scene.objects}
        self.colors = {o.name: o.color for o in scene.objects}

    def names(self) -> list[str]:
        return list(self.kinds)

    def knows(self, name: Any) -> bool:
        return isinstance(name, str) and name in self.kinds

    def position(self, name: str) -> np.ndarray:
        """Perceived xyz of `name` (the caller has checked that it exists)."""
        true = self.backend.object_positions()[name]
        if self.noise <= 0.0:
            return true.copy()
        error = np.clip(self.rng.normal(0.0, self.noise, 2), -self.tolerance, self.tolerance)
        return np.array([true[0] + error[0], true[1] + error[1], true[2]])
