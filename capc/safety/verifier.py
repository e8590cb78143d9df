"""The verifier: every motion a policy can command is proved safe in every admissible world.

    report = verify(program, spec, scene)            # scene mode: perceived positions +- tolerance
    report = verify(program, spec, any_scene=True)   # anywhere in the spawn area

How (docs/verification.md has the full story):
1. The world is symbolic: each object's true position is a Z3 real triple, bounded by the
   perception tolerance around the scene's value (or by the spawn area); each perception call
   returns the true position plus a fresh error within the tolerance.
2. `capc.safety.symbolic.Executor` runs the IR on those values. A branch on a world-dependent
   condition asks `PathRun.decide`: both sides are checked for feasibility, one is taken, the
   other queued; the program is re-run from the start for every queued alternative. A side
   only float rounding can take is reported unknown (capc.safety.rounding).
3. Every waypoint of every motion (from the registry's plans, via capc.safety.semantics)
   yields obligations (capc.safety.obligations): proved when the violation is unsat under
   the path condition, violated when sat (the model becomes a counterexample, replayed
   concretely before it is reported), unknown when the solver runs out of its resource
   limit / non-linear give-up / values only known at run time (the command is then guarded
   by the runtime monitor).
4. One Z3 solver for the whole program (push/pop per query), a budget counted in Z3 resource
   units and executor steps (capc.safety.budget: the same report on every machine), with a
   wall-clock ceiling of last resort; what is left when it runs out is unknown.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import re
import time
from dataclasses import dataclass
from typing import Any

import z3

from capc.compiler import ir
from capc.compiler.profiles import get_profile
from capc.compiler.registry import Grip, Primitive, RobotProfile, Waypoint
from capc.compiler.scene import Scene
from capc.compiler.types import Array, Bool, Float, Int, Type
from capc.diagnostics import Diagnostic, Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety import counterexample as cexm
from capc.safety.budget import PATHS, WALL_CLOCK, VerifyBudget
from capc.safety.intervals import Bounds
from capc.safety.obligations import (
    CODE_BUDGET, CODE_POLICY_FAULT, CODE_UNKNOWN_OBJECT, CODE_UNVERIFIED, CODE_WALL_CLOCK, PROVED, UNKNOWN, VIOLATED,
    Obligation, Property,
    keep_out_property, speed_property, workspace_property,
)
from capc.safety.rounding import Comparisons, DoubleTruths
from capc.safety.semantics import Semantics
from capc.safety.spec import SafetySpec
from capc.safety.symbolic import BudgetOut, Executor
from capc.safety.symvalues import Abandon, Opaque, PolicyFault, UnknownObject, box
from capc.safety.world import EDGE_GAP, WorldState
from capc.safety.z3util import as_real, is_sym, model_float, resource_count

DEFAULT_MAX_PATHS = 256
DEFINED_LABELS = frozenset({"sqrt"})  # fresh reals that come with a definition
def spacing(profile: RobotProfile) -> float:
    """m: two objects of a scene-free counterexample are at least this far apart: twice the
    grasp radius, so a pick aimed at one (perception error up to 2 cm per axis) is nearer to it."""
    return 2 * profile.cell.grasp_radius


@functools.lru_cache(maxsize=None)
def _object_name(colors: tuple[str, ...], kinds: tuple[str, ...]) -> re.Pattern:
    """'<colour> <kind>' for a profile's colours and kinds."""
    return re.compile(r"^(%s) (%s)$" % ("|".join(colors), "|".join(kinds)))


# The end of a program, as a "call" of the obligations of `at_end` rules: an index no call has
# (the replay and the runtime's end-of-program event use it too).
END_INDEX = -1
END_OF_PROGRAM = Primitive("<end of program>", (), None, "end", "the world when the program ends", "")


class Infeasible(Exception):
    """Both sides of a branch are unsat: the path itself cannot happen."""


# --- the solver --------------------------------------------------------------------------

