"""Runtime throughput: kinematic set-points per second and the sim's real-time factor.

Prints, in one run on this machine:
  * kinematic: set-points per second through the whole runtime (interpreter, plans, motion
    profile, monitor, backend, recording of the stream) for a long back-and-forth policy,
    and the bare backend's `send_setpoint` rate for scale;           target >= 100k /s
  * sim: real-time factor (simulated s / wall s) of a pick-and-place through `execute` on
    the headless PyBullet backend, no recording;                      target >= 20x
  * sim start-up: a fresh headless backend and its first reset, best of 3;  target < 1 s
  * raw PyBullet baseline: a Panda stepping at 240 Hz with one IK solve per step and
    position control, no capc at all, over the same simulated time.

Usage: .venv/bin/python bench/runtime.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capc.compiler.frontend import compile_source  # noqa: E402
from capc.compiler.scene import parse_scene  # noqa: E402
from capc.compiler.tabletop import CELL  # noqa: E402
from capc.runtime.execute import execute  # noqa: E402
from capc.runtime.kinematic import KinematicBackend  # noqa: E402
from capc.safety.spec import default_spec  # noqa: E402

SPEC = default_spec()
SCENE = parse_scene("""
objects:
  - {name: red block, position: [0.10, -0.45]}
  - {name: blue bowl, position: [-0.10, -0.60]}
""")
BACK_AND_FORTH = """
for i in range({n}):
    move_to([0.2, -0.4, 0.1])
    move_to([-0.2, -0.7, 0.2])
"""
PICK_AND_PLACE = "put_first_on_second('red block', 'blue bowl')\n"


def kinematic_rate(repeats: int, moves: int) -> tuple[float, int]:
    program = compile_source(BACK_AND_FORTH.format(n=moves), "<bench>")
    rates, ticks = [], 0
    for _ in range(repeats):
        outcome = execute(program, SCENE, SPEC, backend="kinematic")
        assert outcome.ok, outcome.message
        ticks = outcome.ticks
        rates.append(outcome.ticks / outcome.wall_time)
    return statistics.median(rates), ticks


def bare_backend_rate(n: int) -> float:
    backend = KinematicBackend()
    backend.reset(SCENE, SPEC, CELL.home)
    rows = [[0.0, -0.5, 0.1 + 1e-6 * (i % 100)] for i in range(n)]
    send, dt = backend.send_setpoint, 1 / SPEC.control_rate
    started = time.perf_counter()
    for row in rows:
        send(row, dt)
    return n / (time.perf_counter() - started)


class TimedBackend:
    """Forwards to a backend and adds up the wall time spent inside it, so the report can
    split a run into the backend's share (physics, IK) and the runtime's (capc)."""

    def __init__(self, inner):
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    def _timed(self, method, *args):
        started = time.perf_counter()
        try:
            return method(*args)
        finally:
            self.seconds += time.perf_counter() - started

    def send_setpoint(self, tcp, dt):
        return self._timed(self.inner.send_setpoint, tcp, dt)

    def set_gripper(self, close):
        return self._timed(self.inner.set_gripper, close)

    def reset(self, scene, spec, tcp_start):
        return self.inner.reset(scene, spec, tcp_start)

    def __getattr__(self, name):  # tcp, object_positions, sim_time, stop, ... untimed
        return getattr(self.inner, name)


def sim_rtf(repeats: int) -> tuple[float, float, float]:
    """Median real-time factor, simulated seconds, and the backend's share of the wall time."""
    from capc.runtime.sim import SimBackend

    program = compile_source(PICK_AND_PLACE, "<bench>")
    factors, shares, sim_time = [], [], 0.0
    sim = SimBackend()
    try:
        for _ in range(repeats):
            backend = TimedBackend(sim)
            outcome = execute(program, SCENE, SPEC, backend=backend)
            assert outcome.ok, outcome.message
            sim_time = outcome.sim_time
            factors.append(outcome.sim_time / outcome.wall_time)
            shares.append(backend.seconds / outcome.wall_time)
    finally:
        sim.close()
    return statistics.median(factors), sim_time, statistics.median(shares)


def sim_startup(repeats: int) -> float:
    """Best wall time of a fresh SimBackend and its first reset (tests bound only its CPU)."""
    from capc.runtime.sim import SimBackend

    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        fresh = SimBackend()
        fresh.reset(SCENE, SPEC, CELL.home)
        timings.append(time.perf_counter() - started)
        fresh.close()
    return min(timings)


def raw_pybullet_rtf(sim_seconds: float) -> float:
    """A Panda from pybullet_data following a circle with one IK solve per 240 Hz step."""
    import pybullet as p
    import pybullet_data

    client = p.connect(p.DIRECT)
    try:
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
        p.setGravity(0, 0, -9.81, physicsClientId=client)
        p.setTimeStep(1 / 240, physicsClientId=client)
        p.loadURDF("plane.urdf", physicsClientId=client)
        robot = p.loadURDF("franka_panda/panda.urdf", useFixedBase=True, physicsClientId=client)
        joints = list(range(7))
        down = p.getQuaternionFromEuler((math.pi, 0, 0))
        steps = int(sim_seconds * 240)
        started = time.perf_counter()
        for k in range(steps):
            angle = 2 * math.pi * k / steps
            target = (0.5 + 0.1 * math.cos(angle), 0.1 * math.sin(angle), 0.3)
            q = p.calculateInverseKinematics(robot, 11, target, down, maxNumIterations=3,
                                             physicsClientId=client)
            p.setJointMotorControlArray(robot, joints, p.POSITION_CONTROL, targetPositions=q[:7],
                                        physicsClientId=client)
            p.stepSimulation(physicsClientId=client)
        return sim_seconds / (time.perf_counter() - started)
    finally:
        p.disconnect(client)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5
    rate, ticks = kinematic_rate(repeats, 20 if args.quick else 100)
    bare = bare_backend_rate(200_000)
    print(f"kinematic runtime: {rate:,.0f} set-points/s (median of {repeats}, {ticks:,} set-points per run; "
          f"target >= 100,000) {'OK' if rate >= 100_000 else 'BELOW TARGET'}")
    print(f"kinematic backend alone: {bare:,.0f} send_setpoint calls/s")
    try:
        factor, sim_seconds, backend_share = sim_rtf(1 if args.quick else 3)
    except ImportError as exc:
        print(f"sim: not available ({exc})")
        return 0
    baseline = raw_pybullet_rtf(sim_seconds)
    startup = sim_startup(3)
    print(f"sim start-up (backend + first reset, best of 3): {startup:.2f} s (target < 1 s) "
          f"{'OK' if startup < 1.0 else 'ABOVE TARGET'}")
    print(f"sim pick-and-place: {factor:.1f}x real time ({sim_seconds:.2f} s simulated; target >= 20x) "
          f"{'OK' if factor >= 20 else 'BELOW TARGET'}")
    print(f"  wall time inside the sim backend (physics + IK): {backend_share:.0%}; "
          f"capc runtime (interpreter, plans, profiles, monitor): {1 - backend_share:.0%}")
    print(f"raw PyBullet Panda + IK per step, no capc: {baseline:.1f}x real time "
          f"(the capc sim run reaches {factor / baseline:.0%} of it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
