"""The Franka backend: capc's monitor-checked set-points streamed to a real FR3 / Panda.

Implements `capc.runtime.backend.Backend` over franky (`pip install 'capc[franka]'`), which
bundles libfranka, the client the robot's controller (FCI) speaks to.

What runs is what was verified. capc's motion generator makes the set-points (trapezoidal
profiles at the cell's control rate), the monitor checks every one, and this backend hands
each to ONE long-lived franky tracking controller (`CartesianImpedanceTrackingMotion`), which
reads the latest reference every millisecond: nothing plans a path of its own after
verification. (Re-targeting franky's Ruckig-planned `CartesianMotion` every tick restarted
each target from a far lower velocity than the arm had: against franky-sim the commanded
pose lagged capc's set-points by 3.5-14 cm median.)
The reference carries the set-point's velocity and acceleration (finite differences of the
stream) as feed-forward.

Ticks are paced on the ROBOT's clock (`RobotState.time`), not the wall clock: on a real
robot they agree; a simulator running slower than real time then slows the stream with it.

Every tick compares the measured TCP with the set-point of the tick before (the one the arm
has had a full tick to reach). An error above the spec's margin (the distance the verifier
kept every waypoint inside the limits) stops the robot: E533. The largest error is reported.

The gripper: franky's `Gripper`. Whether an object is held is decided by the measured
finger width after the grasp (closed on something: wider than `min_held_width`), never by
the grasp's success flag alone (franky-sim reports grasps on nothing as successful). Object
positions come from the scene and are updated as capc carries them (a `KinematicBackend`
is the world model): there is no camera here. A perception source would replace
`object_positions` (capc.runtime.perception reads only that).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Any, Sequence

import numpy as np

from capc import codes
from capc.compiler.scene import Scene
from capc.diagnostics import InputError
from capc.runtime.backend import RobotFault
from capc.runtime.franka_cell import FrankaCell
from capc.runtime.kinematic import KinematicBackend
from capc.safety.spec import SafetySpec

E_UNREACHABLE = codes.E530     # no controller at the address, or it refused us
E_CONNECTION_LOST = codes.E531  # the controller stopped answering mid-run
E_CONTROL = codes.E532       # the controller aborted the motion (reflex, limit, safety function)
E_TRACKING = codes.E533      # the arm is farther from its set-point than the spec's margin
E_NOT_AT_START = codes.E535    # the arm is not at capc's start pose when the run begins
POLL_SECONDS = 0.0005      # sleep between polls of the robot clock near a deadline
STALE_SECONDS = 0.05       # a robot state this old (it comes every ms) means the controller is silent
REST_SPEED = 0.002         # m/s: the TCP counts as at rest below this
REST_SECONDS = 1.0         # robot time allowed to come to rest after a stop


def _scheduling():
    """The calling thread's scheduling policy and parameters, or None where the OS has none."""
    try:
        return os.sched_getscheduler(0), os.sched_getparam(0)
    except (AttributeError, OSError):
        return None


def _set_scheduling(saved) -> None:
    if saved is None:
        return
    try:
        os.sched_setscheduler(0, *saved)
    except OSError:
        pass


@contextlib.contextmanager
def _caller_scheduling_kept():
    """libfranka's Robot() makes the calling thread SCHED_FIFO 99 for good. Every process
    started from it later (a test suite's subprocesses, a shell's commands) would inherit
    that and could starve the machine; give the caller its policy back afterwards."""
    saved = _scheduling()
    try:
        yield
    finally:
        _set_scheduling(saved)


def _stream_in_real_time(priority: int):
    """Run the calling thread (the stream) at SCHED_RR `priority` when the OS allows it.
    Returns the scheduling to give back at the end of the run, or None when unchanged."""
    saved = _scheduling()
    if priority <= 0 or saved is None:
        return None
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(priority))
    except (AttributeError, OSError):
        return None  # no permission (no rtprio limit for this user): the stream runs as it is
    return saved


def _franky():
    try:
        import franky
    except ImportError:
        raise InputError("the franka backend needs franky: pip install 'capc[franka]'") from None
    return franky


