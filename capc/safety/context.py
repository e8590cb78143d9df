"""What a verdict is about: the limits, the world, the mode and the profile.

A verdict is only true of the world and the limits it was reached under, so every entry point
(`capc check`, `capc run` with a file or `-i`, `capc compile`, `capc shell`, `capc demo`, and
the Python functions behind them) builds one `VerificationContext` and verifies through it:

* the limits file given (never the defaults in its place);
* the scene file given, or where none is given the scene the run starts in (what the backend
  is reset to; `capc.runtime.execute` refuses to move when the backend reports a start more
  than the perception tolerance away from it);
* scene-free mode (`--any-scene`: the scene's objects, or the policy's, anywhere in the spawn
  area) only when asked for, or when there is no scene at all (`capc check` without `--scene`).

The same context is stored with the audit record (`to_json`), so `capc audit recheck` asks
the same question again. The context does not pick a default itself: it says what it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capc.limits import DEFAULT_LIMITS, ResourceLimits

MODE_SCENE = "scene"
MODE_ANY_SCENE = "any_scene"


@dataclass(frozen=True)
class VerificationContext:
    spec: Any                          # SafetySpec: the limits file given, or the cell's defaults
    scene: Any = None                  # Scene, or None (scene-free)
    any_scene: bool = False            # asked for scene-free verification
    profile: str = "tabletop"
    limits: ResourceLimits = DEFAULT_LIMITS

    @property
    def mode(self) -> str:
        return MODE_ANY_SCENE if self.any_scene or self.scene is None else MODE_SCENE

    def with_scene(self, scene: Any) -> "VerificationContext":
        return VerificationContext(self.spec, scene, self.any_scene, self.profile, self.limits)

    def verify(self, program: Any):
        """The verifier's report for `program` in this context (imports z3)."""
        from capc.safety.verifier import verify

        return verify(program, self.spec, self.scene, any_scene=self.mode == MODE_ANY_SCENE,
                      limits=self.limits)

    def to_json(self) -> dict[str, Any]:
        """What the audit store keeps beside each verdict."""
        return {"mode": self.mode, "profile": self.profile,
                "scene": self.scene.to_json() if self.scene is not None else None,
                "spec": self.spec.to_json()}
