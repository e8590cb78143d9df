"""Execute a compiled policy on a backend, one step at a time, under the runtime monitor.

The interpreter (capc.compiler.interpreter) runs the program and yields every call that
leaves it. This module answers them:

* what perception sees from the backend's state (capc.runtime.perception, optional noise);
* perception and geometry primitives by the profile's answers (`profile.answer`);
* `say` by collecting the message;
* sub-LMPs with the `sub_lmp` callable the LLM layer passes (or a clear stop without one);
* motion and gripper primitives by the profile's *plan* — the same function the verifier
  proves things about — evaluated over a concrete `World` of the backend's state. Each
  waypoint is checked by the monitor as a command, turned into set-points of a trapezoidal
  profile (capc.runtime.motion), the set-points checked by the monitor, then sent. On a
  violation the backend is stopped and nothing after it is sent.

Every set-point the backend receives is recorded in `RunOutcome.setpoints`, so tests judge
the stream itself, not the generator's claims. Control ticks count against the step budget
(with interpreter steps), so an endless loop of moves ends like an endless loop of
arithmetic: "step budget exhausted".
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from capc import codes
from capc.compiler import ir
from capc.compiler.costs import CALL_STEPS
from capc.compiler.interpreter import Interpreter
from capc.compiler.interpreter.values import (
    E_BAD_PRIMITIVE_ARGS, E_LOOP_BUDGET, E_STEP_BUDGET, E_WALL_CLOCK, PrimitiveCall, RuntimeStop,
)
from capc.compiler.profiles import get_profile
from capc.compiler.registry import (
    Grip, KIND_GEOMETRY, KIND_GRIPPER, KIND_MOTION, KIND_OUTPUT, KIND_PERCEPTION, KIND_SUB_LMP,
)
from capc.compiler.scene import Scene
from capc.diagnostics import CapcError, Diagnostic, InputError, Span
from capc.frozen import frozen
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.runtime.backend import RobotFault
from capc.runtime.motion import MIN_LENGTH, segment_setpoints, tick_count
from capc.runtime.outcomes import Observer, OutcomeStop
from capc.runtime.perception import Perception
from capc.safety.monitor import Monitor, Violation
from capc.safety.spec import SafetySpec

E_UNKNOWN_OBJECT = codes.E503
E_NO_IMPLEMENTATION = codes.E504
E_SUB_LMP = codes.E505
E_UNDEFINED_FUNCTION = codes.E506
E_START_WORLD = codes.E507
MONITOR_CODES = {"workspace": codes.E510, "keep_out": codes.E511, "speed": codes.E512, "accel": codes.E513,
                 "command": codes.E514, "rule": codes.E515}
BUDGET_CODES = {E_STEP_BUDGET, E_LOOP_BUDGET, E_WALL_CLOCK}

STATUS_COMPLETED = "completed"
STATUS_STOPPED = "stopped_by_monitor"
STATUS_BUDGET = "budget_exhausted"
STATUS_ERROR = "error"
STATUS_FAULT = "robot_fault"          # the robot could not go on (capc.runtime.backend.RobotFault)
STATUS_INTERRUPTED = "interrupted"    # Ctrl-C during the run
E_INTERRUPTED = codes.E534

SubLMP = Callable[[str, str, str], Any]


@frozen
class RunConfig:
    """How one run goes, apart from what it runs (the program), where (the scene) and under
    which limits (the spec): `execute(program, scene, spec, RunConfig(...))`.

    `backend` is a name ("kinematic", "sim", "franka": one the program's profile declares)
    or a Backend; `backend_options` go to a backend built from a name (the franka backend:
    `robot_ip`, `robot_config`), `gui` too. The task (a `# capc-task:` header of the source,
    or `task` as text or a parsed Task) is parsed before anything moves and checked on the
    final object positions. `trace` is called with every PrimitiveCall before it is
    answered. `verified_scene` is the world the verdict is about: when the backend reports a
    start that is not that world (another set of objects, or one further than the
    perception tolerance from where the proof put it), nothing moves (E507). `observe_only`
    lets everything through and lists what the monitor would have stopped (marked
    `observed`): the unverified baseline of `capc eval`, never a way to run a policy. With
    `outcome_stops=False` observed outcomes (capc.runtime.outcomes) are recorded but stop
    nothing. `guards`: the verdict's guarded motions (the run says it was guarded)."""

    backend: Any = "kinematic"
    limits: ResourceLimits = DEFAULT_LIMITS
    record: str | None = None
    noise: float = 0.0
    seed: int = 0
    sub_lmp: SubLMP | None = None
    task: Any = None
    guards: Any = None
    gui: bool = False
    trace: Callable[[PrimitiveCall], None] | None = None
    verified_scene: Scene | None = None
    observe_only: bool = False
    outcome_stops: bool = True
    backend_options: dict | None = None

    def with_changes(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


DEFAULT_RUN = RunConfig()


@dataclass
class RunOutcome:
    status: str
    message: str = ""
    code: str | None = None
    span: Span | None = None
    hint: str | None = None
    steps: int = 0                     # interpreter steps + control ticks charged to the budget
    sim_time: float = 0.0              # seconds of robot time
    wall_time: float = 0.0
    setpoints: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
    gripper_events: list[dict] = field(default_factory=list)   # {"tick", "close", "held"}
    final_positions: dict[str, list[float]] = field(default_factory=dict)
    monitor_events: list[dict] = field(default_factory=list)
    outcome_events: list[dict] = field(default_factory=list)    # capc.runtime.outcomes (E52x)
    said: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)     # the policy's top-level variables at the end
    calls: list[dict] = field(default_factory=list)             # {"index", "name", "line"}
    task_result: Any = None            # capc.runtime.tasks.TaskResult, when a task is known
    task: str | None = None
    backend: str = ""
    guarded: bool = False
    recording: str | None = None
    peak_speed: float = 0.0            # of the recorded stream, by finite differences (m/s)
    peak_accel: float = 0.0            # (m/s^2), from rest at home to rest at the end
    robot: dict | None = None          # a real robot's figures: tracking error, tick timing

    @property
    def ok(self) -> bool:
        return self.status == STATUS_COMPLETED

    @property
    def ticks(self) -> int:
        return len(self.setpoints)

    @property
    def diagnostic(self) -> Diagnostic | None:
        """Why the run did not complete, as a located diagnostic (None when it did)."""
        if self.ok or self.code is None:
            return None
        kind = "limit" if self.status == STATUS_BUDGET else "runtime"
        if self.status == STATUS_FAULT:
            kind = "robot"
        return Diagnostic(self.code, self.message, self.span, kind, self.hint)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "message": self.message, "code": self.code,
            "line": self.span.line if self.span else None, "col": self.span.col if self.span else None,
            "steps": self.steps, "setpoints": self.ticks, "sim_time": round(self.sim_time, 6),
            "wall_time": round(self.wall_time, 6), "backend": self.backend, "guarded": self.guarded,
            "final_positions": self.final_positions, "monitor_events": self.monitor_events,
            "monitor_intervened": bool(self.monitor_events), "outcome_events": self.outcome_events,
            "said": self.said, "printed": self.printed,
            "primitive_calls": len(self.calls), "gripper_events": self.gripper_events,
            "task": self.task,
            "task_result": None if self.task_result is None else self.task_result.to_json(),
            "recording": self.recording,
            "peak_speed": self.peak_speed, "peak_accel": self.peak_accel,
            "robot": self.robot,
            "max_tracking_error": None if self.robot is None else self.robot.get("max_tracking_error"),
        }


