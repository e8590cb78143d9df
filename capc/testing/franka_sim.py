"""A franky-sim Franka for tests and benchmarks: the real robot protocol over loopback.

`FrankaSim(scene, cell)` starts `python -m capc.testing.franka_sim` in its own process: a
franky-sim server (MuJoCo, FR3 with its hand) on a free 127.0.0.x address, with the scene's
blocks and bowls in its world and the arm already at capc's home pose (capc never moves the
arm to a start pose it did not verify: see docs/robots.md). `stop()` ends it (after 0.4 s more of
robot time, so the record shows whether the arm came to rest) and returns the MuJoCo ground truth: object positions and the measured TCP path, in capc's table frame, and
how many clients connected. `kill()` ends it without a word (a lost connection).

`reflex_after` makes the server abort the running motion with a reflex once the arm has been
under control for that many seconds of robot time, as a Franka does when a collision
threshold trips: libfranka then raises a ControlException in the client.

Only tests and bench/ import this (it needs the `test` extras: franky-sim, mujoco).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

BLOCK_MASS = 0.05         # kg: a 4 cm wooden cube
BOWL_MASS = 0.3           # kg
WALL_SEGMENTS = 16        # a bowl's wall is a ring of boxes
START_TIMEOUT = 120.0     # s for the server to print its address (MuJoCo + pinocchio load)
DRAIN_STEPS = 400        # physics steps (ms) run after SIGTERM before the truth is written
LOG_EVERY = 10            # physics steps (ms) between samples of the TCP path


# --- the parent side ---------------------------------------------------------------------

class FrankaSim:
    """One franky-sim server process. Use as a context manager or call start/stop."""

    def __init__(self, scene, cell, *, first_host: int = 20, hosts: int = 16,
                 reflex_after: float | None = None, start=None):
        from capc.compiler.profiles import get_profile

        self.cell = cell
        self.first_host, self.hosts = first_host, hosts
        self.reflex_after = reflex_after
        self.start_tcp = tuple(get_profile().cell.home if start is None else start)
        self.objects = [{"name": o.name, "kind": o.kind, "color": list(_rgba(o.color)),
                         "position": list(cell.to_base(o.position))} for o in scene.objects]
        self.host: str | None = None
        self.process: subprocess.Popen | None = None
        self._dir = tempfile.mkdtemp(prefix="capc-franka-sim-")
        self.truth_path = os.path.join(self._dir, "truth.json")

    def start(self) -> str:
        spec = {"objects": self.objects, "start": list(self.cell.to_base(self.start_tcp)),
                "tool": list(self.cell.tool_quaternion), "truth": self.truth_path,
                "hosts": [f"127.0.0.{i}" for i in range(self.first_host, self.first_host + self.hosts)],
                "reflex_after": self.reflex_after}
        spec_path = os.path.join(self._dir, "spec.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(spec, f)
        self.process = subprocess.Popen([sys.executable, "-m", "capc.testing.franka_sim", spec_path],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + START_TIMEOUT
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("ready "):
                self.host = line.split()[1]
                return self.host
        self.kill()
        raise RuntimeError("franky-sim did not start:\n" + "".join(lines[-20:]))

    def stop(self) -> dict[str, Any]:
        """End the server and return its ground truth in capc's table frame."""
        if self.process is None:
            return {}
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process = None
        try:
            with open(self.truth_path, encoding="utf-8") as f:
                truth = json.load(f)
        except (OSError, ValueError):
            return {}
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
        to_table = self.cell.to_table
        truth["objects"] = {name: list(to_table(p)) for name, p in truth["objects"].items()}
        truth["tcp_path"] = [[t, *to_table(p)] for t, *p in truth["tcp_path"]]
        return truth

    def kill(self) -> None:
        """End the server at once, as a pulled cable or a crashed controller would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "FrankaSim":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self.kill()
        self.stop()


def _rgba(color: str) -> tuple[float, float, float, float]:
    table = {"red": (0.9, 0.1, 0.1), "green": (0.1, 0.7, 0.2), "blue": (0.1, 0.3, 0.9),
             "yellow": (0.95, 0.85, 0.1), "pink": (0.95, 0.5, 0.7), "cyan": (0.1, 0.8, 0.85),
             "orange": (1.0, 0.55, 0.1), "purple": (0.55, 0.2, 0.7), "brown": (0.5, 0.3, 0.1),
             "gray": (0.5, 0.5, 0.5), "white": (0.95, 0.95, 0.95), "black": (0.1, 0.1, 0.1)}
    return (*table.get(color, (0.6, 0.6, 0.6)), 1.0)


# --- the server process ------------------------------------------------------------------

def _add_objects(sim, objects: list[dict]) -> None:
    import xml.etree.ElementTree as ET

    from capc.compiler.profiles import get_profile

    cell = get_profile().cell  # the franky-sim cell is the default profile's table
    for obj in objects:
        x, y, z = obj["position"]
        rgba = " ".join(f"{c:g}" for c in obj["color"])
        name = obj["name"].replace(" ", "_")
        if obj["kind"] == "block":
            half = cell.block_size / 2
            body = ET.SubElement(sim.worldbody, "body", name=name, pos=f"{x} {y} {half}")
            ET.SubElement(body, "freejoint", name=name + "_joint")
            ET.SubElement(body, "geom", type="box", size=f"{half} {half} {half}", rgba=rgba,
                          mass=str(BLOCK_MASS), friction="1.0 0.01 0.001", condim="4")
            continue
        # A bowl: the body's origin is the centre of its floor's underside (capc's reference
        # point of a bowl), a disc floor and a ring of wall boxes.
        body = ET.SubElement(sim.worldbody, "body", name=name, pos=f"{x} {y} 0")
        ET.SubElement(body, "freejoint", name=name + "_joint")
        radius, height, floor = cell.bowl_radius, cell.bowl_height, cell.bowl_floor
        per = BOWL_MASS / (WALL_SEGMENTS + 1)
        ET.SubElement(body, "geom", type="cylinder", size=f"{radius} {floor / 2}", pos=f"0 0 {floor / 2}",
                      rgba=rgba, mass=str(per))
        wall = 0.005
        ring = radius - wall / 2
        half_len = math.pi * ring / WALL_SEGMENTS + 0.001
        for i in range(WALL_SEGMENTS):
            a = 2 * math.pi * i / WALL_SEGMENTS
            ET.SubElement(body, "geom", type="box", size=f"{wall / 2} {half_len} {height / 2}",
                          pos=f"{ring * math.cos(a)} {ring * math.sin(a)} {height / 2}",
                          euler=f"0 0 {a}", rgba=rgba, mass=str(per))


def _solve_start(robot_cls, start, quaternion) -> list[float]:
    """Joint angles putting the TCP at `start` (base frame) with the tool orientation:
    damped least squares on franky-sim's own kinematics, from its default posture."""
    import numpy as np
    import pinocchio as pin
    from franky_sim import DEFAULT_INITIAL_JOINT_POS

    probe = robot_cls()
    x, y, z, w = quaternion
    target = pin.XYZQUATToSE3(np.array([*start, x, y, z, w]))
    q = np.array(DEFAULT_INITIAL_JOINT_POS, dtype=float)
    for _ in range(200):
        error = pin.log6(probe.kinematics(q).inverse() * target).vector
        if np.linalg.norm(error) < 1e-9:
            break
        jac = np.zeros((6, 7))
        for j in range(7):
            dq = np.zeros(7)
            dq[j] = 1e-6
            jac[:, j] = pin.log6(probe.kinematics(q).inverse() * probe.kinematics(q + dq)).vector / 1e-6
        q = q + jac.T @ np.linalg.solve(jac @ jac.T + 1e-8 * np.eye(6), error)
    return [float(v) for v in q]