def _classify(exc: BaseException) -> RobotFault:
    """A franky/libfranka exception as a fault with its own code."""
    franky = _franky()
    text = str(exc)
    lowered = text.lower()
    # libfranka reports a dead socket as NetworkException, or (inside a running motion) as
    # an exception whose text is "Net Exception" / names the connection.
    if isinstance(exc, franky.NetworkException) or any(w in lowered for w in ("network", "net exception",
                                                                                   "connection")):
        return RobotFault(E_CONNECTION_LOST, f"connection to the robot lost: {text}",
                          hint="check the cable and the controller; the robot stops by itself when "
                               "its client falls silent (communication constraint reflex)")
    return RobotFault(E_CONTROL, f"the robot's controller aborted the motion: {text}",
                      hint="read the robot's error in Desk, clear it (or call recover_from_errors) "
                           "and check the cell for a collision before running again")


class FrankaBackend:
    name = "franka"

    def __init__(self, robot_ip: str, cell: FrankaCell | None = None):
        if not robot_ip:
            raise InputError("the franka backend needs the robot's address (--robot-ip)")
        self.robot_ip = robot_ip
        self.cell = cell or FrankaCell()
        self.control_rate = self.cell.control_rate
        self._franky = None
        self._robot = None
        self._gripper = None
        self._motion = None
        self._model = KinematicBackend()
        self._margin = 0.0
        self._recorder = None
        self._kinds: dict[str, str] = {}
        self._scheduling_before_run = None   # what the stream thread gets back at close()
        self._reset_stats()

    def _reset_stats(self) -> None:
        self._tick = 0                     # ticks since the clock was last re-based
        self._ticks = 0
        self._t0 = 0.0                     # robot time of tick 0, s
        self._t_reset = 0.0
        self._last_state_wall = time.monotonic()
        self._last_time = -1.0
        self._previous: tuple | None = None   # set-point of the last tick (table frame)
        self._velocity = (0.0, 0.0, 0.0)
        self.max_tracking_error = 0.0
        self.late_ticks = 0                 # ticks that found the robot's clock a tick or more ahead
        self.tracking_errors: list[float] = []
        self.periods: list[float] = []      # wall seconds between set-points
        self.latencies: list[float] = []    # wall seconds from a deadline to the reference being set
        self._last_tick_wall: float | None = None
        self.final_speed: float | None = None
        self.stopped = False
        self.connected = False
        self._motion_started = False

    # --- connection ---------------------------------------------------------------------

    def reset(self, scene: Scene, spec: SafetySpec, tcp_start: tuple[float, float, float]) -> None:
        """Connect (only now: after verification), check that the arm is at `tcp_start`,
        open the gripper and start the tracking controller holding the current pose."""
        franky = self._franky = _franky()
        self._reset_stats()
        self._margin = spec.margin
        with _caller_scheduling_kept():
            self._connect(franky)
            state = self._state()
            tcp = self._measured(state)
            off = math.dist(tcp, tcp_start)
            if off > self.cell.start_tolerance:
                raise RobotFault(E_NOT_AT_START, f"the arm's TCP is {off:.3f} m from capc's start pose "
                                                 f"{tuple(round(v, 3) for v in tcp_start)} (measured "
                                                 f"{tuple(round(v, 3) for v in tcp)})",
                                 hint="capc moves only along verified paths: bring the arm to the start "
                                      "pose first (Desk, or a franky JointMotion), then run again")
            self._model.reset(scene, spec, tcp_start)
            self._kinds = {o.name: o.kind for o in scene.objects}
            self._open_gripper()
            # The control thread starts here, while this thread still has the real-time
            # priority libfranka gave it: the thread inherits it, this one gives it back.
            self._start_tracking(tcp)
        self._scheduling_before_run = _stream_in_real_time(self.cell.stream_priority)
        self._rebase()
        self._t_reset = self._t0
        self._previous = tuple(float(v) for v in tcp_start)

    def _connect(self, franky) -> None:
        cell = self.cell
        try:
            config = franky.RealtimeConfig.Enforce if cell.realtime_kernel else franky.RealtimeConfig.Ignore
            self._robot = franky.Robot(self.robot_ip, realtime_config=config)
            self.connected = True
            self._robot.relative_dynamics_factor = franky.RelativeDynamicsFactor(*cell.dynamics)
            self._gripper = franky.Gripper(self.robot_ip)
        except Exception as exc:  # franky raises its own classes, all from libfranka
            raise RobotFault(E_UNREACHABLE, f"cannot connect to the robot at {self.robot_ip}: {exc}",
                             hint="is FCI enabled in Desk, the brakes open, the address right and the "
                                  "workstation on the robot's network (docs/robots.md)?") from None

    def _start_tracking(self, tcp) -> None:
        franky, cell = self._franky, self.cell
        motion = franky.CartesianImpedanceTrackingMotion(
            translational_stiffness=cell.translational_stiffness,
            rotational_stiffness=cell.rotational_stiffness)
        motion.set_reference(franky.CartesianReference(target=self._affine(tcp)))
        try:
            self._robot.move(motion, asynchronous=True)
        except Exception as exc:
            raise _classify(exc) from None
        self._motion = motion
        self._motion_started = False
        give_up = time.monotonic() + 5 * cell.connection_timeout
        while not self._robot.is_in_control:  # the controller takes a few cycles to start
            self._check_motion()
            if time.monotonic() > give_up:
                raise RobotFault(E_CONTROL, "the robot's controller did not start the motion",
                                 hint="is the robot in the 'ready' state (brakes open, FCI enabled)?")
            time.sleep(0.002)
        self._motion_started = True

    def _affine(self, tcp):
        return self._franky.Affine(list(self.cell.to_base(tcp)), list(self.cell.tool_quaternion))

    # --- the robot's clock and state -------------------------------------------------------

    def _state(self):
        """The latest robot state; a controller that stops sending states is a lost connection."""
        try:
            state = self._robot.state
        except Exception as exc:
            raise _classify(exc) from None
        now = time.monotonic()
        robot_time = state.time.to_msec() / 1000.0
        if robot_time != self._last_time:
            self._last_time, self._last_state_wall = robot_time, now
        elif now - self._last_state_wall > self.cell.connection_timeout:
            raise RobotFault(E_CONNECTION_LOST, f"no robot state for {now - self._last_state_wall:.1f} s",
                             hint="the controller or the network stopped; the robot stops by itself "
                                  "when its client falls silent")
        return state

    def _check_motion(self) -> None:
        """Raise the fault that ended the tracking controller, if it ended."""
        if self._motion is None:
            return
        try:
            self._robot.poll_motion()
        except Exception as exc:
            self._motion = None
            raise _classify(exc) from None
        if not self._robot.is_in_control and self._motion_started:
            self._motion = None
            raise RobotFault(E_CONTROL, "the robot's controller ended the motion",
                             hint="read the robot's error in Desk and clear it before running again")

    def _measured(self, state) -> tuple[float, float, float]:
        return self.cell.to_table(state.O_T_EE.translation)

    def _rebase(self) -> None:
        """Tick 0 is now (after a gripper action the stream resumes from the robot's clock)."""
        first = self._state().time.to_msec() / 1000.0
        while True:  # a state newer than the first: franky may hand out a cached one at first
            now = self._state().time.to_msec() / 1000.0
            if now > first:
                break
            time.sleep(POLL_SECONDS)
        self._t0 = now
        self._tick = 0
        self._last_tick_wall = None

    def _wait_until(self, robot_time: float):
        while True:
            state = self._state()
            left = robot_time - state.time.to_msec() / 1000.0
            if left <= 1e-9:
                return state
            time.sleep(max(POLL_SECONDS, min(left * 0.5, 0.005)))

    # --- the stream ------------------------------------------------------------------------

    def send_setpoint(self, tcp: Sequence[float], dt: float) -> None:
        deadline = self._t0 + self._tick * dt
        state = self._wait_until(deadline)
        late = state.time.to_msec() / 1000.0 - deadline
        if late > dt:
            # This process fell behind the robot's clock (a loaded workstation, a slow
            # callback): shift the schedule instead of sending the missed set-points in a
            # burst, which would ask the arm for more than one tick of motion per tick.
            self._t0 += late
            self.late_ticks += 1
        started = time.monotonic()
        if self._last_tick_wall is not None:
            self.periods.append(started - self._last_tick_wall)
        self._last_tick_wall = started
        self._check_motion()
        measured = self._measured(state)
        if self._previous is not None and self._tick > 0:
            self._track(measured, self._previous)
        target = tuple(float(v) for v in tcp)
        previous = self._previous or target
        velocity = tuple((a - b) / dt for a, b in zip(target, previous))
        accel = tuple((a - b) / dt for a, b in zip(velocity, self._velocity))
        if not any(velocity):
            # A hold tick (the end of every segment): the arm is to be at rest here, and the
            # stream may pause (a gripper action, perception) with this reference in force.
            # Feeding forward the deceleration into it would keep pushing: it lifted the arm
            # 1 cm within a second of a pause in franky-sim.
            accel = (0.0, 0.0, 0.0)
        franky = self._franky
        self._motion.set_reference(franky.CartesianReference(
            target=self._affine(target),
            target_twist=franky.Twist(list(self.cell.vector_to_base(velocity))),
            target_acceleration=franky.TwistAcceleration(list(self.cell.vector_to_base(accel)))))
        self.latencies.append(time.monotonic() - started)
        self._previous, self._velocity = target, velocity
        self._model.send_setpoint(target, dt)
        if self._recorder is not None:
            self._recorder.tick(target, measured, self._model.object_positions)
        self._tick += 1
        self._ticks += 1

    def _track(self, measured, commanded) -> None:
        error = math.dist(measured, commanded)
        self.tracking_errors.append(error)
        self.max_tracking_error = max(self.max_tracking_error, error)
        if error > self._margin:
            silent = time.monotonic() - self._last_state_wall
            if silent > STALE_SECONDS:
                # The measured pose is old: the controller stopped talking, the arm did not stray.
                raise RobotFault(E_CONNECTION_LOST, f"no new robot state for {silent:.2f} s",
                                 hint="the controller or the network stopped; the robot stops by itself "
                                      "when its client falls silent")
            raise RobotFault(E_TRACKING, f"tracking error {error * 1000:.1f} mm above the spec's margin "
                                         f"{self._margin * 1000:.1f} mm (set-point "
                                         f"{tuple(round(v, 4) for v in commanded)}, measured "
                                         f"{tuple(round(v, 4) for v in measured)})",
                             hint="the verifier kept every waypoint `margin` inside the limits; an arm "
                                  "farther off than that is outside what was proved. Check for contact, "
                                  "a load, or raise the margin in the limits file (docs/robots.md)")

    def _settle(self) -> None:
        """Wait (robot time) until the arm is at its last set-point before the fingers move."""
        target = self._previous
        start = self._state().time.to_msec() / 1000.0
        while True:
            self._check_motion()
            state = self._state()
            measured = self._measured(state)
            error = math.dist(measured, target)
            if error <= self.cell.settle_tolerance:
                return
            if state.time.to_msec() / 1000.0 - start > self.cell.settle_seconds:
                self._track(measured, target)  # raises when above the margin
                return
            time.sleep(0.002)

    # --- gripper ---------------------------------------------------------------------------

    def set_gripper(self, close: bool) -> str | None:
        cell = self.cell
        self._settle()
        try:
            if close:
                # Width and force as a real hand would squeeze a 4 cm block; the result flag
                # is not trusted: franky-sim reports grasps on nothing as successful.
                self._await(self._gripper.grasp_async(0.0, cell.grasp_speed, cell.grasp_force,
                                                      epsilon_inner=0.1, epsilon_outer=0.1))
                width = self._gripper.width
            else:
                self._open_gripper()
                width = self._gripper.width
        except RobotFault:
            raise
        except Exception as exc:
            raise _classify(exc) from None
        self._check_motion()
        if close:
            candidate = self._model.graspable()
            if candidate is not None and width >= cell.min_held_width:
                self._model.take(candidate)
        else:
            self._model.set_gripper(False)
        self._rebase()
        return self._model.held_object()

    def _open_gripper(self) -> None:
        try:
            self._await(self._gripper.move_async(self.cell.open_width, self.cell.grasp_speed * 2))
        except RobotFault:
            raise
        except Exception as exc:
            raise _classify(exc) from None

    def _await(self, future) -> bool:
        """Wait for a gripper command in short slices: the blocking call would hold the
        interpreter while the arm's controller and the connection watchdog need to run."""
        while not future.wait(0.01):
            self._check_motion()
            self._state()  # raises when the robot's clock has stopped (connection lost)
        return future.get()

    # --- state -----------------------------------------------------------------------------

    def tcp(self) -> np.ndarray:
        return np.array(self._measured(self._state()), dtype=float)

    def object_positions(self) -> dict[str, np.ndarray]:
        return self._model.object_positions()

    def held_object(self) -> str | None:
        return self._model.held_object()

    def sim_time(self) -> float:
        """Seconds of robot time since reset."""
        if self._last_time < 0:
            return 0.0
        return max(0.0, self._last_time - self._t_reset)

    @property
    def ticks(self) -> int:
        return self._ticks

    # --- recording (--record) ----------------------------------------------------------------

    def start_recording(self, path: str) -> None:
        """A top-view GIF of the commanded and measured TCP paths (capc.runtime.path_recording)."""
        from capc.runtime.path_recording import PathRecorder

        try:
            self._recorder = PathRecorder(path, every=max(1, round(self.control_rate / 20)))
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def finish_recording(self) -> str | None:
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return None
        return recorder.save(self._model.object_positions(), self._kinds)

    # --- stopping ----------------------------------------------------------------------------

    def stop(self) -> None:
        """End the tracking controller (the robot holds where it is) and wait until the TCP
        is at rest. Never raises: it is called on the way out of every fault."""
        self.stopped = True
        if self._robot is None:
            return
        try:
            self._robot.stop()
        except Exception:
            pass
        try:
            self._robot.join_motion(timeout=REST_SECONDS)
        except Exception:
            pass  # "Move command preempted" is how a stopped motion ends
        self._motion = None
        self.final_speed = self._wait_for_rest()

    def _wait_for_rest(self) -> float | None:
        """The TCP speed once at rest (or after REST_SECONDS of robot time), from two
        measured poses 10 ms apart; None without a robot state (a lost connection)."""
        try:
            first = self._robot.state
            start = last_t = first.time.to_msec() / 1000.0
            last_p = np.asarray(first.O_T_EE.translation, dtype=float)
            give_up = time.monotonic() + REST_SECONDS + 2 * self.cell.connection_timeout
            while time.monotonic() < give_up:
                time.sleep(0.01)
                state = self._robot.state
                now = state.time.to_msec() / 1000.0
                if now - last_t < 0.005:
                    continue
                p = np.asarray(state.O_T_EE.translation, dtype=float)
                speed = float(np.linalg.norm(p - last_p) / (now - last_t))
                if speed < REST_SPEED or now - start > REST_SECONDS:
                    return speed
                last_t, last_p = now, p
        except Exception:
            pass
        return None

    def close(self) -> None:
        if self._robot is not None and self._motion is not None:
            self.stop()
        self._robot = self._gripper = self._motion = None
        saved, self._scheduling_before_run = self._scheduling_before_run, None
        _set_scheduling(saved)

    def report(self) -> dict[str, Any]:
        """Tracking and timing figures of the run (what `RunOutcome.robot` holds)."""
        def ms(values, q):
            return round(float(np.percentile(values, q)) * 1000, 3) if values else None
        return {"robot_ip": self.robot_ip, "control_rate": self.control_rate, "ticks": self._ticks,
                "max_tracking_error": round(self.max_tracking_error, 6),
                "median_tracking_error": round(float(np.median(self.tracking_errors)), 6)
                if self.tracking_errors else None,
                "period_ms_median": ms(self.periods, 50), "period_ms_p99": ms(self.periods, 99),
                "period_jitter_ms": round(float(np.std(self.periods)) * 1000, 3) if self.periods else None,
                "tick_latency_ms_p99": ms(self.latencies, 99), "late_ticks": self.late_ticks,
                "final_speed": self.final_speed,
                "stream_realtime": self._scheduling_before_run is not None,
                "connected": self.connected, "stopped": self.stopped, "cell": self.cell.source}