class _MonitorStop(Exception):
    def __init__(self, event: dict):
        super().__init__(event["message"])
        self.event = event


class _Answers:
    """What answers the calls that do not move: perception and geometry by the profile's
    answers over what perception sees (this object is their `Seen`: objects where perception
    puts them), `say` into the run's messages, sub-LMPs by the LLM layer's callable. The run's
    step loop hands it every such call."""

    def __init__(self, profile, perception: Perception, sub_lmp: SubLMP | None,
                 tcp: Callable[[], tuple[float, float, float]], said: list[str]):
        self.profile, self.perception, self.sub_lmp, self.said = profile, perception, sub_lmp, said
        self.call: PrimitiveCall | None = None   # the call being answered
        self.perceive = {
            "get_obj_names": lambda args, span: self.perception.names(),
            "get_obj_pos": self._get_obj_pos, "get_bbox": self._get_bbox,
            "get_color": lambda args, span: self.perception.colors[self._object(args, span)],
            "is_obj_visible": lambda args, span: self.perception.knows(args["obj_name"]),
            "get_robot_pos": lambda args, span: np.array(tcp()),
        }
        self.geometry = {  # the xy point each geometry primitive reads
            "denormalize_xy": "pos_normalized", "get_corner_name": "pos", "get_side_name": "pos",
        }

    def answer(self, call: PrimitiveCall) -> Any:
        self.call = call
        primitive = call.primitive
        kind = primitive.kind
        if kind == KIND_PERCEPTION and primitive.name in self.perceive:
            return self.perceive[primitive.name](call.args, call.span)
        if kind == KIND_GEOMETRY and primitive.name in self.geometry:
            key = self.geometry[primitive.name]
            point = {key: self._xy(call.args, key, call.span)}
            return self.profile.answer(primitive.name, point, self)
        if kind == KIND_OUTPUT:
            self.said.append(self._text(call, "msg"))
            return None
        if kind == KIND_SUB_LMP:
            return self._sub_lmp(call)
        raise RuntimeStop(E_NO_IMPLEMENTATION, f"the runtime has no implementation of '{primitive.name}'",
                          call.span)

    # -- the registry's Seen -------------------------------------------------------------

    def xy(self, name: str) -> tuple[float, float]:
        x, y, _ = self.perception.position(name)
        return float(x), float(y)

    def kind(self, name: str) -> str:
        return self.perception.kinds[name]

    def vector(self, values: list) -> np.ndarray:
        return np.array(values, dtype=float)

    # -- perception and geometry -----------------------------------------------------

    def require_object(self, name: Any, span: Span) -> str:
        if not self.perception.knows(name):
            names = ", ".join(repr(n) for n in self.perception.names()) or "none"
            raise RuntimeStop(E_UNKNOWN_OBJECT, f"there is no object named {name!r} in the scene", span,
                              hint=f"objects: {names}")
        return name

    def _object(self, args: dict, span: Span) -> str:
        return self.require_object(args["obj_name"], span)

    def _get_obj_pos(self, args: dict, span: Span) -> np.ndarray:
        return self.profile.answer("get_obj_pos", {"obj_name": self._object(args, span)}, self)

    def _get_bbox(self, args: dict, span: Span) -> np.ndarray:
        return self.profile.answer("get_bbox", {"obj_name": self._object(args, span)}, self)

    def _xy(self, args: dict, key: str, span: Span) -> tuple[float, float]:
        value = args[key]
        try:
            x, y = (float(v) for v in value)
        except (TypeError, ValueError):
            raise RuntimeStop(E_BAD_PRIMITIVE_ARGS, f"expected an xy point, got {value!r}", span) from None
        return x, y

    def _sub_lmp(self, call: PrimitiveCall) -> Any:
        if self.sub_lmp is None:
            raise RuntimeStop(E_SUB_LMP, f"'{call.name}' asks a language model, and this run has none",
                              call.span, hint="run it through the LLM layer (capc run -i / capc compile), "
                                              "or replace the call with code")
        context = self._text(call, "context")
        shape_pts = call.args.get("shape_pts")
        if shape_pts is not None:  # CaP's transform_shape_pts(query, shape_pts=pts): handed over as a variable
            rows = [[float(v) for v in row] for row in np.asarray(shape_pts, dtype=float).reshape(-1, 2)]
            context = (context + "\n" if context else "") + f"shape_pts = np.array({rows!r})"
        return self.sub_lmp(call.name, self._text(call, "query"), context)

    def _text(self, call: PrimitiveCall, key: str) -> str:
        """A text argument. Anything else is refused rather than converted: str() of an
        aliased nested list is how a policy would build gigabytes out of sight."""
        value = call.args.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise RuntimeStop(E_BAD_PRIMITIVE_ARGS, f"{call.name}() takes text for '{key}', got "
                                                     f"{type(value).__name__}", call.span,
                              hint="convert it with str(...) or an f-string first")
        return value


