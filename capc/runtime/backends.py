"""Backends by name: what `capc run --backend NAME` and `execute(backend="NAME")` build."""

from __future__ import annotations

from capc.diagnostics import InputError

BACKEND_NAMES = ("kinematic", "sim")


def make_backend(name: str, *, gui: bool = False, **options):
    """A fresh backend. PyBullet is imported only for "sim"."""
    if name == "kinematic":
        if gui:
            raise InputError("the kinematic backend has no display; use --backend sim with --gui")
        from capc.runtime.kinematic import KinematicBackend

        return KinematicBackend(**options)
    if name == "sim":
        from capc.runtime.sim import SimBackend

        return SimBackend(gui=gui, **options)
    raise InputError(f"unknown backend '{name}'", hint="choose one of: " + ", ".join(BACKEND_NAMES))