class SolverContext:
    """One incremental Z3 solver per program. The solver's scope stack mirrors the current
    path condition (one scope per conjunct), so a query only pushes its own negated property.
    Facts true on every path (bounds of unknowns, definitions of fresh reals) are asserted
    at the base level before the next query. Interval
    bounds (capc.safety.intervals) answer what they can before the solver is asked."""

    def __init__(self, budget: VerifyBudget):
        self.solver = z3.Solver()
        self.bounds = Bounds()
        self.budget = budget
        self.checks = 0
        self.seconds = 0.0
        # Z3 reuses the ids of freed terms: every id kept here is kept with its term.
        self._facts: dict[int, Any] = {}
        self._stack: list[Any] = []                 # the path-condition terms, one per scope
        self._pending: list[Any] = []               # facts not yet given to the solver
        self.nonlinear = False                      # some fact multiplies unknowns (sqrt, ...)

    def add(self, fact: Any) -> None:
        if isinstance(fact, bool):
            if not fact:
                raise Infeasible()
            return
        key = fact.get_id()
        if key not in self._facts:
            self._facts[key] = fact
            self._pending.append(fact)
            if not self.nonlinear and self.bounds.nonlinear(fact):
                self.nonlinear = True

    def bound(self, var: z3.ArithRef, low: Any, high: Any) -> None:
        low = None if low is None or not math.isfinite(low) else low
        high = None if high is None or not math.isfinite(high) else high
        self.bounds.declare(var.decl().name(), low, high)
        for fact in ((var >= low) if low is not None else None, (var <= high) if high is not None else None):
            if fact is not None:  # linear by construction: no need to inspect it
                self._facts[fact.get_id()] = fact
                self._pending.append(fact)

    def _sync(self, pc: list) -> None:
        """Facts go to the base level (popping the path's scopes once if needed), then the
        scopes are made to match `pc`."""
        stack = self._stack
        if self._pending:
            if stack:
                self.solver.pop(len(stack))
                stack.clear()
            self.solver.add(*self._pending)
            self._pending.clear()
        n = 0
        while n < len(stack) and n < len(pc) and stack[n].get_id() == pc[n].get_id():
            n += 1
        if len(stack) > n:
            self.solver.pop(len(stack) - n)
            del stack[n:]
        for term in pc[n:]:
            self.solver.push()
            self.solver.add(term)
            stack.append(term)

    def check(self, pc: list, extra: list, *, want_model: bool = False) -> tuple[str, z3.ModelRef | None]:
        terms = []
        for p in extra:
            if p is True:
                continue
            if p is False:
                return "unsat", None
            terms.append(p)
        if self.nonlinear or any(self.bounds.nonlinear(t) for t in terms):
            result, model = self._check_nra(pc, terms, want_model)
            if result != "unknown":
                return result, model
        rlimit = self.budget.check_rlimit()
        if not rlimit:
            return "unknown", None
        self._limit(self.solver, rlimit)
        started = time.perf_counter()
        before = resource_count(self.solver)
        self._sync(pc)
        self.solver.push()
        result = z3.unknown
        try:
            self.solver.add(*terms)
            result = self.solver.check()
            model = self.solver.model() if want_model and result == z3.sat else None
        finally:
            self._spent(self.solver, result, before, started)
            self.solver.pop()
        return str(result), model

    def _limit(self, solver, rlimit: int) -> None:
        """The query's share of the budget, and the wall-clock ceiling as Z3's timeout (nlsat
        does not heed the resource limit everywhere)."""
        solver.set("rlimit", rlimit)
        solver.set("timeout", self.budget.query_timeout_ms())

    def _spent(self, solver, result, before: int, started: float) -> None:
        self.budget.spent(resource_count(self.solver) - before)
        if result == z3.unknown and solver.reason_unknown() == "timeout":
            self.budget.query_timed_out()   # this answer depends on the machine: say so
        self.budget.wall_clock_out()
        self.checks += 1
        self.seconds += time.perf_counter() - started

    def _check_nra(self, pc: list, terms: list, want_model: bool) -> tuple[str, z3.ModelRef | None]:
        """Non-linear queries go to nlsat (a complete procedure for real arithmetic, far faster
        here than the incremental core's heuristics), on a fresh solver with every fact."""
        rlimit = self.budget.check_rlimit()
        if not rlimit:
            return "unknown", None
        solver = z3.Tactic("qfnra-nlsat").solver()
        self._limit(solver, rlimit)
        started = time.perf_counter()
        before = resource_count(self.solver)
        result = z3.unknown
        try:
            solver.add(*self._facts.values())
            solver.add(*pc)
            solver.add(*terms)
            result = solver.check()
            model = solver.model() if want_model and result == z3.sat else None
        except z3.Z3Exception:
            return "unknown", None
        finally:
            self._spent(solver, result, before, started)
        return str(result), model


# --- one path -------------------------------------------------------------------------