class _World:
    """The registry's `World` over concrete numbers: what a plan sees at run time. As in the
    verifier's world (capc.safety.world), a name that is no object but one of the cell's
    named places ('top left corner', ...) is a point on the table, treated like a bowl."""

    def __init__(self, run: "_Run", span: Span):
        self.run, self.span = run, span

    def position(self, name: str) -> tuple[float, float, float]:
        if self._is_place(name):
            x, y = self.run.cell.places[name]
            return (float(x), float(y), 0.0)
        self.run.answers.require_object(name, self.span)
        return tuple(float(v) for v in self.run.perception.position(name))

    def kind(self, name: str) -> str:
        if self._is_place(name):
            return "place"
        self.run.answers.require_object(name, self.span)
        return self.run.perception.kinds[name]

    def _is_place(self, name: str) -> bool:
        return not self.run.perception.knows(name) and name in self.run.cell.places

    def tcp(self) -> tuple[float, float, float]:
        return self.run.tcp

    def maximum(self, a: Any, b: Any) -> Any:
        return max(a, b)

    def surface(self, x: Any, y: Any, exclude: str | None) -> float:
        self.run.surface_calls += 1  # the verifier keys these perceptions by call (capc.safety.world)
        held = self.run.backend.held_object()
        others = [(self.kind(name), self.surface_position(name)) for name in self.run.perception.names()
                  if name not in (exclude, held)]
        return self.run.cell.rest_height(float(x), float(y), others)

    def surface_position(self, name: str) -> tuple[float, float, float]:
        return tuple(float(v) for v in self.run.perception.position(name))


