"""The PyBullet backend: reset, IK tracking, joint velocity limits, grasps, recording.

The backend is driven directly with a small trapezoidal set-point generator that lives
here (not in the package: the runtime has its own in capc.runtime.motion) and with the
tabletop's motion plans, the same ones the verifier and the runtime read.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from capc.compiler.profiles import get_profile
from capc.compiler.registry import Grip
from capc.compiler.scene import parse_scene, random_scene
from capc.compiler.tabletop import CELL
from capc.runtime.tasks import check_task, parse_task
from capc.safety.spec import default_spec
from cpu_clock import cpu_at_most

pytest.importorskip("pybullet")
from capc.runtime.sim import ARM_JOINTS, SimBackend  # noqa: E402

SPEC = default_spec()
DT = 1.0 / SPEC.control_rate
SCENE = parse_scene("""
objects:
  - {name: red block, position: [0.10, -0.45]}
  - {name: green block, position: [-0.15, -0.65]}
  - {name: blue bowl, position: [-0.10, -0.40]}
""")


@pytest.fixture(scope="module")
def sim():
    backend = SimBackend()
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def welding_sim():
    backend = SimBackend(grasp="weld")
    yield backend
    backend.close()


@pytest.fixture(params=["friction", "weld"])
def gripping(request):
    """The sim in each grasp mode (both must carry blocks)."""
    return request.getfixturevalue("sim" if request.param == "friction" else "welding_sim")


def trapezoid(start, end, speed: float = SPEC.max_speed):
    """Set-points from start to end at rest at both ends, whose finite differences stay
    within `speed` and the spec's max_accel (asserted on the result, not assumed)."""
    accel, dt = SPEC.max_accel, DT
    start, end = np.asarray(start, float), np.asarray(end, float)
    length = float(np.linalg.norm(end - start))
    if length < 1e-9:
        return [end]
    ramp = min(speed / accel, math.sqrt(length / accel))  # time to top speed (or half way)
    top = accel * ramp
    total = 2 * ramp + (length - accel * ramp * ramp) / top
    points, n = [], max(1, math.ceil(total / dt))
    for i in range(1, n + 1):
        t = min(total, i * total / n)
        if t < ramp:
            s = 0.5 * accel * t * t
        elif t > total - ramp:
            s = length - 0.5 * accel * (total - t) ** 2
        else:
            s = 0.5 * accel * ramp * ramp + top * (t - ramp)
        points.append(start + (end - start) * min(1.0, s / length))
    assert_within_limits(start, points)
    return points


def assert_within_limits(start, points) -> None:
    """What this file sends the sim respects the spec, judged by finite differences of the
    stream itself (at rest before and after), as the runtime's tests judge execute()."""
    from capc.runtime.execute import setpoint_limits

    speed, accel = setpoint_limits(np.asarray(points), np.asarray(start, float), DT)
    assert speed <= SPEC.max_speed * (1 + 1e-9), speed
    assert accel <= SPEC.max_accel * (1 + 1e-6), accel


class ConcreteWorld:
    """The `World` of the motion plans over the sim's state (what execute() builds)."""

    def __init__(self, backend, scene):
        self.backend, self.scene = backend, scene

    def position(self, name):
        return tuple(self.backend.object_positions()[name])

    def kind(self, name):
        return self.scene.get(name).kind

    def tcp(self):
        return tuple(self.backend.tcp())

    def maximum(self, a, b):
        return max(a, b)

    def surface(self, x, y, exclude):
        others = [(self.kind(n), p) for n, p in self.backend.object_positions().items()
                  if n not in (exclude, self.backend.held_object())]
        return CELL.rest_height(x, y, others)


def run_plan(backend, scene, name, args, log):
    """Expand one primitive call with the profile's plan and drive the backend with it.
    `log` collects (sent set-point, measured tcp) pairs."""
    profile = get_profile("tabletop")
    bound = profile.primitive(name).bind([], args)
    for step in profile.plan(name, bound, ConcreteWorld(backend, scene)):
        if isinstance(step, Grip):
            backend.set_gripper(step.close)
            continue
        speed = min(step.speed or SPEC.max_speed, SPEC.max_speed)
        start = log[-1][0] if log else backend.tcp()
        for point in trapezoid(start, step.target, speed):
            backend.send_setpoint(point, DT)
            log.append((point, backend.tcp()))