class PathRun:
    """The executor's `Chooser` for one run: follows `prefix` (decisions of earlier runs),
    then decides new branches with the solver and queues the alternatives."""

    def __init__(self, verifier: "Verifier", prefix: tuple[bool, ...], number: int):
        self.v = verifier
        self.prefix = prefix
        self.number = number
        self.trace: list[bool] = []
        self.pc: list[Any] = []
        self.compared = Comparisons()      # tests decided on this path (the run repeats them exactly)
        self.doubles = DoubleTruths(self.interval)  # the same decisions as a run in doubles makes them
        self.executor: Executor | None = None  # the run's executor (call index and callers, for records)
        self.assumed: list[Any] = []       # earlier commands passed the monitor (what that implies)
        self.error_vars: list[Any] = []    # perception errors (zero them for runnable counterexamples)
        self.opaque: list[Any] = []        # "a run-time answer is a plausible one" (for counterexamples)
        self.opaque_names: set[str] = set()
        self.edges: list[Any] = []         # "clear of every world-model threshold" (for counterexamples)
        self.answers: dict[Any, Any] = {}  # what the replay must answer, by call index / key
        self.defaults: dict[Any, Any] = {}  # what the replay assumes for a key left out
        self.counter = 0

    @property
    def replaying(self) -> bool:
        """True while this run retraces its prefix: obligations met here were checked by the
        run that queued the prefix."""
        return len(self.trace) < len(self.prefix)

    def decide(self, cond: z3.BoolRef, span: Span | None) -> bool:
        # Decided by the bounds alone: the same on every run and every path, so it is not a
        # decision to record -- and it must be taken the same way while retracing a prefix,
        # or the recorded decisions would be matched to the wrong branches. (The bounds are
        # widened outward at every step, far more than rounding moves a double.)
        known = self.v.ctx.bounds.truth(cond)
        if known is None:
            # the same comparison again on this path: the run compares the same doubles again
            known = self.compared.truth(cond)
        if known is not None:
            return known
        i = len(self.trace)
        if i < len(self.prefix):
            choice = self.prefix[i]
        else:
            yes, _ = self.v.ctx.check(self.pc, [cond])
            no, _ = self.v.ctx.check(self.pc, [z3.Not(cond)])
            if yes == "unsat" and no == "unsat":
                raise Infeasible()
            if yes != "unsat" and no != "unsat":
                choice = True
                self.v.queue(tuple(self.trace) + (False,))
            else:
                choice = yes != "unsat"
                self._rounding_side(z3.Not(cond) if choice else cond, span)
        self.trace.append(choice)
        self.pc.append(cond if choice else z3.Not(cond))
        self.compared.record(cond, choice)
        self.doubles.record(cond, choice)
        return choice

    def _rounding_side(self, ruled_out: z3.BoolRef, span: Span | None) -> None:
        """The side `ruled_out` is impossible in exact reals, but the run decides the test on
        doubles: if it holds once its comparisons are loosened by the rounding slack
        (capc.safety.rounding), some admissible world puts a value within rounding of the
        threshold and the run may take it. Exploring it would need the loosened path
        condition, on which every later test near a bound forks again; it is left unexplored
        instead, and what follows it on that side is guarded."""
        if self.v.ctx.check(self.pc, self.doubles.query(ruled_out))[0] == "unsat":
            return
        ex = self.executor
        where = f"line {span.line}" if span is not None else "a test"
        self.v.record_unknown(self, span or _last_span(self.v.program), tuple(ex.callers) if ex else (), "",
                              "rounded branch", "analysis", ex.call_index if ex else -1,
                              f"the test at {where} is decided by float rounding in some admissible world "
                              f"(a value lies within rounding of its threshold); the side exact arithmetic "
                              f"rules out is not explored, and its motions are guarded by the runtime monitor",
                              CODE_UNVERIFIED)

    def _name(self, label: str) -> str:
        """Unknowns whose only facts are constant bounds are the same on every path that
        makes them at the same point, so their names carry only the creation count: re-runs
        and sibling paths share them and the solver's fact base does not grow with the paths.
        Unknowns with a path-dependent definition (the sqrt of a path's term) also carry the
        decisions that led to them."""
        self.counter += 1
        if label in DEFINED_LABELS:
            return f"{label}!{self.v.trace_id(tuple(self.trace))}.{self.counter}"
        return f"{label}.{self.counter}"

    def fresh(self, label: str, low: Any = None, high: Any = None) -> z3.ArithRef:
        var = z3.Real(self._name(label))
        self.v.ctx.bound(var, low, high)
        return var

    def fresh_bool(self, label: str) -> z3.BoolRef:
        return z3.Bool(self._name(label))

    def define(self, fact: Any) -> None:
        self.v.ctx.add(fact)

    def interval(self, term: Any) -> tuple[float, float]:
        return self.v.ctx.bounds.interval(term)


# --- the verifier's semantics of the primitives -----------------------------------------

class _Unknowns:
    def __init__(self, run: PathRun, spec: SafetySpec):
        self.run, self.spec = run, spec
        self.tolerance = spec.perception_tolerance  # the largest perception error per axis

    def perceived(self, key, true):
        tol = self.spec.perception_tolerance
        if tol <= 0:
            return true
        dx, dy = self.run.fresh("plan_dx", -tol, tol), self.run.fresh("plan_dy", -tol, tol)
        self.run.error_vars += [dx, dy]
        value = (true[0] + dx, true[1] + dy, true[2])
        self.run.answers[key] = value
        self.run.defaults[key] = true  # a replay without this answer uses the truth
        return value

    def known(self, cond):
        """Bounds first; where they lose the correlation between terms (a stacked block's xy
        and the block under it), the solver under this path's condition. A decision valid on
        the path is valid on every extension of it, so a world-state term built from it is
        exact; None leaves the term open."""
        v = self.run.v
        truth = v.ctx.bounds.truth(cond)
        if truth is not None:
            return truth
        # Re-runs of a prefix meet the same condition under the same path condition: the
        # cache gives them the same answer (a timeout must not turn a term into another).
        key = (cond.get_id(), tuple(p.get_id() for p in self.run.pc))
        hit = v.decisions.get(key)
        if hit is None:
            # Simplifying cancels what intervals count twice (x - (x + e) is -e); the solver
            # is asked only for linear conditions (a non-linear one needs nlsat, dearer than
            # the term it would save).
            simple = z3.simplify(cond)
            truth = v.ctx.bounds.truth(simple)
            if truth is None:  # exact reals, as the solver would decide it (cheaper for a small term)
                truth = v.ctx.bounds.exact_truth(simple)
            if truth is None and not v.ctx.bounds.nonlinear(cond):
                if v.ctx.check(self.run.pc, [z3.Not(cond)])[0] == "unsat":
                    truth = True
                elif v.ctx.check(self.run.pc, [cond])[0] == "unsat":
                    truth = False
            hit = v.decisions[key] = (cond, list(self.run.pc), truth)  # the terms keep their ids
        return hit[2]

    def interval(self, value):
        return self.run.v.ctx.bounds.interval(value)

    def edge(self, a, b, gap):
        """A world-model comparison `a <= b` (decided or open): a counterexample keeps `gap`
        clear of its threshold, where float rounding on the backend may take either side."""
        if is_sym(a) or is_sym(b):
            d = as_real(a) - as_real(b)
            self.run.edges.append(z3.Or(d <= -gap, d >= gap))

    def havoc_position(self, key, name):
        ws = self.spec.workspace
        p = tuple(self.run.fresh(f"moved_{axis}", iv.low, iv.high) for axis, iv in zip("xyz", ws.axes))
        self.run.answers[key] = p
        return p


