"""The backend interface: what the runtime needs from a robot, simulated or real.

Kept small (dm_control's split: the physics behind this, the task and the policy in front):
reset to a scene, take one TCP set-point per control tick, open/close the gripper, report
the state, stop. The runtime only calls a backend with commands the monitor has passed.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from capc.compiler.scene import Scene
from capc.diagnostics import CapcError, Diagnostic
from capc.safety.spec import SafetySpec


class RobotFault(CapcError):
    """A robot that cannot go on (unreachable, connection lost, a reflex, tracking error):
    the run ends with the fault's code after `stop()`, status "robot_fault"."""

    exit_code = 1

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(Diagnostic(code, message, None, "runtime", hint))


class Backend(Protocol):
    name: str

    def reset(self, scene: Scene, spec: SafetySpec, tcp_start: tuple[float, float, float]) -> None:
        """Place the objects of `scene` and the tool centre point at `tcp_start`."""

    def send_setpoint(self, tcp: np.ndarray, dt: float) -> None:
        """Drive the tool centre point to `tcp` (xyz, metres) over one control tick of `dt` s."""

    def set_gripper(self, close: bool) -> str | None:
        """Close (grasping what lies within reach) or open the gripper; returns the name of the
        object now held, if any. May take several internal ticks."""

    def tcp(self) -> np.ndarray:
        """The measured tool centre point, xyz."""

    def object_positions(self) -> dict[str, np.ndarray]:
        """Every object's reference point, xyz (block centre, bowl floor centre)."""

    def held_object(self) -> str | None: ...

    def sim_time(self) -> float:
        """Seconds of robot time elapsed since reset."""

    def stop(self) -> None:
        """Halt all motion now (the monitor calls this on a violation)."""

    def close(self) -> None:
        """Release resources (physics client, renderer)."""

# Optional, looked up with hasattr: `begin_segment(target)`, told where the next straight segment
# ends before its set-points are sent (the sim chooses the fingers' closing axis there), and
# `settle()`, come to rest at the last set-point (before a stop between segments: E525).
