"""The embodiment is the profile's: the safety case and the runtime read cells, objects and the
answers to perception and geometry calls from the program's `RobotProfile`, never from the
tabletop module (tests/test_import_graph.py checks the imports; tests/test_second_profile.py
runs a second profile through the checker, verifier, monitor and kinematic backend)."""

from __future__ import annotations

import numpy as np

from capc.compiler.profiles import get_profile


class _Seen:
    def __init__(self, xy, kinds):
        self._xy, self._kinds = xy, kinds

    def xy(self, name):
        return self._xy[name]

    def kind(self, name):
        return self._kinds[name]

    def vector(self, values):
        return np.array(values, dtype=float)


def test_the_profile_answers_perception_and_geometry():
    profile = get_profile("tabletop")
    seen = _Seen({"red block": (0.1, -0.5), "blue bowl": (-0.1, -0.4)}, {"red block": "block", "blue bowl": "bowl"})
    half_block, rim = profile.cell.block_size / 2, profile.cell.bowl_radius
    assert np.allclose(profile.answer("get_bbox", {"obj_name": "red block"}, seen),
                       [0.1 - half_block, -0.5 - half_block, 0.1 + half_block, -0.5 + half_block])
    assert np.allclose(profile.answer("get_bbox", {"obj_name": "blue bowl"}, seen),
                       [-0.1 - rim, -0.4 - rim, -0.1 + rim, -0.4 + rim])
    assert np.allclose(profile.answer("get_obj_pos", {"obj_name": "red block"}, seen), [0.1, -0.5])
    corner = profile.answer("get_corner_name", {"pos": profile.cell.places["top left corner"]}, seen)
    assert corner == "top left corner"
    assert np.allclose(profile.answer("denormalize_xy", {"pos_normalized": (0.5, 0.5)}, seen),
                       profile.cell.denormalize_xy((0.5, 0.5)))
