"""Backends by name: what `capc run --backend NAME` and `execute(backend="NAME")` build."""

from __future__ import annotations

from capc.diagnostics import InputError

BACKEND_NAMES = ("kinematic", "sim", "franka")


def make_backend(name: str, *, gui: bool = False, **options):
    """A fresh backend. PyBullet is imported only for "sim", franky only for "franka"
    (options: `robot_ip`, `robot_config`: a cell file path or a FrankaCell)."""
    if name == "kinematic":
        if gui:
            raise InputError("the kinematic backend has no display; use --backend sim with --gui")
        from capc.runtime.kinematic import KinematicBackend

        return KinematicBackend(**options)
    if name == "sim":
        from capc.runtime.sim import SimBackend

        return SimBackend(gui=gui, **options)
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
