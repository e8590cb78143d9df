"""Backends by name: what `capc run --backend NAME` and `execute(backend="NAME")` build."""

from __future__ import annotations

from capc.compiler.profiles import get_profile
from capc.compiler.registry import RobotProfile
from capc.diagnostics import InputError

BACKEND_NAMES = ("kinematic", "sim", "franka")


def make_backend(name: str, *, gui: bool = False, profile: RobotProfile | None = None, **options):
    """A fresh backend for `profile`'s cell (None: the default profile), one of the backends
    the profile declares. PyBullet is imported only for "sim", franky only for "franka"
    (options: `robot_ip`, `robot_config`: a cell file path or a FrankaCell)."""
    profile = profile or get_profile()
    if name in BACKEND_NAMES and name not in profile.backends:
        raise InputError(f"the {profile.name} robot has no '{name}' backend",
                         hint="choose one of: " + ", ".join(profile.backends))
    if name == "kinematic":
        if gui:
            raise InputError("the kinematic backend has no display; use --backend sim with --gui")
        from capc.runtime.kinematic import KinematicBackend

        return KinematicBackend(profile.cell, **options)
    if name == "sim":
        from capc.runtime.sim import SimBackend

        return SimBackend(gui=gui, profile=profile, **options)
    if name == "franka":
        if gui:
            raise InputError("the franka backend drives a real robot and has no display")
        from capc.runtime.franka import FrankaBackend
        from capc.runtime.franka_cell import load_cell

        cell = options.pop("robot_config", None)
        if cell is None:
            raise InputError("the franka backend needs the robot's cell file (--robot-config CELL.yaml)",
                             hint="see examples/franka/franky_sim.cell.yaml and docs/robots.md")
        if isinstance(cell, str):
            cell = load_cell(cell)
        return FrankaBackend(options.pop("robot_ip", None), cell, **options)
    raise InputError(f"unknown backend '{name}'", hint="choose one of: " + ", ".join(BACKEND_NAMES))