def grasp_red_block(backend, log) -> tuple:
    """Reset the scene, come down on the red block from 15 cm and close on it; its position."""
    backend.reset(SCENE, SPEC, CELL.home)
    block = SCENE.get("red block").position
    run_plan(backend, SCENE, "move_to", {"p": (block[0], block[1], 0.15)}, log)
    run_plan(backend, SCENE, "move_to", {"p": block}, log)
    assert backend.set_gripper(True) == "red block"
    return block


def test_start_up_and_reset_place_the_scene(sim):
    # The start-up target (< 1 s of wall clock) is measured by bench/runtime.py; here a CPU
    # bound catches a start-up gone wrong on any machine.
    with cpu_at_most(3.0):   # measured: 0.06-0.28 s
        fresh = SimBackend()
        fresh.reset(SCENE, SPEC, CELL.home)
    fresh.close()
    sim.reset(SCENE, SPEC, CELL.home)
    assert np.linalg.norm(sim.tcp() - np.array(CELL.home)) < 1e-3
    positions = sim.object_positions()
    assert set(positions) == set(SCENE.names())
    for obj in SCENE.objects:
        assert np.allclose(positions[obj.name], obj.position, atol=1e-3), obj.name
    assert sim.sim_time() == 0.0 and sim.held_object() is None
    # Objects settle where they were put (bowls on their base, blocks on their face).
    for _ in range(120):
        sim.send_setpoint(np.array(CELL.home), DT)
    for obj in SCENE.objects:
        assert np.allclose(sim.object_positions()[obj.name], obj.position, atol=2e-3), obj.name
    assert sim.sim_time() == pytest.approx(0.5)
    # A second reset replaces the objects instead of adding to them.
    other = random_scene(1)
    sim.reset(other, SPEC, CELL.home)
    assert set(sim.object_positions()) == set(other.names())


def test_tcp_tracks_set_points_and_measured_speed_stays_below_the_limit(sim):
    sim.reset(SCENE, SPEC, CELL.home)
    log = []
    for target in [(0.2, -0.7, 0.05), (-0.25, -0.3, 0.1), (0.0, -0.5, 0.2)]:
        start = log[-1][0] if log else CELL.home
        for point in trapezoid(start, target):
            sim.send_setpoint(point, DT)
            log.append((point, sim.tcp()))
    sent = np.array([p for p, _ in log])
    measured = np.array([m for _, m in log])
    lag = np.linalg.norm(sent - measured, axis=1)
    assert lag.max() < 0.002, f"tracking lag {lag.max() * 1000:.1f} mm"
    # The backend's own (sampled) measure of the same thing agrees.
    assert 0.0 < sim.max_tracking_error <= lag.max() + 1e-9
    sent_speed = np.linalg.norm(np.diff(sent, axis=0), axis=1) / DT
    measured_speed = np.linalg.norm(np.diff(measured, axis=0), axis=1) / DT
    assert sent_speed.max() <= SPEC.max_speed + 1e-9
    # The arm lags and catches up; the measured TCP must not overshoot the limit by more
    # than tracking noise (5 %).
    assert measured_speed.max() <= SPEC.max_speed * 1.05, measured_speed.max()
    for _ in range(48):
        sim.send_setpoint(sent[-1], DT)
    assert np.linalg.norm(sim.tcp() - sent[-1]) < 5e-4


def test_joint_velocity_limits_hold_for_a_far_jump(sim):
    """A set-point far from the arm (never sent by the runtime) must still be approached no
    faster than the Panda's joint velocity limits: PyBullet enforces them only if told."""
    import pybullet as p

    sim.reset(SCENE, SPEC, CELL.home)
    limits = np.array([p.getJointInfo(sim._robot, j, physicsClientId=sim._client)[11]
                       for j in ARM_JOINTS])
    fastest = np.zeros(len(ARM_JOINTS))
    for _ in range(60):
        sim.send_setpoint(np.array((0.25, -0.7, 0.03)), DT)
        velocities = [s[1] for s in p.getJointStates(sim._robot, list(ARM_JOINTS),
                                                     physicsClientId=sim._client)]
        fastest = np.maximum(fastest, np.abs(velocities))
    assert np.all(fastest <= limits * 1.005), (fastest, limits)  # solver tolerance: 0.3 % seen
    assert fastest.max() > 0.5 * limits.min()  # it did move


