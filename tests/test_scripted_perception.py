"""The replay harness's camera (`capc.testing.running.scripted_perception`): the errors a
counterexample chose reach the runtime, and a renamed runtime is refused, not ignored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import parse_scene
from capc.runtime import execute as runtime
from capc.safety.spec import default_spec
from capc.testing.running import ReplayInputs, run_kinematic, scripted_perception

SCENE = parse_scene((Path(__file__).parent / "programs" / "verifier_scene.yaml").read_text(), "verifier_scene.yaml")
POLICY = "p = get_obj_pos('red block')\nmove_to([p[0], p[1], 0.2])\n"


def _inputs(perceived: dict[int, tuple]) -> ReplayInputs:
    return ReplayInputs(SCENE, perceived, {}, {}, ())


def test_a_scripted_camera_error_is_what_the_policy_sees():
    program = compile_source(POLICY)
    truth = run_kinematic(program, SCENE, default_spec())
    with scripted_perception(_inputs({0: (0.11, -0.44)})):
        scripted = run_kinematic(program, SCENE, default_spec())
    assert truth.variables["p"][:2] != pytest.approx([0.11, -0.44])
    assert np.asarray(scripted.variables["p"])[:2] == pytest.approx([0.11, -0.44])
    assert scripted.setpoints[-1][:2] == pytest.approx([0.11, -0.44], abs=1e-6)


def test_the_hooks_are_put_back_after_the_replay():
    before = runtime._Answers._get_obj_pos
    with scripted_perception(_inputs({0: (0.11, -0.44)})):
        assert runtime._Answers._get_obj_pos is not before
    assert runtime._Answers._get_obj_pos is before


def test_a_runtime_without_the_hooked_names_is_refused(monkeypatch):
    monkeypatch.delattr(runtime._Answers, "_get_obj_pos")
    with pytest.raises(RuntimeError, match="_Answers._get_obj_pos"):
        with scripted_perception(_inputs({})):
            pass
