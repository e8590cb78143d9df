"""The robot profiles a program can name (`Program.profile`): `get_profile(name)`.

The registry (capc.compiler.registry) says what a profile is and keeps the table that
profile modules fill with `register_profile`; this module sits above both and imports the
profile modules, so the registry never imports an embodiment. A second embodiment is a
module that calls `register_profile`, imported here; this is the one module besides the
tabletop's own that imports it (tests/test_import_graph.py checks that): everything else
reads the embodiment from a profile.
"""

from __future__ import annotations

from capc.compiler import tabletop  # noqa: F401  (registers "tabletop")
from capc.compiler.registry import RobotProfile, registered_profile


# The profile of a program that names none (`ir.Program.profile`), and of the readers that
# have no program at hand (a scene file read before the policy, the simulator's bodies).
DEFAULT_PROFILE = "tabletop"


def get_profile(name: str = DEFAULT_PROFILE) -> RobotProfile:
    return registered_profile(name)