def test_grasped_block_moves_with_the_gripper_and_lands_in_the_bowl(gripping):
    gripping.reset(SCENE, SPEC, CELL.home)
    log = []
    run_plan(gripping, SCENE, "put_first_on_second", {"arg1": "red block", "arg2": "blue bowl"}, log)
    # While carried (TCP high above the table) the block was not where it started.
    final = gripping.object_positions()
    task = parse_task('block_in_bowl("red block", "blue bowl")')
    result = check_task(task, final, SCENE)
    assert result.done, result.detail
    assert np.allclose(final["red block"][:2], final["blue bowl"][:2], atol=0.01)
    assert gripping.held_object() is None
    # Nothing else moved.
    assert np.allclose(final["green block"], SCENE.get("green block").position, atol=2e-3)
    assert np.allclose(final["blue bowl"], SCENE.get("blue bowl").position, atol=5e-3)


def test_block_follows_the_tcp_while_held(gripping):
    log = []
    grasp_red_block(gripping, log)
    for target in [(0.0, -0.5, 0.15), (-0.2, -0.6, 0.2)]:
        run_plan(gripping, SCENE, "move_to", {"p": target}, log)
        offset = gripping.object_positions()["red block"] - gripping.tcp()
        assert np.linalg.norm(offset) < 3e-3, offset
        assert gripping.held_object() == "red block"
    assert gripping.set_gripper(False) is None
    for _ in range(240):
        gripping.send_setpoint(np.array((-0.2, -0.6, 0.2)), DT)
    landed = gripping.object_positions()["red block"]
    assert landed[2] == pytest.approx(CELL.block_size / 2, abs=2e-3)  # fell to the table


def test_closing_on_nothing_holds_nothing(gripping):
    gripping.reset(SCENE, SPEC, CELL.home)
    assert gripping.set_gripper(True) is None
    assert gripping.held_object() is None
    assert gripping.set_gripper(False) is None


def test_stop_holds_the_arm_where_it_is(sim):
    sim.reset(SCENE, SPEC, CELL.home)
    for point in trapezoid(CELL.home, (0.2, -0.7, 0.05))[:100]:
        sim.send_setpoint(point, DT)
    sim.stop()
    held = sim.tcp()
    sim._step(120)  # no new set-points: the motors keep the stopped pose
    assert np.linalg.norm(sim.tcp() - held) < 0.01


def test_recording_writes_an_animated_gif(tmp_path):
    from PIL import Image

    path = tmp_path / "run.gif"
    with SimBackend(record=str(path), record_every=24) as backend:
        backend.reset(SCENE, SPEC, CELL.home)
        for point in trapezoid(CELL.home, (0.1, -0.45, 0.1)):
            backend.send_setpoint(point, DT)
    with Image.open(path) as image:
        assert image.format == "GIF" and image.size == (320, 240)
        assert image.n_frames >= 5
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is not None and len(colours) > 10  # a picture, not a blank frame


def test_recording_refuses_a_missing_directory(tmp_path):
    from capc.diagnostics import InputError

    with pytest.raises(InputError, match="does not exist"):   # exit 2, not a crash
        SimBackend(record=str(tmp_path / "no" / "such" / "dir.gif")).close()


def test_overlapping_bowls_of_a_random_scene_stay_put(sim):
    """random_scene keeps centres 10 cm apart, bowls are 12 cm wide: seed 19 overlaps two.
    Such bowls must not shove each other across the table."""
    scene = random_scene(19)
    bowls = [o for o in scene.objects if o.kind == "bowl"]
    assert any(math.dist(a.xy, b.xy) < 2 * CELL.bowl_radius for a in bowls for b in bowls if a != b)
    sim.reset(scene, SPEC, CELL.home)
    for _ in range(240):
        sim.send_setpoint(np.array(CELL.home), DT)
    for bowl in bowls:
        assert np.allclose(sim.object_positions()[bowl.name], bowl.position, atol=2e-3), bowl.name