class VerifierSemantics(Semantics):
    def __init__(self, verifier: "Verifier", run: PathRun):
        world = WorldState(verifier.initial, verifier.profile.cell.home, _Unknowns(run, verifier.spec),
                           verifier.kinds, profile=verifier.profile)
        super().__init__(world, verifier.names)
        self.v, self.run = verifier, run

    def perceive(self, index, true_xy):
        tol = self.v.tolerance
        if tol <= 0:
            value = true_xy
        else:
            ex_, ey_ = self.run.fresh("perceive_dx", -tol, tol), self.run.fresh("perceive_dy", -tol, tol)
            self.run.error_vars += [ex_, ey_]
            value = (true_xy[0] + ex_, true_xy[1] + ey_)
        self.run.answers[index] = value
        return value

    def run_time_value(self, ex, index, type_: Type, what: str, span: Span):
        value = self._unknown_of_type(type_, what, span)
        self.run.answers[index] = value
        return value

    def _unknown_of_type(self, type_: Type, what: str, span: Span) -> Any:
        run = self.run
        if isinstance(type_, Array) and type_.shape in ((2,), (3,)):
            ws = self.v.spec.workspace
            coords = [run.fresh("answer") for _ in range(type_.shape[0])]
            m = self.v.spec.margin
            for c, axis in zip(coords, ws.axes):  # a plausible answer: a point the robot may reach
                run.opaque.append(z3.And(c >= axis.low + m, c <= axis.high - m))
                run.opaque_names.add(str(c))
            return box(coords)
        if isinstance(type_, (Float, Int)):
            var = run.fresh("answer")
            run.opaque_names.add(str(var))
            return var
        if isinstance(type_, Bool):
            var = run.fresh_bool("answer")
            run.opaque_names.add(str(var))
            return var
        return Opaque(what, span)

    def waypoint(self, ex, prim, span, index, step_no, step: Waypoint, start, target):
        self.v.check_waypoint(self.run, ex, prim, span, index, step_no, step, start, target, self.world)

    def grip(self, ex, prim, span, index, step_no, step: Grip):
        taken = self.taken() if step.close else None
        if self.v.spec.rules:
            from capc.safety.rules import happened_after

            world = self.world  # a closing one has taken what it takes; the state before it:
            held_before = None if taken is not None else world.held
            self.v.check_grip(self.run, ex, prim, span, index, step_no, step, taken, world,
                              (held_before, world.closed, world.happened))
            world.happened = happened_after(self.v.spec.rules, step.close, taken, held_before, world.happened)

    def unverifiable_motion(self, ex, prim, span, index, reason):
        self.v.record_unknown(self.run, span, tuple(ex.callers), prim.name, "whole call", "motion",
                              index, f"{prim.name}() cannot be checked before run time: {reason}; "
                              f"the runtime monitor guards it", CODE_UNVERIFIED)
        if self.v.spec.rules:
            # The havoc below forgets what the gripper holds and how many grasps there were:
            # every rule after it would be checked against a world that may not be the run's.
            raise Abandon(f"{prim.name}() is known only at run time, and the cell's rules depend on what "
                          f"it leaves in the gripper", span)
        self.world.havoc(("unverified", index))


def nearest_name(name: str, known: list[str]) -> str | None:
    """The known name a misspelt one most likely meant ('red blok' -> 'red block')."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return close[0] if close else None


# --- the report ----------------------------------------------------------------------

@dataclass
class VerificationReport:
    verdict: str
    obligations: list[Obligation]
    guards: list[dict]
    faults: list[Diagnostic]
    mode: str
    objects: list[str]
    paths: int
    paths_unexplored: int
    checks: int
    seconds: float
    solver_seconds: float
    program_file: str = "<policy>"
    budget: dict | None = None     # what the deterministic budget spent (capc.safety.budget)

    def counts(self) -> dict[str, int]:
        out = {PROVED: 0, VIOLATED: 0, UNKNOWN: 0}
        for o in self.obligations:
            out[o.verdict] += 1
        return out

    def violated(self) -> list[Obligation]:
        return [o for o in self.obligations if o.verdict == VIOLATED]

    def diagnostics(self) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        seen: set = set()
        rejected_calls = {o.span for o in self.obligations if o.verdict == VIOLATED}
        for o in self.obligations:
            if o.verdict == PROVED or (o.verdict == UNKNOWN and o.span in rejected_calls):
                continue  # a call already rejected needs no warning about its later phases
            # one message per call and property: later phases of the same call are reached
            # only when the earlier ones pass, the first is what the author must fix
            key = (o.span, o.property, o.verdict)
            if key in seen:
                continue
            seen.add(key)
            notes = tuple(f"called from {c.file}:{c.line}:{c.col}" for c in reversed(o.callers))
            if o.verdict == VIOLATED:
                out.append(Diagnostic(o.code, o.message, o.span, "safety", _hint(o), o.counterexample, notes))
            elif self.verdict == "rejected":
                # nothing of a rejected program runs: no monitor guards anything of it
                out.append(Diagnostic(o.code, _unguarded(o.message), o.span, "warning",
                                      "not decided before run time; the program is rejected for the "
                                      "error(s) above, so nothing of it runs", None, notes))
            else:
                out.append(Diagnostic(o.code, o.message, o.span, "warning",
                                      "the runtime monitor checks this command before the robot moves",
                                      None, notes))
        out.extend(self.faults)
        # errors first (in the order the run would meet them), then what is guarded
        return sorted(out, key=lambda d: d.kind == "warning")

    def summary(self) -> str:
        c = self.counts()
        return (f"{self.verdict}: {c[PROVED]} proved, {c[VIOLATED]} violated, {c[UNKNOWN]} unknown "
                f"obligations on {self.paths} path{'s' if self.paths != 1 else ''} "
                f"({self.seconds * 1000:.0f} ms)")

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "mode": self.mode,
            "objects": self.objects,
            "counts": self.counts(),
            "obligations": [o.to_json() for o in self.obligations],
            "guards": self.guards,
            "faults": [d.to_json() for d in self.faults],
            "diagnostics": [d.to_json() for d in self.diagnostics()],
            "timings": {"verify": round(self.seconds, 6), "solver": round(self.solver_seconds, 6)},
            "paths": self.paths,
            "paths_unexplored": self.paths_unexplored,
            "solver_checks": self.checks,
            "budget": self.budget,
            "seconds": round(self.seconds, 6),
            "solver_seconds": round(self.solver_seconds, 6),
        }


def _unguarded(message: str) -> str:
    """An undecided obligation's message without its "guarded by the monitor" clause."""
    head, sep, tail = message.rpartition("; ")
    return head if sep and "guarded" in tail else message