def _ask_for_real_time() -> None:
    """Run the simulated controller at the lowest real-time priority when allowed, as a
    robot's controller runs on a CPU of its own. On a loaded machine a normal-priority
    server fell to a quarter of real time (the client's control thread, which libfranka
    makes real-time, kept up); processes started after a franky client existed inherited
    its priority and ran at full speed, so test times depended on test order. Without the
    permission the server runs as it is (the stream follows the robot's clock either way)."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    except (AttributeError, OSError):
        pass


def serve(spec: dict) -> None:
    import franky_sim
    import numpy as np
    from franky_sim.franka_robot_protocol import MoveStatus, RobotCommand
    from franky_sim.franka_server import BaseCommand
    from franky_sim.mujoco_simulator import FrankaMujocoRobot, MujocoSimulator

    state = {"running": True, "connections": 0, "controlled_ms": 0, "reflexes": 0}
    tcp_path: list[list[float]] = []
    original_setup = franky_sim.FrankaServer._setup_udp_connection

    def counting_setup(self, port):  # every client that completes a connect (robot and gripper)
        state["connections"] += 1
        return original_setup(self, port)

    franky_sim.FrankaServer._setup_udp_connection = counting_setup

    def on_term(signum, frame):
        state["running"] = False

    signal.signal(signal.SIGTERM, on_term)
    _ask_for_real_time()
    q0 = _solve_start(FrankaMujocoRobot, spec["start"], spec["tool"])
    with MujocoSimulator() as sim:
        robot = sim.add_robot(initial_q=q0, initial_hand_width=0.07)
        _add_objects(sim, spec["objects"])
        names = {obj["name"]: obj["name"].replace(" ", "_") for obj in spec["objects"]}
        steps = {"n": 0}

        def after_step(s) -> None:
            steps["n"] += 1
            server = robot.server
            moving = server is not None and server.current_motion_id > 0
            if moving:
                state["controlled_ms"] += 1
                limit = spec.get("reflex_after")
                if limit is not None and state["controlled_ms"] >= limit * 1000 and not state["reflexes"]:
                    # What a tripped collision reflex looks like to the client: the Move
                    # command ends with kReflexAborted and the arm holds where it is.
                    motion = server.current_motion_id
                    server.stop_motion(send_preemption_signal=False)
                    server.reset_current_motion_id()
                    BaseCommand.send_response(server._tcp_socket, RobotCommand.kMove, motion,
                                              MoveStatus.kReflexAborted)
                    state["reflexes"] += 1
            if steps["n"] % LOG_EVERY == 0:
                tcp = robot.kinematics(np.array(robot.inner_state.q)).translation
                tcp_path.append([steps["n"] / 1000.0, *(float(v) for v in tcp)])

        sim.register_post_step_callback(after_step)
        with franky_sim.SimulationServer(sim, hostname_candidates=spec["hosts"]) as server:
            print(f"ready {robot.hostname}", flush=True)
            while state["running"]:
                server.run_once()
            # Asked to stop: run on for DRAIN_STEPS more, so the TCP path ends with what the
            # arm did after the client's last word (at rest, or still moving).
            for _ in range(DRAIN_STEPS):
                server.run_once()
            import mujoco

            objects = {}
            for name, body in names.items():
                bid = mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_BODY, body)
                objects[name] = [float(v) for v in sim.data.xpos[bid]]
            truth = {"objects": objects, "tcp_path": tcp_path, "connections": state["connections"],
                     "controlled_seconds": state["controlled_ms"] / 1000.0, "reflexes": state["reflexes"],
                     "robot_seconds": steps["n"] / 1000.0}
            with open(spec["truth"] + ".tmp", "w", encoding="utf-8") as f:
                json.dump(truth, f)
            os.replace(spec["truth"] + ".tmp", spec["truth"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a franky-sim Franka with a capc scene (tests, bench)")
    parser.add_argument("spec", help="JSON written by FrankaSim")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as f:
        serve(json.load(f))


if __name__ == "__main__":
    main()


# --- one example run, judged on the ground truth (tests and bench/franka.py) -------------

AGREEMENT = 0.02   # m: final object positions on franky-sim vs the kinematic and PyBullet backends


def run_on_franky_sim(program, scene, spec, cell, *, compare: tuple[str, ...] = ("kinematic", "sim"),
                      first_host: int = 20, sim: FrankaSim | None = None) -> dict[str, Any]:
    """Run `program` on a franky-sim server with `scene` (`sim`, started, which this stops;
    by default a fresh one), judge its task (if any) on
    MuJoCo's final object positions and compare them with the other backends. Returns the
    outcome, the ground truth and a verdict: `ok` when the run completed, the task holds on
    the ground truth and every object is within AGREEMENT of each reference backend."""
    import numpy as np

    from capc.runtime.execute import RunConfig, execute
    from capc.runtime.tasks import check_task, parse_task

    sim = sim or FrankaSim(scene, cell, first_host=first_host)
    if sim.host is None:
        sim.start()
    try:
        outcome = execute(program, scene, spec,
                          RunConfig(backend="franka", backend_options={"robot_ip": sim.host, "robot_config": cell}))
    finally:
        truth = sim.stop()
    problems = []
    if outcome.status != "completed":
        problems.append(f"{outcome.status} {outcome.code}: {outcome.message}")
    task_done = None
    if outcome.task is not None and truth:
        result = check_task(parse_task(outcome.task), {k: np.array(v) for k, v in truth["objects"].items()},
                            scene)
        task_done = result.done
        if not result.done:
            problems.append(f"task on MuJoCo's ground truth: {result.detail}")
    disagreement = 0.0
    for backend in compare:
        reference = execute(program, scene, spec, backend=backend)
        for name, pos in reference.final_positions.items():
            if name in truth.get("objects", {}):
                disagreement = max(disagreement, math.dist(pos, truth["objects"][name]))
    if disagreement > AGREEMENT:
        problems.append(f"final positions differ from {'/'.join(compare)} by {disagreement:.3f} m")
    return {"outcome": outcome, "truth": truth, "task_done": task_done, "disagreement": disagreement,
            "problems": problems, "ok": not problems}
