"""execute() on the kinematic backend: the monitor stands between the policy and the robot,
the recorded set-point stream respects the limits, budgets end endless policies, tasks get
done. Every run here goes through `run_checked`, which asserts speed and acceleration from
the stream the backend received (not from the generator's claims)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import load_scene, parse_scene, random_scene
from capc.compiler.tabletop import CELL
from capc.limits import DEFAULT_LIMITS
from capc.runtime.execute import execute, setpoint_limits
from capc.runtime.kinematic import KinematicBackend
from capc.safety.monitor import POSITION_TOLERANCE
from capc.safety.spec import default_spec, parse_spec
from cpu_clock import cpu_at_most

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SPEC = default_spec()
SCENE = parse_scene("""
objects:
  - {name: red block, position: [0.10, -0.45]}
  - {name: green block, position: [-0.15, -0.65]}
  - {name: blue bowl, position: [-0.10, -0.40]}
""")


class CommandLog:
    """Mixed into a backend: keeps every command it receives and fails the test the moment
    one breaks the workspace or a keep-out zone: "never reached the backend" is asserted
    where it matters."""

    def __init__(self, spec=SPEC, **options):
        super().__init__(**options)
        self.spec = spec
        self.received: list[tuple[float, float, float]] = []
        self.grips: list[bool] = []
        self.stop_calls = 0

    def send_setpoint(self, tcp, dt):
        # the monitor's stated tolerance (1 nm) on either side, nothing more
        assert self.spec.workspace.contains(tcp, -POSITION_TOLERANCE), f"set-point {tcp} outside the workspace"
        for zone in self.spec.keep_out:
            assert not zone.region.contains(tcp, POSITION_TOLERANCE), f"set-point {tcp} inside '{zone.name}'"
        self.received.append(tuple(tcp))
        super().send_setpoint(tcp, dt)

    def set_gripper(self, close):
        self.grips.append(close)
        return super().set_gripper(close)

    def stop(self):
        self.stop_calls += 1
        super().stop()


class RecordingBackend(CommandLog, KinematicBackend):
    pass


def run_checked(source: str, scene=SCENE, spec=SPEC, **options):
    program = compile_source(source, "<test>")
    backend = options.pop("backend", None) or RecordingBackend(spec)
    outcome = execute(program, scene, spec, backend=backend, **options)
    assert len(backend.received) == outcome.ticks
    assert np.array_equal(np.asarray(backend.received).reshape(-1, 3), outcome.setpoints)
    mid_segment = any(e["tick"] is not None for e in outcome.monitor_events)  # halted while moving
    speed, accel = setpoint_limits(np.asarray(backend.received).reshape(-1, 3), CELL.home, 1 / spec.control_rate,
                                   end_at_rest=not mid_segment)
    assert speed <= spec.max_speed and accel <= spec.max_accel, (speed, accel)
    assert (outcome.peak_speed, outcome.peak_accel) == (speed, accel)
    return outcome, backend


def test_pick_and_place_completes_and_lands_in_the_bowl():
    outcome, backend = run_checked("put_first_on_second('red block', 'blue bowl')\nsay('done')\n")
    assert outcome.status == "completed" and outcome.said == ["done"]
    x, y, z = outcome.final_positions["red block"]
    assert (x, y) == pytest.approx((-0.10, -0.40))
    assert z == pytest.approx(CELL.place_z("bowl", 0.0))
    assert backend.grips == [False, True, False]
    assert outcome.sim_time == pytest.approx(outcome.ticks / SPEC.control_rate + 3 * 0.25)


def test_guarded_out_of_bounds_policy_is_stopped_before_the_backend_sees_it():
    """The loop runs past the verifier's while-unroll bound, so the verifier cannot decide
    the later moves (guarded); in this scene the 31st step leaves the workspace."""
    source = ("x = 0.0\n"
              "i = 0\n"
              "while i < 40:\n"
              "    x = x + 0.01\n"
              "    i = i + 1\n"
              "    move_to([x, -0.5, 0.1])\n")
    try:
        from capc.safety.verifier import verify
    except ImportError:
        verify = None
    if verify is not None:
        report = verify(compile_source(source, "<test>"), SPEC, SCENE)
        assert report.verdict == "guarded"
    outcome, backend = run_checked(source)
    assert outcome.status == "stopped_by_monitor" and outcome.code == "E510"
    assert backend.stop_calls == 1
    event, = outcome.monitor_events
    assert event["primitive"] == "move_to" and event["line"] == 6 and event["limit"] == "workspace"
    assert event["excess"] == pytest.approx(0.01) and event["point"] == pytest.approx([0.31, -0.5, 0.1])
    assert "x = 0.31 is above 0.3 by 0.01 m" in outcome.message
    assert max(p[0] for p in backend.received) == pytest.approx(0.30)


@pytest.mark.slow
def test_guarded_out_of_bounds_policy_never_reaches_the_sim_either():
    """The same guarded policy on the PyBullet arm: stopped at the same call, and no
    out-of-bounds set-point was sent to the physics."""
    from capc.runtime.sim import SimBackend

    class RecordingSim(CommandLog, SimBackend):
        pass

    source = "x = 0.0\ni = 0\nwhile i < 40:\n    x = x + 0.01\n    i = i + 1\n    move_to([x, -0.5, 0.1])\n"
    sim = RecordingSim(SPEC)
    try:
        outcome, backend = run_checked(source, backend=sim)
    finally:
        sim.close()
    assert outcome.status == "stopped_by_monitor" and outcome.code == "E510" and outcome.span.line == 6
    assert backend.stop_calls == 1 and max(p[0] for p in backend.received) == pytest.approx(0.30)


def test_keep_out_zone_crossing_is_stopped_at_the_command():
    spec = parse_spec("keep_out:\n  - {name: fixture, box: {x: [-0.05, 0.05], y: [-0.55, -0.45], z: [0.0, 0.12]}}\n")
    source = "move_to([-0.2, -0.5, 0.1])\nmove_to([0.2, -0.5, 0.1])\n"
    outcome, backend = run_checked(source, spec=spec, backend=RecordingBackend(spec))
    assert outcome.status == "stopped_by_monitor" and outcome.code == "E511"
    assert outcome.span.line == 2 and outcome.monitor_events[0]["limit"] == "keep_out:fixture"
    assert backend.received[-1] == pytest.approx((-0.2, -0.5, 0.1))


def test_speed_request_above_the_limit_is_refused_before_moving():
    outcome, backend = run_checked("move_to([0.0, -0.5, 0.15], speed=0.5)\n")
    assert outcome.status == "stopped_by_monitor" and outcome.code == "E512"
    assert backend.received == [] and "exceeds max_speed 0.25" in outcome.message


def test_endless_loop_of_zero_length_moves_ends_fast():
    with cpu_at_most(1.0):   # measured: 0.07 s
        outcome, _ = run_checked("while True:\n    move_to([0.0, -0.5, 0.2])\n")
    assert outcome.status == "budget_exhausted" and outcome.code == "E420" and outcome.ticks == 0
    assert outcome.steps <= DEFAULT_LIMITS.max_steps


def test_a_trajectory_through_many_points_ends_on_the_step_budget_fast():
    source = ("k = len(get_obj_names())\n"
              "pts = [[0.01 * (i % 2), -0.5, 0.1] for i in range(k * 8000)]\n"
              "follow_traj(np.array(pts))\n")
    with cpu_at_most(15.0):   # measured: 1.2 s (building 8,000 points is most of it)
        outcome, _ = run_checked(source)
    assert outcome.status == "budget_exhausted" and outcome.code == "E420" and outcome.span.line == 3
    assert outcome.steps <= DEFAULT_LIMITS.max_steps


def test_a_move_too_slow_to_finish_is_refused_before_its_setpoints_exist():
    with cpu_at_most(1.0):   # measured: 0.001 s
        outcome, backend = run_checked("move_to([0.0, -0.5, 0.1], speed=1e-9)\n")
    assert outcome.status == "budget_exhausted" and outcome.code == "E420" and backend.received == []
    assert outcome.ticks == 0


def test_while_true_pass_ends_with_a_budget_outcome():
    outcome, _ = run_checked("while True:\n    pass\n", limits=DEFAULT_LIMITS.with_changes(max_steps=20_000))
    assert outcome.status == "budget_exhausted" and "step budget exhausted after 20,000 steps" in outcome.message
    outcome, _ = run_checked("while True:\n    pass\n")
    assert outcome.status == "budget_exhausted" and "loop budget exhausted" in outcome.message


def test_endless_loop_of_moves_ends_within_the_step_budget():
    limits = DEFAULT_LIMITS.with_changes(max_steps=50_000)
    with cpu_at_most(2.0):   # measured: 0.09-0.2 s
        outcome, backend = run_checked("while True:\n    move_to([0.1, -0.5, 0.1])\n"
                                       "    move_to([-0.1, -0.5, 0.1])\n", limits=limits)
    assert outcome.status == "budget_exhausted" and outcome.code == "E420"
    assert "step budget exhausted after 50,000 steps" in outcome.message
    # each call and each plan step cost CALL_STEPS besides the control ticks
    assert outcome.steps <= 50_000 and outcome.ticks + 200 * len(outcome.calls) <= 50_000
    assert outcome.ticks > 20_000


def test_sub_lmp_needs_a_provider_and_uses_it():
    source = "target = parse_position('a point in the blue bowl', '')\nput_first_on_second('green block', target)\n"
    outcome, _ = run_checked(source)
    assert outcome.status == "error" and outcome.code == "E505" and outcome.span.line == 1
    asked = []

    def sub_lmp(name, query, context):
        asked.append((name, query))
        return np.array([-0.10, -0.40])

    outcome, _ = run_checked(source, sub_lmp=sub_lmp)
    assert outcome.status == "completed" and asked == [("parse_position", "a point in the blue bowl")]
    assert outcome.final_positions["green block"][:2] == pytest.approx([-0.10, -0.40])


def test_unknown_object_is_a_located_error():
    outcome, backend = run_checked("put_first_on_second('purple block', 'blue bowl')\n")
    assert outcome.status == "error" and outcome.code == "E503" and backend.received == []
    assert "'purple block'" in outcome.message


def test_perception_noise_is_seeded_and_within_tolerance():
    source = "ps = [get_obj_pos('red block') for i in range(50)]\nsay(str([float(p[0]) for p in ps]))\n"
    a, _ = run_checked(source, noise=0.02, seed=3)
    b, _ = run_checked(source, noise=0.02, seed=3)
    xs = np.array(parse_floats(a.said[0]))
    assert a.said == b.said and np.all(np.abs(xs - 0.10) <= SPEC.perception_tolerance + 1e-12)
    assert xs.std() > 0.003


def parse_floats(text: str) -> list[float]:
    return [float(v) for v in text.strip("[]").split(",")]


def test_stacking_in_the_kinematic_backend_uses_the_cells_heights():
    outcome, _ = run_checked("put_first_on_second('red block', 'green block')\n")
    assert outcome.final_positions["red block"] == pytest.approx([-0.15, -0.65, 0.02 + CELL.block_size])


@pytest.mark.parametrize("example", ["put_block_in_bowl", "stack_all_blocks", "blocks_horizontal_line"])
def test_task_examples_succeed_on_ten_random_scenes(example):
    source = (EXAMPLES / f"{example}.py").read_text()
    done = 0
    for seed in range(10):
        outcome, _ = run_checked(source, scene=random_scene(seed))
        assert outcome.status == "completed", outcome.message
        done += outcome.task_result.done
    assert done == 10


def test_outcome_json_reports_what_happened():
    scene = load_scene(str(EXAMPLES / "put_block_in_bowl.scene.yaml"))
    outcome, _ = run_checked((EXAMPLES / "put_block_in_bowl.py").read_text(), scene=scene)
    data = outcome.to_json()
    assert data["status"] == "completed" and data["task_result"]["done"] is True
    assert data["setpoints"] == outcome.ticks > 0 and data["monitor_intervened"] is False
    assert set(data["final_positions"]) == set(scene.names())


@pytest.mark.parametrize("policy", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_every_example_runs_within_the_limits_and_does_its_task(policy):
    """Every example completes on the kinematic backend in its own scene, the stream the
    backend received stays within max_speed, max_accel and the workspace, and the task the
    header declares is done."""
    scene_files = [f for f in (policy.with_name(policy.stem + ".scene.yaml"), policy.with_suffix(".yaml"))
                   if f.exists()]
    scene = load_scene(str(scene_files[0])) if scene_files else random_scene(0)
    outcome, _ = run_checked(policy.read_text(), scene=scene)
    assert outcome.status == "completed", outcome.message
    assert outcome.task_result is None or outcome.task_result.done, outcome.task_result.detail


def test_kinematic_backend_grasps_within_radius_and_drops_onto_supports():
    backend = KinematicBackend()
    backend.reset(SCENE, SPEC, CELL.home)
    dt = 1 / SPEC.control_rate
    assert backend.set_gripper(True) is None                      # nothing within reach of home
    backend.send_setpoint((0.10 + 0.035, -0.45, 0.02), dt)        # 3.5 cm off: beyond grasp_radius
    assert backend.set_gripper(True) is None
    backend.send_setpoint((0.10, -0.45 + 0.01, 0.02), dt)         # 1 cm off: taken
    assert backend.set_gripper(True) == "red block"
    backend.send_setpoint((-0.15 + 0.03, -0.65, 0.2), dt)         # over the green block, 3 cm aside
    assert backend.object_positions()["red block"] == pytest.approx([-0.12, -0.66, 0.2])
    assert backend.set_gripper(False) is None                     # not centred on it: falls to the table
    assert backend.object_positions()["red block"][2] == pytest.approx(CELL.resting_z("block"))
    backend.send_setpoint((-0.12, -0.66, 0.02), dt)
    backend.set_gripper(True)
    backend.send_setpoint((-0.15 + 0.01, -0.65, 0.2), dt)         # centred within half a block: on top
    backend.set_gripper(False)
    assert backend.object_positions()["red block"][2] == pytest.approx(CELL.place_z("block", 0.02))
    assert backend.sim_time() == pytest.approx(5 * dt + 6 * 0.25) and backend.ticks == 5


def test_named_places_are_points_on_the_table_as_in_the_verifier():
    """`put_first_on_second('red block', 'top left corner')` (a CaP idiom): the place resolves
    from the cell, like the verifier's world does, and the block ends up standing there."""
    outcome, _ = run_checked("put_first_on_second('red block', 'top left corner')\n")
    assert outcome.status == "completed", outcome.message
    x, y, z = outcome.final_positions["red block"]
    assert (x, y) == pytest.approx(CELL.places["top left corner"]) and z == pytest.approx(CELL.resting_z("block"))


@pytest.mark.parametrize("source, code", [
    ("move_to(np.array([0.0, -0.5, 0.1]) / 0.0)", "E514"),        # nan/inf target: not a point
    ("put_first_on_second('red block', parse_position('somewhere', ''))", "E502"),  # the LLM answered 7
    ("xs = [0.1, -0.5, 0.1]\nxs[0] = 'far'\nmove_to(xs)", "E514"),
])
def test_malformed_commands_never_reach_the_backend(source, code):
    outcome, backend = run_checked(source, sub_lmp=lambda name, query, context: 7)
    assert outcome.code == code and outcome.status in ("stopped_by_monitor", "error")
    assert backend.received == []