def _hint(o: Obligation) -> str:
    spec_text = o.replay.get("spec_text") if isinstance(o.replay, dict) else None
    if o.property == "workspace":
        return ("keep every target inside the workspace" + (f" ({spec_text})" if spec_text else "")
                + "; for a point computed from object positions, clip it, e.g. "
                  "np.clip(p, [x_min, y_min], [x_max, y_max])")
    if o.property.startswith("keep_out:"):
        return (f"route around zone '{o.property.split(':', 1)[1]}': add a waypoint that passes above "
                f"or beside it, or pick a target outside it")
    if o.property == "speed":
        return "request a speed in (0, max_speed] m/s, or leave speed=None for the cell's maximum"
    if o.property.startswith("rule:"):
        return (f"the rule is written at {o.property.split(':', 1)[1]} (docs/rules.md); change the call so "
                f"that the rule holds wherever the objects are within the perception tolerance")
    return "see docs/verification.md"


# --- the verifier ------------------------------------------------------------------------

class Verifier:
    def __init__(self, program: ir.Program, spec: SafetySpec, scene: Scene | None, any_scene: bool,
                 limits: ResourceLimits, max_paths: int):
        self.program, self.spec, self.limits = program, spec, limits
        self.profile = get_profile(program.profile)
        self.started = time.monotonic()
        self.budget = VerifyBudget(limits)
        self.ctx = SolverContext(self.budget)
        self.max_paths = max_paths
        self.worklist: list[tuple[bool, ...]] = [()]
        self._trace_ids: dict[tuple, int] = {}
        self.decisions: dict[tuple, tuple] = {}  # world-state conditions the solver settled, per path condition
        self.obligations: list[Obligation] = []
        self.faults: list[Diagnostic] = []
        self.t_var = z3.Real("segment_t")
        self.ctx.bounds.declare("segment_t", 0, 1)
        self.mode = "any_scene" if any_scene else "scene"
        self.tolerance = spec.perception_tolerance
        self.names, self.kinds, self.initial = self._world(scene, any_scene)
        self.spaced = _spaced(self.initial, spacing(self.profile)) if any_scene else []
        self.ws_text = ", ".join(f"{a} in [{iv.low:g}, {iv.high:g}]" for a, iv in zip("xyz", spec.workspace.axes))

    def _world(self, scene: Scene | None, any_scene: bool):
        if scene is not None:
            names = scene.names()
            kinds = {o.name: o.kind for o in scene.objects}
        elif any_scene:
            names = policy_object_names(self.program) or list(self.profile.default_objects)
            for rule in self.spec.rules:  # a rule's objects may be on any table the proof covers
                names += [n for n in rule.objects() if n not in names]
            kinds = {n: self.profile.object_kind(n) for n in names}
        else:
            names, kinds = [], {}
        initial: dict[str, tuple] = {}
        tol = self.tolerance
        for i, name in enumerate(names):
            kind = kinds[name]
            if any_scene:
                area = self.profile.cell.spawn_area
                x, y = z3.Real(f"obj{i}.x"), z3.Real(f"obj{i}.y")
                self.ctx.bound(x, area.x.low, area.x.high)
                self.ctx.bound(y, area.y.low, area.y.high)
                initial[name] = (x, y, self.profile.cell.resting_z(kind))
            else:
                px, py, pz = scene.get(name).position
                if tol <= 0:
                    initial[name] = (px, py, pz)
                    continue
                coords: list[Any] = []
                for axis, v in zip("xyz", (px, py, pz)):
                    if axis == "z" and v == self.profile.cell.resting_z(kind):
                        coords.append(v)  # standing on the table: its height is known
                        continue
                    var = z3.Real(f"obj{i}.{axis}")
                    self.ctx.bound(var, max(v - tol, 0.0) if axis == "z" else v - tol, v + tol)
                    coords.append(var)
                initial[name] = tuple(coords)
        return names, kinds, initial

    def trace_id(self, trace: tuple) -> int:
        return self._trace_ids.setdefault(trace, len(self._trace_ids))

    def queue(self, prefix: tuple[bool, ...]) -> None:
        self.worklist.append(prefix)

    # --- exploration ----------------------------------------------------------------

    def run(self) -> VerificationReport:
        if not may_move(self.program) and not any(r.kind in ("empty_at_end", "end_state") for r in self.spec.rules):
            return self._report(0, 0)  # no command can move the robot: nothing to prove
        paths = 0
        budget_out = False
        while self.worklist:
            if paths >= self.max_paths:
                self.budget.out_of_paths()
            if self.budget.exhausted():
                budget_out = True
                break
            prefix = self.worklist.pop()
            paths += 1
            run = PathRun(self, prefix, paths)
            semantics = VerifierSemantics(self, run)
            ex = Executor(self.program, semantics, run, limits=self.limits, budget=self.budget)
            run.executor = ex
            try:
                ex.run()
                if self.spec.rules:
                    self.check_end(run, ex, semantics.world)
            except Infeasible:
                continue
            except Abandon as why:
                self.record_unknown(run, why.span or _last_span(self.program), tuple(ex.callers), "", "rest of path",
                                    "analysis", ex.call_index,
                                    f"cannot verify past this point on some path: {why.reason}; the motions "
                                    f"that follow are guarded by the runtime monitor", CODE_UNVERIFIED)
            except PolicyFault as fault:
                self._fault(fault)
            except BudgetOut:
                budget_out = True
                self.record_unknown(run, _last_span(self.program), (), "", "rest of program", "analysis",
                                    ex.call_index, f"the verification budget ran out "
                                    f"({self.budget.describe()}); the remaining motions are guarded",
                                    self._budget_code())
                break
            except Exception as exc:  # noqa: BLE001 -- totality: never a crash, never a proof
                # Something the executor does not model (a value too deep or too large to follow,
                # an operation a Z3 term cannot take). CAPC_DEBUG=1 shows it as the bug it may be.
                if os.environ.get("CAPC_DEBUG"):
                    raise
                self.record_unknown(run, _last_span(self.program), tuple(ex.callers), "", "rest of path",
                                    "analysis", ex.call_index,
                                    f"the verifier cannot follow this path ({type(exc).__name__}: "
                                    f"{str(exc)[:120]}); its motions are guarded by the runtime monitor",
                                    CODE_UNVERIFIED)
            finally:
                self.budget.path_done(ex.steps)
        unexplored = len(self.worklist)
        if unexplored and not budget_out:
            budget_out = True
        if unexplored:
            limit = (f"limit {self.max_paths} paths" if self.budget.ran_out in (None, PATHS)
                     else self.budget.describe())
            self.record_unknown(None, _last_span(self.program), (), "", "unexplored paths", "analysis", -1,
                                f"{unexplored} path(s) were not explored ({limit}); their motions are "
                                f"guarded", self._budget_code())
        return self._report(paths, unexplored)

    def _budget_code(self) -> str:
        return CODE_WALL_CLOCK if self.budget.ran_out == WALL_CLOCK else CODE_BUDGET

    def _fault(self, fault: PolicyFault) -> None:
        """The policy fails on this path: the run would stop there (E306, a warning). In scene
        mode a name the scene lacks is the policy's error (E308), with the name it most likely
        meant; scene-free, a world without that object is one of many."""
        if not (isinstance(fault, UnknownObject) and self.mode == "scene"):
            self.faults.append(Diagnostic(
                CODE_POLICY_FAULT, f"the policy fails here on some path: {fault.message}; the run "
                                   f"would stop at this point", fault.span, "warning",
                "nothing after this point moves the robot on that path"))
            return
        if any(d.code == CODE_UNKNOWN_OBJECT and d.span == fault.span for d in self.faults):
            return
        close = nearest_name(str(fault.name), list(self.names) + list(self.profile.cell.places))
        known = ", ".join(repr(n) for n in self.names) or "none"
        self.faults.append(Diagnostic(
            CODE_UNKNOWN_OBJECT, f"the scene has no object named {fault.name!r}", fault.span, "safety",
            f"did you mean {close!r}?" if close else f"the scene's objects: {known}"))

    def _report(self, paths: int, unexplored: int) -> VerificationReport:
        verdicts = {o.verdict for o in self.obligations}
        verdict = "rejected" if VIOLATED in verdicts else "guarded" if UNKNOWN in verdicts else "accepted"
        if any(d.kind != "warning" for d in self.faults):
            verdict = "rejected"
        guards = [{"call_index": o.call_index, "primitive": o.primitive, "role": o.role,
                   "property": o.property, "line": o.span.line, "col": o.span.col, "reason": o.message}
                  for o in self.obligations if o.verdict == UNKNOWN]
        elapsed = time.monotonic() - self.started
        return VerificationReport(verdict, self.obligations, guards, self.faults, self.mode, list(self.names),
                                  paths, unexplored, self.ctx.checks, elapsed, self.ctx.seconds,
                                  self.program.file, self.budget.to_json())

    # --- obligations ------------------------------------------------------------------

    def record_unknown(self, run: PathRun | None, span: Span, callers: tuple, primitive: str, role: str,
                       prop: str, index: int, message: str, code: str) -> None:
        self.obligations.append(Obligation(len(self.obligations), span, callers, primitive, role, prop, code,
                                           UNKNOWN, index, message, path=run.number if run else 0))

    def check_waypoint(self, run: PathRun, ex: Executor, prim: Primitive, span: Span, index: int,
                       step_no: int, step: Waypoint, start: tuple, target: tuple,
                       world: WorldState | None = None) -> None:
        for v in target + ((step.speed,) if step.speed is not None else ()):
            if isinstance(v, (Opaque, str)) or v is None:
                raise PolicyFault(f"{prim.name}(): a coordinate is not a number", span)
        bounds = self.ctx.bounds
        # in the monitor's order: speed, then the target, then the segment
        props: list[Property] = [speed_property(step.speed, self.spec)] if step.speed is not None else []
        props.append(workspace_property(target, self.spec, bounds))
        props += [keep_out_property(start, target, zone, self.spec, self.t_var, bounds) for zone in self.spec.keep_out]
        if self.spec.rules:
            from capc.safety.rule_obligations import waypoint_properties

            props += waypoint_properties(self.spec, world, start, target, step.speed, self.t_var)
        self._check_all(run, ex, prim, span, index, step_no, step, start, target, props)

    def check_grip(self, run: PathRun, ex: Executor, prim: Primitive, span: Span, index: int, step_no: int,
                   step: Grip, taken: str | None, world: WorldState, before: tuple) -> None:
        """The rules of a gripper action (capc.safety.rule_obligations); `before`: the
        automaton's state (held, closed, happened) just before it."""
        from capc.safety.rule_obligations import grip_properties

        props = grip_properties(self.spec, step.close, taken, world.grasps, world, before)
        tcp = world.tcp()
        self._check_all(run, ex, prim, span, index, step_no, step, tcp, tcp, props)

    def check_end(self, run: PathRun, ex: Executor, world: WorldState) -> None:
        """`at_end` rules on the world a path ends in (capc.safety.rule_obligations)."""
        from capc.safety.rule_obligations import end_properties

        props = end_properties(self.spec, world)
        if props:
            tcp = world.tcp()
            self._check_all(run, ex, END_OF_PROGRAM, _last_span(self.program), END_INDEX, END_INDEX,
                            Grip(False, "end of program"), tcp, tcp, props)

    def _check_all(self, run: PathRun, ex: Executor, prim: Primitive, span: Span, index: int, step_no: int,
                   step: Waypoint | Grip, start: tuple, target: tuple, props: list[Property]) -> None:
        for prop in props:
            if not run.replaying:
                self._check(run, ex, prim, span, index, step_no, step, start, target, prop)
            if prop.holds_true is not True:
                run.assumed.append(prop.holds_true)

    def _check(self, run: PathRun, ex: Executor, prim: Primitive, span: Span, index: int, step_no: int,
               step: Waypoint | Grip, start: tuple, target: tuple, prop: Property) -> None:
        began = time.perf_counter()
        callers = tuple(ex.callers)
        what = f"{prim.name}() ({step.role})"
        ob = Obligation(len(self.obligations), span, callers, prim.name, step.role, prop.name, prop.code,
                        PROVED, index, f"{what}: {prop.name} proved", path=run.number)
        self.obligations.append(ob)
        if prop.violated is False:
            ob.seconds = time.perf_counter() - began
            return
        if prop.violated is not True:
            if self.ctx.bounds.truth(prop.violated) is False:
                ob.seconds = time.perf_counter() - began
                return
            result, _ = self.ctx.check(run.pc, [prop.violated])
            if result == "unsat":
                ob.seconds = time.perf_counter() - began
                return
            if result == "unknown":
                self._unknown(ob, what, prop, "the solver could not decide it within its resource limit "
                                              "(non-linear, or the budget is spent)")
                ob.seconds = time.perf_counter() - began
                return
        # A violation exists on this path. Assume the earlier commands passed the monitor
        # (the run stops otherwise) and look for a counterexample the monitor really stops:
        # true limits, perception errors zero, run-time answers plausible -- in that order.
        result, _ = self.ctx.check(run.pc, run.assumed + [prop.violated])
        if result == "unsat":
            ob.message = f"{what}: {prop.name} proved (reachable only after an earlier command is stopped)"
        elif result == "unknown":
            self._unknown(ob, what, prop, "the solver could not decide it within its resource limit")
        else:
            # A counterexample must be one the monitor stops: it breaks the TRUE limit.
            model = None
            zero = [e == 0 for e in run.error_vars]
            strong = [[prop.clear] + zero, [prop.clear]] if prop.clear is not None else []
            for extra in strong + [[prop.violated_true] + zero, [prop.violated_true]]:
                r, m = self.ctx.check(run.pc, run.assumed + run.opaque + self.spaced + run.edges + extra,
                                      want_model=True)
                if r == "sat":
                    model = m
                    break
            if model is not None:
                self._violated(ob, run, ex, what, prop, model, step_no, start, target, step)
            elif run.edges and self.ctx.check(run.pc, run.assumed + run.opaque + self.spaced
                                              + [prop.violated_true])[0] == "sat":
                self._unknown(ob, what, prop, f"only worlds within {EDGE_GAP:g} m of the edge of a "
                                              f"block's support or of a grasp break it (float rounding "
                                              f"decides where a block lands or what the gripper takes there)")
            elif self.spaced and self.ctx.check(run.pc, run.assumed + run.opaque + [prop.violated_true])[0] == "sat":
                self._unknown(ob, what, prop, f"only placements with two objects closer than "
                                              f"{spacing(self.profile) * 100:g} cm break it (they would overlap on the table, "
                                              f"and the gripper cannot tell them apart)")
            elif run.opaque and self.ctx.check(run.pc, run.assumed + [prop.violated_true])[0] == "sat":
                self._unknown(ob, what, prop, "only a run-time answer (sub-LMP / helper) outside the "
                                              "workspace breaks it")
            else:
                self._unknown(ob, what, prop, f"it comes within the {self.spec.margin:g} m safety margin of "
                                              f"the limit, so it cannot be proved, but no admissible world "
                                              f"breaks the limit itself")
        ob.seconds = time.perf_counter() - began

    def _unknown(self, ob: Obligation, what: str, prop: Property, why: str) -> None:
        ob.verdict = UNKNOWN
        ob.code = CODE_UNVERIFIED
        ob.message = f"{what}: {prop.name} not decided: {why}; guarded by the runtime monitor"

    def _violated(self, ob: Obligation, run: PathRun, ex: Executor, what: str, prop: Property, model,
                  step_no: int, start: tuple, target: tuple, step: Waypoint | Grip) -> None:
        def val(term):
            return model_float(model, term)

        text, excess, point = prop.explain(val)
        segment = (start, target) if prop.name.startswith("keep_out:") else None
        cex, data = cexm.build(
            model, initial=self.initial, variables=ex.snapshot(), answers=run.answers, defaults=run.defaults,
            target=target, segment=segment, limit=prop.name, excess=excess, call_index=ob.call_index,
            replay_target=cexm.ReplayTarget(ob.call_index, step_no, prop.name), kinds=self.kinds,
            names=self.names)
        if getattr(step, "speed", None) is not None:
            cex["variables"].setdefault("speed", round(val(step.speed), 6) if not isinstance(step.speed, str) else step.speed)
        confirmed, detail = cexm.replay(self.program, self.spec, data, self.limits)
        cex["replayed"] = confirmed
        ob.counterexample = cex
        ob.replay = {"data": data, "detail": detail, "spec_text": self.ws_text}
        if not confirmed:
            ob.verdict = UNKNOWN
            ob.code = CODE_UNVERIFIED
            ob.message = (f"{what}: {prop.name} may be violated ({text}), but the concrete replay did not "
                          f"confirm it ({detail}); guarded by the runtime monitor")
            return
        ob.verdict = VIOLATED
        by = f" by {excess:.4g}" if excess > 0 else ""
        ob.message = f"{what} breaks the {_limit_words(prop.name)}{by}: {text}"