class _Run:
    def __init__(self, program: ir.Program, scene: Scene, spec: SafetySpec, backend, config: RunConfig):
        self.program, self.scene, self.spec, self.backend = program, scene, spec, backend
        # observe_only: the monitor records what it would stop and lets it through. Only for
        # measuring an unverified baseline (`capc eval --baseline unverified`) on a simulated
        # backend; every other run stops at the first violation.
        self.observe_only = config.observe_only
        self.interpreter = Interpreter(program, config.limits)
        self.profile = self.interpreter.profile
        self.cell = self.profile.cell
        self.monitor = Monitor(spec, self.cell)
        self.perception = Perception(backend, scene, spec, noise=config.noise, seed=config.seed)
        self.trace = config.trace
        self.dt = 1.0 / spec.control_rate
        self.segments: list[np.ndarray] = []
        self.sent = 0
        self.tcp = tuple(float(v) for v in self.cell.home)  # commanded: what reset was told
        self.outcome = RunOutcome(STATUS_COMPLETED, backend=getattr(backend, "name", type(backend).__name__))
        self.observer = Observer(backend, scene, self.cell)
        self.observer.stops = config.outcome_stops and not config.observe_only
        self.surface_calls = 0
        self.last_motion: PrimitiveCall | None = None
        self.answers = _Answers(self.profile, self.perception, config.sub_lmp, lambda: self.tcp, self.outcome.said)

    # -- the loop --------------------------------------------------------------------

    def run(self) -> RunOutcome:
        gen = self.interpreter.run()
        outcome = self.outcome
        try:
            call = next(gen)
            while True:
                call = gen.send(self.answer(call))
        except StopIteration:
            outcome.status, outcome.message = STATUS_COMPLETED, "the policy ran to completion"
            if self.spec.rules:
                self._end_rules()
        except _MonitorStop as stop:
            # A stop requested by the monitor: the backend halts before anything else is sent.
            self.backend.stop()
            outcome.status, outcome.code = STATUS_STOPPED, stop.event["code"]
            outcome.message = stop.event["message"]
            outcome.monitor_events.append(stop.event)
            outcome.span = stop.event.pop("span")
        except RobotFault as fault:
            self.backend.stop()
            outcome.status, outcome.code, outcome.message = STATUS_FAULT, fault.code, str(fault)
            outcome.hint = fault.diagnostic.hint
        except KeyboardInterrupt:
            self.backend.stop()
            outcome.status, outcome.code = STATUS_INTERRUPTED, E_INTERRUPTED
            outcome.message = "interrupted (Ctrl-C): the robot was stopped"
        except OutcomeStop as stop:
            self.backend.stop()
            outcome.status, outcome.code, outcome.span = stop.status, stop.event["code"], stop.span
            outcome.message, outcome.hint = stop.event["message"], stop.event.get("hint")
        except CapcError as error:
            self.backend.stop()
            budget = error.code in BUDGET_CODES
            outcome.status = STATUS_BUDGET if budget else STATUS_ERROR
            outcome.code, outcome.message, outcome.span = error.code, str(error), error.span
            outcome.hint = error.diagnostic.hint
        finally:
            gen.close()
        if outcome.status in (STATUS_STOPPED, STATUS_BUDGET, STATUS_ERROR) and self.last_motion is not None:
            self.observer.after(self.last_motion, self.tcp, stop=False)  # what the stopped run left
        outcome.outcome_events = self.observer.events
        outcome.steps = self.interpreter.steps
        outcome.printed = self.interpreter.printed
        outcome.variables = dict(self.interpreter.globals.vars)
        outcome.setpoints = np.vstack(self.segments) if self.segments else np.empty((0, 3))
        # A stop in the middle of a segment leaves the arm moving: its halt is the backend's
        # protective stop, not a set-point, so the stream is not closed with a rest there.
        mid_segment = any(event.get("tick") is not None for event in outcome.monitor_events)
        outcome.peak_speed, outcome.peak_accel = setpoint_limits(outcome.setpoints, self.cell.home, self.dt,
                                                                 end_at_rest=not mid_segment)
        return outcome

    def answer(self, call: PrimitiveCall) -> Any:
        self.interpreter.check_clock(call.span)
        self.outcome.calls.append({"index": call.index, "name": call.name, "line": call.span.line})
        if self.trace is not None:
            self.trace(call)
        primitive = call.primitive
        if primitive is None:
            raise RuntimeStop(E_UNDEFINED_FUNCTION, f"function '{call.name}' is not defined", call.span,
                              hint="the LLM layer defines helper functions before a run; "
                                   "define it in the policy or generate it with capc compile")
        if primitive.kind in (KIND_MOTION, KIND_GRIPPER):
            self._move(call)
            return None
        return self.answers.answer(call)

    # -- motion ------------------------------------------------------------------------

    def _move(self, call: PrimitiveCall) -> None:
        try:
            steps = self.profile.plan(call.name, call.args, _World(self, call.span))
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise RuntimeStop(E_BAD_PRIMITIVE_ARGS, f"{call.name}: cannot plan this motion: {exc}", call.span) from None
        self.last_motion = call
        for step in steps:
            # Each plan step is a command to check and send: it costs like a call, so a
            # follow_traj through 10**5 points ends on the step budget, not after minutes.
            self.interpreter.charge(CALL_STEPS, call.span)
            if isinstance(step, Grip):
                before = self.backend.held_object()
                if self.spec.rules and not step.close:  # a release the rules forbid does not happen
                    self._grip_rules(call, step, before)
                held = self.backend.set_gripper(step.close)
                if self.spec.rules and step.close:      # checked before anything lifts what it took
                    self._grip_rules(call, step, held)
                self.outcome.gripper_events.append({"tick": self.sent, "close": step.close, "held": held,
                                                    "call": call.index})
                self.observer.gripper(call, step.close, before, held, self.tcp)
                continue
            self._segment(call, step)
        self.observer.after(call, self.tcp)

    def _end_rules(self) -> None:
        """`at_end` rules on the world the policy leaves (capc.safety.rules)."""
        violation = self.monitor.check_end(self.backend.object_positions(), self.perception.kinds)
        if violation is None:
            return
        span = self.program.body[-1].span if self.program.body else Span(self.program.file, 1, 1, 1, 2)
        event = {"code": MONITOR_CODES["rule"], "call_index": None, "primitive": None, "line": span.line,
                 "col": span.col, "role": "end of program", "checked": "end", "tick": None, **violation.to_json()}
        event["message"] = f"at the end of the program: {violation.message} [{violation.name}]"
        self.outcome.monitor_events.append(event)
        if not self.observe_only:
            self.outcome.status, self.outcome.code = STATUS_STOPPED, event["code"]
            self.outcome.message, self.outcome.span = event["message"], span

    def _grip_rules(self, call: PrimitiveCall, step, held: str | None) -> None:
        violation = self.monitor.check_grip(step.close, held, self.tcp, self.backend.object_positions(),
                                            self.perception.kinds)
        if violation is not None:
            self._stop(call, step.role, violation, tick=None)
            if not step.close:  # observed only: the gripper opens all the same
                self.monitor.opened(held)

    def _segment(self, call: PrimitiveCall, step) -> None:
        if self.spec.rules:  # boxes that move with an object are where the object is now
            self.monitor.objects = self.backend.object_positions()
        violation = self.monitor.check_waypoint(self.tcp, step.target, step.speed)
        if violation is not None:
            self._stop(call, step.role, violation, tick=None)
            if violation.limit == "command":   # observed: no point to move to
                return
        target = tuple(float(v) for v in step.target)
        speed = self.spec.max_speed if step.speed is None else min(float(step.speed), self.spec.max_speed)
        if not speed > 0:                      # observed: a speed no motion can have
            speed = self.spec.max_speed
        length = math.dist(self.tcp, target)
        if length < MIN_LENGTH:
            return
        # The budget covers the motion before it starts, and before its set-points exist: a
        # speed of 1e-9 m/s would ask for 10**10 ticks.
        ticks = tick_count(length, speed, self.spec.max_accel, self.dt) + 1  # + the hold tick
        self.interpreter.charge(ticks, call.span)
        self.interpreter.check_clock(call.span)
        points = segment_setpoints(self.tcp, target, speed, self.spec.max_accel, self.dt, max_ticks=ticks)
        hit = self.monitor.check_setpoints(self.tcp, points, self.dt)
        accepted = points if hit is None or self.observe_only else points[:hit[0]]
        if len(accepted) and hasattr(self.backend, "begin_segment"):  # optional: see SimBackend
            self.backend.begin_segment(target)
        send, dt = self.backend.send_setpoint, self.dt
        for row in accepted.tolist():
            send(row, dt)
        if len(accepted):
            self.segments.append(accepted)
            self.sent += len(accepted)
            self.tcp = tuple(accepted[-1].tolist())
        if hit is not None:
            if self.observe_only and len(points) > 1:   # the monitor's velocity, as if it had passed
                self.monitor.velocity = (points[-1] - points[-2]) / self.dt
            self._stop(call, step.role, hit[1], tick=self.sent)

    def _stop(self, call: PrimitiveCall, role: str, violation: Violation, tick: int | None) -> None:
        where = f"line {call.span.line}"
        what = "set-point" if tick is not None else "command"
        event = {
            "code": MONITOR_CODES.get(violation.limit, codes.E514), "call_index": call.index, "primitive": call.name,
            "line": call.span.line, "col": call.span.col, "role": role, "checked": what,
            "tick": tick, "span": call.span, **violation.to_json(),
        }
        by = f" exceeded by {violation.excess:.4g}" if violation.excess > 0 else ""
        event["message"] = (f"monitor stopped {call.name} ({where}, {role}): {violation.message} "
                            f"[{violation.name} limit{by}]")
        if self.observe_only:
            event.pop("span")
            event["observed"] = True
            event["message"] = "observed, not stopped: " + event["message"].replace("monitor stopped ", "", 1)
            self.outcome.monitor_events.append(event)
            return
        raise _MonitorStop(event)