def test_a_reset_forgets_the_last_scenes_collision_filters(sim):
    """PyBullet reuses body ids: the filter that let two overlapping bowls ignore each other
    must not make the next scene's blocks (same ids) pass through each other."""
    overlapping = parse_scene("""
objects:
  - {name: red bowl, position: [0.0, -0.5]}
  - {name: blue bowl, position: [0.1, -0.5]}
""")
    blocks = parse_scene("""
objects:
  - {name: red block, position: [0.0, -0.5]}
  - {name: blue block, position: [0.15, -0.4]}
""")
    sim.reset(overlapping, SPEC, CELL.home)
    sim.reset(blocks, SPEC, CELL.home)
    log = []
    run_plan(sim, blocks, "put_first_on_second", {"arg1": "blue block", "arg2": "red block"}, log)
    result = check_task(parse_task('block_on_block("blue block", "red block")'),
                        sim.object_positions(), blocks)
    assert result.done, result.detail


def test_closing_twice_keeps_the_one_grasp(gripping):
    log = []
    block = grasp_red_block(gripping, log)
    assert gripping.set_gripper(True) == "red block"
    run_plan(gripping, SCENE, "move_to", {"p": (block[0], block[1], 0.15)}, log)
    assert gripping.object_positions()["red block"][2] == pytest.approx(0.15, abs=3e-3)
    assert gripping.set_gripper(False) is None
    for _ in range(240):
        gripping.send_setpoint(np.array((block[0], block[1], 0.15)), DT)
    assert gripping.object_positions()["red block"][2] == pytest.approx(CELL.block_size / 2, abs=2e-3)


# --- the example policies through execute() (compile, run under the monitor, judge) ----------

EXAMPLES = ("put_block_in_bowl", "stack_all_blocks", "blocks_horizontal_line")


def compile_example(name: str):
    frontend = pytest.importorskip("capc.compiler.frontend")
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return frontend.compile_file(os.path.join(root, "examples", f"{name}.py"))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_tasks_succeed_on_random_scenes(sim, name):
    """The CI-sized version of bench/sim_tasks.py: two random scenes per example task."""
    from capc.runtime.execute import execute, setpoint_limits

    program = compile_example(name)
    for seed in (0, 7):
        outcome = execute(program, random_scene(seed), SPEC, backend=sim, seed=seed)
        assert outcome.status == "completed", outcome.message
        assert outcome.task_result is not None and outcome.task_result.done, \
            (seed, outcome.task_result)
        # What the sim received respects the limits, judged from the stream itself.
        speed, accel = setpoint_limits(outcome.setpoints, CELL.home, DT)
        assert speed <= SPEC.max_speed * (1 + 1e-9) and accel <= SPEC.max_accel * (1 + 1e-6)
        assert outcome.sim_time > len(outcome.setpoints) * DT  # gripper ticks come on top


@pytest.mark.slow
def test_execute_records_a_gif_of_the_run(sim, tmp_path):
    from PIL import Image

    from capc.runtime.execute import execute

    program = compile_example("put_block_in_bowl")
    scene = parse_scene(open(__file__.replace("tests/test_sim.py",
                                              "examples/put_block_in_bowl.scene.yaml")).read())
    path = tmp_path / "bowl.gif"
    outcome = execute(program, scene, SPEC, backend=sim, record=str(path))
    assert outcome.task_result.done, outcome.task_result
    assert outcome.recording == str(path)
    with Image.open(path) as image:
        # A frame every 12 physics steps shown for 12/240 s: the film plays in real time
        # (Pillow merges identical frames, so count the time, not the frames).
        film = 0
        for index in range(image.n_frames):
            image.seek(index)
            film += image.info["duration"]
    assert film / 1000 == pytest.approx(outcome.sim_time, rel=0.02)


def test_gui_without_a_display_is_a_clear_input_error(monkeypatch):
    import sys

    from capc.diagnostics import InputError

    if not sys.platform.startswith("linux"):
        pytest.skip("the DISPLAY check is for X11")
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(InputError, match="needs a display"):
        SimBackend(gui=True)


