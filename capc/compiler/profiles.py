"""The robot profiles a program can name (`Program.profile`): `get_profile(name)`.

The registry (capc.compiler.registry) says what a profile is and keeps the table that
profile modules fill with `register_profile`; this module sits above both and imports the
profile modules, so the registry never imports an embodiment. A second embodiment is a
module that calls `register_profile`, imported here.
"""

from __future__ import annotations

from capc.compiler import tabletop  # noqa: F401  (registers "tabletop")
from capc.compiler.registry import RobotProfile, registered_profile


def get_profile(name: str = "tabletop") -> RobotProfile:
    return registered_profile(name)