def execute(program: ir.Program, scene: Scene, spec: SafetySpec, config: RunConfig = DEFAULT_RUN,
            **changes: Any) -> RunOutcome:
    """Run `program` in `scene` under `spec` and the monitor, as `config` says (RunConfig);
    keyword `changes` are fields of it (`execute(p, s, spec, backend="sim", seed=3)`).

    A backend with a `control_rate` of its own (a real robot's cell) sets the rate the
    set-points are generated and monitored at."""
    from capc.runtime.backends import make_backend

    if changes:
        config = config.with_changes(**changes)
    task = _resolve_task(program, config.task)
    owned = isinstance(config.backend, str)
    profile = get_profile(program.profile)
    robot = (make_backend(config.backend, gui=config.gui, profile=profile, **(config.backend_options or {}))
             if owned else config.backend)
    rate = getattr(robot, "control_rate", None)
    if rate is not None and rate != spec.control_rate:
        spec = spec.with_changes(control_rate=float(rate))
    started = time.monotonic()
    try:
        try:
            robot.reset(scene, spec, profile.cell.home)
        except (RobotFault, KeyboardInterrupt) as fault:
            # Nothing has moved: the controller is unreachable, or the arm not at the start.
            robot.stop()
            outcome = _fault_outcome(robot, fault)
            outcome.robot = robot.report() if hasattr(robot, "report") else None
            outcome.wall_time = time.monotonic() - started
            return outcome
        if config.record:
            if not hasattr(robot, "start_recording"):
                raise InputError(f"--record needs a backend that renders (sim), not '{robot.name}'")
            robot.start_recording(config.record)
        away = start_difference(robot.object_positions(), config.verified_scene, spec.perception_tolerance)
        if away is not None:
            outcome = RunOutcome(STATUS_ERROR, away, E_START_WORLD, backend=getattr(robot, "name", ""),
                                 hint="verify the policy for the world the backend starts in "
                                      "(--scene), or with --any-scene")
        else:
            outcome = _Run(program, scene, spec, robot, config).run()
        outcome.sim_time = robot.sim_time()
        outcome.final_positions = {name: [round(float(v), 6) for v in pos]
                                   for name, pos in robot.object_positions().items()}
        outcome.guarded = bool(config.guards)
        if task is not None:
            from capc.runtime.tasks import check_task

            outcome.task = task.text
            outcome.task_result = check_task(task, robot.object_positions(), scene)
        if config.record:
            outcome.recording = robot.finish_recording()
        if hasattr(robot, "report"):
            outcome.robot = robot.report()
    finally:
        if owned:
            robot.close()
    outcome.wall_time = time.monotonic() - started
    return outcome