def test_redundant_joint_does_not_drift_over_many_moves(sim):
    """The IK's pull towards the rest pose keeps the Panda's seventh degree of freedom from
    wandering (plain DLS turned the shoulder by 2 rad over 150 random moves)."""
    from capc.runtime.sim import REST_POSE

    sim.reset(SCENE, SPEC, CELL.home)
    rng = np.random.default_rng(3)
    start = np.array(CELL.home)
    # The workspace's far corners (beyond the Panda's reach) stretch the arm first.
    targets = [(0.3, -0.8, 0.0), (-0.3, -0.8, 0.3), (0.3, -0.2, 0.0)]
    targets += [(rng.uniform(-0.25, 0.25), rng.uniform(-0.7, -0.3), rng.uniform(0.05, 0.25))
                for _ in range(40)]
    for target in targets:
        for point in trapezoid(start, target):
            sim.send_setpoint(point, DT)
        start = np.array(target)
    for _ in range(48):
        sim.send_setpoint(start, DT)
    assert np.linalg.norm(sim.tcp() - start) < 5e-4
    # Joints 1 and 3 (shoulder pan, upper-arm roll) are the redundant pair: they stay near rest.
    joints = np.array(sim.joint_positions())
    assert abs(joints[0] - REST_POSE[0]) < 0.4 and abs(joints[2] - REST_POSE[2]) < 0.4, joints


def test_control_rates_that_divide_the_physics_rate(sim):
    from capc.diagnostics import InputError

    slow = SPEC.with_changes(control_rate=120.0)
    sim.reset(SCENE, slow, CELL.home)
    sim.send_setpoint(np.array(CELL.home), 1 / 120)
    assert sim.sim_time() == pytest.approx(2 / 240)  # one set-point, two physics steps
    with pytest.raises(InputError, match="does not divide"):
        sim.reset(SCENE, SPEC.with_changes(control_rate=100.0), CELL.home)


class FakeClock:
    """A wall clock that moves only when slept on (or when a test moves it): pacing is
    checked by what the backend asks to sleep, on any machine."""

    def __init__(self):
        self.now, self.sleeps = 100.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_realtime_pacing_follows_the_wall_clock(monkeypatch):
    clock = FakeClock()
    with SimBackend(realtime=True) as paced:
        paced.reset(SCENE, SPEC, CELL.home)
        monkeypatch.setattr(time, "monotonic", clock.monotonic)
        monkeypatch.setattr(time, "sleep", clock.sleep)
        for _ in range(60):  # 0.25 s of robot time, computed in no time: every tick waits
            paced.send_setpoint(np.array(CELL.home), DT)
        # the first tick sets the clock's origin; each later one waits for its 1/240 s
        assert clock.sleeps == pytest.approx([DT] * 59)
        clock.now += 1.0      # the physics fell a second behind: no sleeping until caught up
        clock.sleeps.clear()
        for _ in range(60):
            paced.send_setpoint(np.array(CELL.home), DT)
        monkeypatch.undo()
    assert clock.sleeps == []


def test_gui_window_framing_uses_valid_pybullet_calls(sim):
    """No display here to open a GUI; the framing calls are still checked for their
    signatures (in DIRECT mode PyBullet accepts and ignores them)."""
    sim._frame_the_window()


def test_a_friction_grasp_notices_a_lost_block(sim):
    block = grasp_red_block(sim, [])
    # Knock the block out of the hand (as a collision would), then let physics run.
    sim._p.resetBasePositionAndOrientation(sim._bodies["red block"], (0.2, -0.7, 0.02), (0, 0, 0, 1),
                                           physicsClientId=sim._client)
    sim.send_setpoint(np.array(block), DT)
    assert sim.held_object() is None


def test_unknown_grasp_mode_is_an_input_error():
    from capc.diagnostics import InputError

    with pytest.raises(InputError, match="grasp mode"):
        SimBackend(grasp="glue")


def test_the_gripper_waits_for_the_arm_to_arrive(sim):
    """A gripper command after the last set-point of a move acts where the arm was sent, not
    where it lags behind (the fingers would otherwise close on a block's edge)."""
    sim.reset(SCENE, SPEC, CELL.home)
    target = np.array((0.05, -0.5, 0.15))
    sim.send_setpoint(target, DT)  # 5 cm in one tick: the arm cannot be there yet
    assert np.linalg.norm(sim.tcp() - target) > 0.01
    for _ in range(7):  # the eighth set-point is sampled for the tracking error
        sim.send_setpoint(target, DT)
    assert sim.max_tracking_error > 0.01
    before = sim.sim_time()
    sim.set_gripper(True)
    assert np.linalg.norm(sim.tcp() - target) < 5e-4
    assert sim.sim_time() > before + 60 / 240  # the wait is robot time, on top of the closing
