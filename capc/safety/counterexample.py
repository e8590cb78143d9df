"""Counterexamples: from a Z3 model to the dict users read, and the concrete replay.

A counterexample says which world breaks a command: the objects' true positions, the values
of the policy's variables at the offending call, the offending target or segment, which
limit it breaks and by how much. Before the verifier reports it, `replay` runs the policy
CONCRETELY in that world with the runtime's interpreter (capc.compiler.interpreter), answers
every perception / sub-LMP call with the model's values, expands every motion with the same
`profile.plan(...)` on floats, checks every command with the runtime monitor
(capc.safety.monitor: the true limits), and confirms that the reported command is the first
one the monitor stops, for the reported limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capc.lazy_numpy import np

from capc.compiler import ir
from capc.compiler.profiles import get_profile
from capc.compiler.registry import Grip, Primitive, RobotProfile, Waypoint
from capc.compiler.types import Type
from capc.diagnostics import Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety.semantics import Semantics
from capc.safety.spec import SafetySpec
from capc.safety.symvalues import Opaque
from capc.safety.world import WorldState
from capc.safety.z3util import model_value


@dataclass(frozen=True)
class ReplayTarget:
    call_index: int
    step_no: int
    property: str


@dataclass(frozen=True)
class ReplayData:
    """Everything the replay needs, all concrete."""

    positions: dict[str, tuple[float, float, float]]
    kinds: dict[str, str]
    names: tuple[str, ...]
    answers: dict[Any, Any]
    target: ReplayTarget


def rounded(value: Any, digits: int = 4) -> Any:
    if isinstance(value, (float, np.floating)):
        return round(float(value), digits)
    if isinstance(value, np.ndarray):
        return [rounded(v, digits) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def build(model, *, initial: dict[str, tuple], variables: dict[str, Any], answers: dict[Any, Any],
          defaults: dict[Any, Any],
          target: tuple | None, segment: tuple | None, limit: str, excess: float, call_index: int,
          replay_target: ReplayTarget, kinds: dict[str, str], names: list[str]) -> tuple[dict, ReplayData]:
    objects = {name: [float(model_value(model, v)) for v in pos] for name, pos in initial.items()}
    values = {}
    for name, value in variables.items():
        try:
            values[name] = rounded(model_value(model, value))
        except Exception:  # a value we cannot show is simply left out of the message
            continue
    concrete_answers = {}
    for key, value in answers.items():
        concrete = _concrete(model, value)
        if key in defaults and _same(concrete, _concrete(model, defaults[key])):
            continue  # the replay's default (e.g. a perception without error) gives this value
        concrete_answers[key] = concrete
    cex = {
        "objects": {k: rounded(v) for k, v in objects.items()},
        "variables": values,
        "target": rounded([float(model_value(model, v)) for v in target]) if target else None,
        "segment": ([rounded([float(model_value(model, v)) for v in segment[0]]),
                     rounded([float(model_value(model, v)) for v in segment[1]])] if segment else None),
        "limit": limit,
        "excess": round(float(excess), 6),
        "replayed": False,
        "call_index": call_index,
    }
    data = ReplayData({k: tuple(v) for k, v in objects.items()}, dict(kinds), tuple(names),
                      concrete_answers, replay_target)
    return cex, data


def _same(a: Any, b: Any) -> bool:
    try:
        return all(abs(float(x) - float(y)) <= 1e-12 for x, y in zip(a, b))
    except (TypeError, ValueError):
        return False


def _concrete(model, value: Any) -> Any:
    if isinstance(value, Opaque):
        return value
    return model_value(model, value)


# --- the replay ------------------------------------------------------------------------

class _Confirmed(Exception):
    pass


class _Refuted(Exception):
    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


class _Answers:
    def __init__(self, answers: dict):
        self.answers = answers

    def perceived(self, key, true):
        value = self.answers.get(key)
        return true if value is None else tuple(float(v) for v in value)

    def known(self, cond):
        return cond if isinstance(cond, bool) else None

    def interval(self, value):
        return (float(value), float(value))

    def edge(self, a, b, gap):
        pass  # every value is concrete here: the verifier kept its model clear of the edges

    def havoc_position(self, key, name):
        value = self.answers.get(key)
        if value is None:
            raise _Refuted("the replay reached a position the counterexample does not fix")
        return tuple(float(v) for v in value)


class ReplaySemantics(Semantics):
    def __init__(self, data: ReplayData, spec: SafetySpec, profile: RobotProfile):
        from capc.safety.monitor import Monitor

        world = WorldState(data.positions, profile.cell.home, _Answers(data.answers), data.kinds, profile=profile)
        super().__init__(world, list(data.names))
        self.data = data
        self.spec = spec
        self.monitor = Monitor(spec, profile.cell)

    def perceive(self, index, true_xy):
        value = self.data.answers.get(index)
        return (float(value[0]), float(value[1])) if value is not None else true_xy

    def run_time_value(self, ex, index, type_: Type, what: str, span: Span):
        value = self.data.answers.get(index)
        if isinstance(value, Opaque) or value is None:
            return "<answer known only at run time>"
        return value

    def waypoint(self, ex, prim: Primitive, span, index, step_no, step: Waypoint, start, target):
        tgt = self.data.target
        start_f = tuple(float(v) for v in start)
        target_f = tuple(float(v) for v in target)
        if self.spec.rules:
            world = self.world
            self.monitor.objects = {n: world.true_position(n) for n in world.positions}
        violation = self.monitor.check_waypoint(start_f, target_f, step.speed)
        self._judge(index, step_no, step.role, violation)

    def grip(self, ex, prim: Primitive, span, index, step_no, step: Grip):
        """The monitor's check of a gripper action, on the replay's world (the run's order:
        after a closing gripper took something, before an opening one lets go)."""
        world = self.world
        if not self.spec.rules:
            return
        positions = {} if step.close else {n: world.true_position(n) for n in world.positions}
        kinds = {n: world.kind(n) for n in world.positions}
        violation = self.monitor.check_grip(step.close, world.held, world.tcp(), positions, kinds)
        self._judge(index, step_no, step.role, violation)

    def end(self) -> None:
        """The program ran to its end: the monitor's `at_end` check (call index -1)."""
        if self.spec.rules:
            world = self.world
            positions = {n: world.true_position(n) for n in world.positions}
            violation = self.monitor.check_end(positions, {n: world.kind(n) for n in world.positions})
            self._judge(-1, -1, "end of program", violation)

    def _judge(self, index: int, step_no: int, role: str, violation) -> None:
        tgt = self.data.target
        if (index, step_no) == (tgt.call_index, tgt.step_no):
            if violation is not None and violation.name == tgt.property:
                raise _Confirmed()
            why = "passed" if violation is None else f"stopped it for {violation.name}"
            raise _Refuted(f"the monitor {why} at call {index} ({role})")
        if violation is not None:
            raise _Refuted(f"the replay stopped earlier, at call {index} ({role}): {violation.message}")

    def unverifiable_motion(self, ex, prim, span, index, reason):
        raise _Refuted(f"call {index} moves to a point known only at run time")