def _fault_outcome(robot, fault: BaseException) -> RunOutcome:
    name = getattr(robot, "name", type(robot).__name__)
    if isinstance(fault, KeyboardInterrupt):
        return RunOutcome(STATUS_INTERRUPTED, "interrupted (Ctrl-C) before the run started",
                          E_INTERRUPTED, backend=name)
    return RunOutcome(STATUS_FAULT, str(fault), fault.code, hint=fault.diagnostic.hint, backend=name)


def start_difference(reported: dict[str, Any], verified: Scene | None, tolerance: float) -> str | None:
    """Why the world a backend reports at the start is not the verified one (None when it is):
    the same objects, each within the perception tolerance of its verified position."""
    if verified is None:
        return None
    names, seen = set(verified.names()), set(reported)
    if names != seen:
        missing, extra = sorted(names - seen), sorted(seen - names)
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
            ([f"unexpected {', '.join(extra)}"] if extra else [])
        return "the backend starts in another world than the one verified: " + "; ".join(parts)
    for obj in verified.objects:
        gap = max(abs(a - float(b)) for a, b in zip(obj.position, reported[obj.name]))
        if gap > tolerance + 1e-9:   # the verifier's tolerance is per axis
            return (f"the backend starts with {obj.name} {gap:.3f} m from where the verdict put it "
                    f"(tolerance {tolerance:g} m per axis); nothing was moved")
    return None


def _resolve_task(program: ir.Program, task: Any):
    if task is not None and not isinstance(task, str):
        return task
    try:
        from capc.runtime.tasks import parse_task, task_from_source
    except ImportError:  # the task checker is optional for a run
        return None
    if isinstance(task, str):
        return parse_task(task)
    return task_from_source(program.source, program.file)


def setpoint_limits(setpoints: np.ndarray, start: Any, dt: float, *,
                    end_at_rest: bool = True) -> tuple[float, float]:
    """Peak speed and acceleration of a recorded set-point stream by finite differences,
    starting at rest at `start` and (unless told otherwise) ending at rest: what tests and
    benchmarks assert on."""
    if len(setpoints) == 0:
        return 0.0, 0.0
    path = np.vstack((np.asarray(start, dtype=float)[None, :], setpoints))
    v = np.diff(path, axis=0) / dt
    rests = (np.zeros((1, 3)), v, np.zeros((1, 3))) if end_at_rest else (np.zeros((1, 3)), v)
    a = np.diff(np.vstack(rests), axis=0) / dt
    return float(np.linalg.norm(v, axis=1).max()), float(np.linalg.norm(a, axis=1).max())