def _spaced(initial: dict[str, tuple], gap: float) -> list:
    """Scene-free counterexamples keep the objects `gap` apart (per axis, so at least that
    far in the plane): the proofs cover every placement, but a world with two objects on one
    spot does not exist, and there the backend's gripper takes whichever grasp point is
    nearest, not the object the policy named."""
    spots = [p for p in initial.values() if is_sym(p[0]) or is_sym(p[1])]
    return [z3.Or(a[0] - b[0] >= gap, b[0] - a[0] >= gap, a[1] - b[1] >= gap, b[1] - a[1] >= gap)
            for i, a in enumerate(spots) for b in spots[i + 1:]]


def _limit_words(prop: str) -> str:
    if prop == "workspace":
        return "workspace limit"
    if prop == "speed":
        return "speed limit"
    if prop.startswith("keep_out:"):
        return f"keep-out zone '{prop.split(':', 1)[1]}'"
    if prop.startswith("rule:"):
        return f"rule at {prop.split(':', 1)[1]} of the limits file"
    return prop


def _last_span(program: ir.Program) -> Span:
    if program.body:
        return program.body[-1].span
    return Span(program.file, 1, 1, 1, 2)


def may_move(program: ir.Program) -> bool:
    """Can the program command the robot at all? A robot-API call of a moving primitive, or
    a call of a helper nobody has defined yet (its definition may move), anywhere."""
    profile = get_profile(program.profile)

    def moves(node: Any) -> bool:
        if not isinstance(node, ir.Call):
            return False
        if node.kind == ir.CALL_API:
            prim = profile.primitive(node.callee)
            return prim is None or prim.moves
        return node.kind == ir.CALL_UNDEFINED and node.callee not in program.functions

    return ir.find(program, moves) is not None


def policy_object_names(program: ir.Program) -> list[str]:
    """String constants of the policy that name objects of its profile ('<colour> <kind>')."""
    profile = get_profile(program.profile)
    pattern = _object_name(profile.colors, profile.kinds)
    return sorted({node.value for node in ir.walk(program)
                   if isinstance(node, ir.Const) and isinstance(node.value, str) and pattern.match(node.value)})


def verify(program: ir.Program, spec: SafetySpec, scene: Scene | None = None, *, any_scene: bool = False,
           limits: ResourceLimits = DEFAULT_LIMITS, max_paths: int = DEFAULT_MAX_PATHS) -> VerificationReport:
    """Check every motion of `program` against `spec` in every admissible world."""
    return Verifier(program, spec, scene, any_scene, limits, max_paths).run()