class _Stub:
    """What the semantics need from an executor, for a run where every value is concrete."""

    def __init__(self, profile):
        self.profile = profile
        self.callers: list = []

    def branch(self, cond, span):
        if isinstance(cond, bool):
            return cond
        raise _Refuted("a decision of the replay depends on a value the counterexample does not fix")


def replay(program: ir.Program, spec: SafetySpec, data: ReplayData,
           limits: ResourceLimits = DEFAULT_LIMITS) -> tuple[bool, str]:
    """(confirmed, detail). Uses the runtime's interpreter; falls back to the verifier's own
    executor in concrete mode if the interpreter module is unavailable."""
    semantics = ReplaySemantics(data, spec, get_profile(program.profile))
    try:
        from capc.compiler.interpreter import Interpreter
    except ImportError:
        return _replay_with_executor(program, semantics, limits)
    stub = _Stub(get_profile(program.profile))
    interp = Interpreter(program, limits)
    gen = interp.run()
    try:
        call = _next(gen, semantics, None, first=True)
        while True:
            if call.primitive is None:
                args = call.args
                value = semantics.undefined(stub, call.name, args.get("args", []), args.get("kwargs", {}),
                                            None, call.span, call.index)
            else:
                value = semantics.api(stub, call.primitive, call.args, call.span, call.index)
            call = _next(gen, semantics, _to_runtime(value))
    except StopIteration:
        return False, "the replay finished without reaching the reported command"
    except _Confirmed:
        return True, "confirmed by the runtime interpreter"
    except _Refuted as r:
        return False, r.why
    except Exception as exc:  # RuntimeStop of the policy, or a modelling mismatch
        return False, f"the replay stopped: {exc}"
    finally:
        gen.close()


def _next(gen, semantics: ReplaySemantics, value: Any, first: bool = False):
    """The interpreter's next call; at the program's end, the `at_end` rules are judged first
    (they confirm or refute a finding there) before StopIteration goes on."""
    try:
        return next(gen) if first else gen.send(value)
    except StopIteration:
        semantics.end()
        raise


def _to_runtime(value: Any) -> Any:
    """Executor values to the interpreter's: boxed arrays become float arrays."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return np.array(value.tolist(), dtype=float)
    return value


def _replay_with_executor(program, semantics, limits) -> tuple[bool, str]:
    from capc.safety.symbolic import ConcreteChooser, Executor

    ex = Executor(program, semantics, ConcreteChooser(), limits=limits)
    try:
        ex.run()
    except _Confirmed:
        return True, "confirmed by concrete execution"
    except _Refuted as r:
        return False, r.why
    except Exception as exc:
        return False, f"the replay stopped: {exc}"
    return False, "the replay finished without reaching the reported command"
