"""The four properties that hold capc to its word, as plain functions.

Each check takes concrete inputs (a program, a scene, a world...) and returns `None` when the
property holds or a `Finding` saying how it broke. The test suite wraps them in hypothesis
`@given` tests, the soak run counts them, and the planted-bug tests hand them a deliberately
weakened verifier (`verify=`) to show that they catch it.

1. soundness: a command the verifier proved never triggers the monitor on the kinematic
   backend in a world the verifier admitted (within the perception tolerance of the verified
   scene, or any placement in any-scene mode, camera noise included);
2. real counterexamples: the world of a `violated` obligation, run on the kinematic backend,
   makes the monitor stop at the reported command;
3. totality: the front end turns any text into a Program or a CompileError, in bounded time;
4. round trip: printing the IR as source and compiling that again gives the same IR.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from capc.compiler.scene import Scene, make_object
from capc.diagnostics import CompileError, Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety.spec import SafetySpec
from capc.testing.harness import STATUS_STOPPED, get_field

NEUTRAL_SPAN = Span("<stripped>", 0, 0, 0, 0)


@dataclass(frozen=True)
class Finding:
    property: str      # soundness | counterexample | totality | round_trip
    message: str
    detail: dict

    def __str__(self) -> str:
        return f"{self.property}: {self.message}"


class PropertyViolated(AssertionError):
    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def require(finding: Finding | None) -> None:
    """Turn a finding into a test failure (hypothesis then shrinks the example)."""
    if finding is not None:
        raise PropertyViolated(finding)


# --- running on the kinematic backend ---------------------------------------------------

def run_kinematic(program, world: Scene, spec: SafetySpec, limits: ResourceLimits = DEFAULT_LIMITS,
                  noise: float = 0.0, seed: int = 0):
    """Run on the kinematic backend with the objects truly at `world`; with `noise`, every
    perception query adds a fresh error (clipped to the tolerance), as a camera would."""
    from capc.runtime.execute import execute

    return execute(program, world, spec, backend="kinematic", limits=limits, noise=noise, seed=seed)


def stop_of(outcome) -> tuple[int | None, Any] | None:
    """(call index, event) of the command the monitor stopped at, or None if it did not."""
    if get_field(outcome, "status") != STATUS_STOPPED:
        return None
    events = list(get_field(outcome, "monitor_events", ()) or ())
    event = events[0] if events else None
    return get_field(event, "call_index", get_field(event, "index")), event


def obligations_at(report, call_index: int | None, span: Span | None) -> list:
    """The obligations the verifier wrote for one dynamic command (by call index when the
    obligations carry it, else every obligation of the same source span)."""
    obligations = list(get_field(report, "obligations", ()) or ())
    indexed = [o for o in obligations if get_field(o, "call_index") is not None]
    if indexed and call_index is not None:
        return [o for o in indexed if get_field(o, "call_index") == call_index]
    if span is None:
        return []
    return [o for o in obligations if _same_place(get_field(o, "span", get_field(o, "call_span")), span)]


def _same_place(a: Span | None, b: Span | None) -> bool:
    return a is not None and b is not None and (a.line, a.col) == (b.line, b.col)


# --- 1. soundness -----------------------------------------------------------------------

def check_soundness(program, report, world: Scene, spec: SafetySpec,
                    limits: ResourceLimits = DEFAULT_LIMITS, outcome=None) -> Finding | None:
    """A proved command must not be stopped by the monitor in `world`."""
    outcome = outcome if outcome is not None else run_kinematic(program, world, spec, limits)
    stop = stop_of(outcome)
    if stop is None:
        return None
    call_index, event = stop
    span = get_field(event, "span")
    verdict = get_field(report, "verdict")
    at = obligations_at(report, call_index, span)
    proved_here = bool(at) and all(get_field(o, "verdict") == "proved" for o in at)
    if verdict != "accepted" and not proved_here:
        return None  # the verifier did flag this command (violated or guarded)
    earlier = _flagged_before(report, call_index, spec)
    vacuous = any(VACUOUS in str(get_field(o, "message", "")) for o in at)
    cause = "assumed_earlier_stop" if earlier or vacuous else "unexplained"
    note = (f"; earlier calls {earlier} were flagged only within the margin or left unknown, the "
            f"monitor let them pass, and this call's proof assumed the run had stopped there"
            if earlier else "")
    return Finding("soundness", f"the verifier said {verdict!r} (obligations at the command: "
                   f"{[get_field(o, 'verdict') for o in at]}) but the monitor stopped call "
                   f"{call_index}: {get_field(event, 'message', event)}{note}",
                   {"call_index": call_index, "world": world.to_json(), "verdict": verdict,
                    "event": str(event), "cause": cause})


# How the verifier words a proof that holds only because an earlier command must have been
# stopped on this path (capc.safety.verifier).
VACUOUS = "reachable only after an earlier command is stopped"


def _flagged_before(report, call_index: int | None, spec: SafetySpec) -> list[int]:
    """Calls before `call_index` whose obligations were violated only within the margin, or
    unknown: commands the verifier may assume stopped, which the monitor can let pass."""
    if call_index is None:
        return []
    found = set()
    for o in get_field(report, "obligations", ()) or ():
        index = get_field(o, "call_index")
        if index is None or index < 0 or index >= call_index:  # -1: not tied to one call
            continue
        verdict = get_field(o, "verdict")
        if verdict == "unknown" or (verdict == "violated"
                                    and _within_margin(get_field(o, "counterexample") or {}, spec)):
            found.add(index)
    return sorted(found)


def _within_margin(cex: dict, spec: SafetySpec) -> bool:
    """The counterexample's move passes the monitor's limits as written but breaks them once
    the workspace is shrunk and the zones grown by spec.margin (what the verifier proves
    against, docs/verification.md): a target on the limit, a segment along a zone's face."""
    target = cex.get("target")
    if not target or str(cex.get("limit", "")).split(":")[0] not in ("workspace", "keep_out"):
        return False
    from capc.safety.monitor import Monitor

    start = (cex.get("segment") or [target])[0]
    as_written = Monitor(spec).check_waypoint(start, target, None)
    with_margin = Monitor(margin_spec(spec)).check_waypoint(start, target, None)
    return as_written is None and with_margin is not None


def margin_spec(spec: SafetySpec) -> SafetySpec:
    """The limits the verifier proves against: workspace shrunk, keep-out zones grown."""
    from capc.compiler.geometry import Box, Cylinder, Interval
    from capc.safety.spec import KeepOut

    m = spec.margin

    def grow(region):
        if isinstance(region, Box):
            return Box(*(Interval(a.low - m, a.high + m) for a in region.axes))
        return Cylinder(region.cx, region.cy, region.radius + m, Interval(region.z.low - m, region.z.high + m))

    zones = tuple(KeepOut(z.name, grow(z.region)) for z in spec.keep_out)
    return spec.with_changes(workspace=spec.workspace.shrink(m), keep_out=zones)


# --- 2. counterexamples are real --------------------------------------------------------

def counterexample_world(scene: Scene, cex: dict) -> Scene:
    """The scene with each object where the counterexample puts it."""
    placed = {name: tuple(float(v) for v in pos) for name, pos in (cex.get("objects") or {}).items()}
    objects = []
    for obj in scene.objects:
        pos = placed.get(obj.name, obj.position)
        objects.append(dataclasses.replace(obj, position=tuple(pos) if len(pos) == 3 else
                                           make_object(obj.name, pos).position))
    return Scene(tuple(objects), "<counterexample>")


# A "violated" whose target breaks the margin-shrunk limit by no more than the margin is
# conservative by design (docs/verification.md: obligations are proved against the workspace
# shrunk by spec.margin), and the monitor, which enforces the limit as written, lets it pass.
# Such counterexamples are reported under their own name, not as false ones.
MARGIN_SLACK = 1e-9


@dataclass(frozen=True)
class ReplayInputs:
    """What the verifier's model chose for a counterexample, in the runtime's terms."""

    world: Scene                           # true object positions
    perceived: dict[int, tuple]            # get_obj_pos at call index -> the xy the camera gave
    plan_positions: dict[int, tuple]       # n-th object query of a plan (from 1) -> where it aimed
    unrealizable: tuple                    # keys of values no backend can be told


def replay_inputs(obligation, scene: Scene, cex: dict) -> ReplayInputs:
    """The true object positions, the perceived xy of each perception call (by call index),
    the perceived positions plans aimed at (in query order), and the keys of values the
    kinematic backend cannot be told (positions of objects "maybe held" after a blind grasp,
    heights of released objects). Read from the obligation's replay data when it has them."""
    replay = get_field(obligation, "replay")
    data = replay.get("data") if isinstance(replay, dict) else None
    positions = getattr(data, "positions", None) or cex.get("objects") or {}
    world = counterexample_world(scene, {"objects": positions})
    answers = getattr(data, "answers", None) or {}
    perceived = {k: tuple(float(c) for c in v[:2]) for k, v in answers.items()
                 if isinstance(k, int) and _numbers(v, 2)}
    plan = {k[-1]: tuple(float(c) for c in v) for k, v in answers.items()
            if isinstance(k, tuple) and k and k[0] == "plan" and _numbers(v, 3)}
    unrealizable = tuple(k for k in answers if isinstance(k, tuple) and (not k or k[0] != "plan"))
    return ReplayInputs(world, perceived, plan, unrealizable)


def _numbers(value, n: int) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) >= n
            and all(isinstance(c, (int, float)) for c in value[:n]))


@contextlib.contextmanager
def scripted_perception(inputs: ReplayInputs):
    """During `execute`, make `get_obj_pos` at call index i return `inputs.perceived[i]` and
    the n-th object position plans ask for return `inputs.plan_positions[n]` (the camera
    errors the counterexample chose); everything else sees the truth. Hooks the two places a
    perceived value enters the runtime."""
    from capc.runtime import execute as runtime

    run_class, world_class = getattr(runtime, "_Run", None), getattr(runtime, "_World", None)
    original_pos = getattr(run_class, "_get_obj_pos", None)
    original_world = getattr(world_class, "position", None)
    if original_pos is None or original_world is None:
        yield
        return
    queries = [0]

    def scripted_pos(self, args, span):
        index = self.outcome.calls[-1]["index"]
        if index in inputs.perceived:
            self._object(args, span)  # the same error for an unknown name
            return np.array(inputs.perceived[index], dtype=float)
        return original_pos(self, args, span)

    def scripted_world(self, name):
        true = original_world(self, name)
        if not self.run.perception.knows(name):
            return true  # a named place: no camera involved
        queries[0] += 1
        return inputs.plan_positions.get(queries[0], true)

    run_class._get_obj_pos, world_class.position = scripted_pos, scripted_world
    try:
        yield
    finally:
        run_class._get_obj_pos, world_class.position = original_pos, original_world


def check_counterexamples(program, report, scene: Scene, spec: SafetySpec,
                          limits: ResourceLimits = DEFAULT_LIMITS) -> Finding | None:
    """Every violated obligation's world (true positions and camera errors) stops the
    monitor at the reported call."""
    seen: set = set()
    for obligation in get_field(report, "obligations", ()) or ():
        cex = get_field(obligation, "counterexample")
        if get_field(obligation, "verdict") != "violated" or not cex:
            continue
        inputs = replay_inputs(obligation, scene, cex)
        world, perceived, unrealizable = inputs.world, inputs.perceived, inputs.unrealizable
        expected = cex.get("call_index")
        key = (tuple(o.position for o in world.objects), tuple(sorted(perceived.items())),
               tuple(sorted(inputs.plan_positions.items())), expected)
        if key in seen:
            continue
        seen.add(key)
        with scripted_perception(inputs):
            outcome = run_kinematic(program, world, spec, limits)
        stop = stop_of(outcome)
        if stop is not None and (expected is None or stop[0] is None or stop[0] == expected):
            continue
        got = "no stop" if stop is None else f"a stop at call {stop[0]}"
        within_margin = _within_margin(cex, spec)
        kind = "margin_counterexample" if within_margin else "counterexample"
        note = (f"; it assumes values no backend can be given: {unrealizable}" if unrealizable else "")
        return Finding(kind, f"obligation {get_field(obligation, 'id')} "
                       f"({get_field(obligation, 'property')}) reported a counterexample at call "
                       f"{expected} (excess {cex.get('excess')}), but running it gave {got} "
                       f"(status {get_field(outcome, 'status')}: {get_field(outcome, 'message')}){note}",
                       {"counterexample": cex, "world": world.to_json(),
                        "perceived": {str(k): v for k, v in perceived.items()},
                        "plan_positions": {str(k): v for k, v in inputs.plan_positions.items()},
                        "unrealizable": [str(k) for k in unrealizable],
                        "cause": "margin" if within_margin else
                                 "unrealizable" if unrealizable else
                                 "runtime_error" if get_field(outcome, "status") == "error" else
                                 "unexplained"})
    return None


# --- 3. totality of the front end -------------------------------------------------------

def check_total(text: str, seconds: float = 5.0, compile_source: Callable | None = None) -> Finding | None:
    """Any text compiles to a Program or raises CompileError, within `seconds`."""
    if compile_source is None:
        from capc.compiler.frontend import compile_source
    start = time.monotonic()
    try:
        compile_source(text, "<fuzz>")
    except CompileError:
        pass
    except RecursionError:
        return Finding("totality", "the front end overflowed the Python stack", {"text": text})
    except Exception as exc:  # noqa: BLE001 - the property is exactly that nothing else escapes
        return Finding("totality", f"{type(exc).__name__}: {exc}", {"text": text})
    elapsed = time.monotonic() - start
    if elapsed > seconds:
        return Finding("totality", f"took {elapsed:.2f} s (budget {seconds} s)", {"text": text})
    return None


# --- 4. round trip ----------------------------------------------------------------------

def strip_spans(node: Any) -> Any:
    """The IR with every span replaced by one neutral span (and the program's own source
    text and file name dropped): what must survive printing and parsing."""
    if isinstance(node, Span):
        return NEUTRAL_SPAN
    if isinstance(node, tuple):
        return tuple(strip_spans(x) for x in node)
    if isinstance(node, list):
        return [strip_spans(x) for x in node]
    if isinstance(node, dict):
        return {k: strip_spans(v) for k, v in node.items()}
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {f.name: strip_spans(getattr(node, f.name)) for f in dataclasses.fields(node)}
        if "source" in changes and "body" in changes:  # ir.Program
            changes["source"], changes["file"] = "", ""
        return dataclasses.replace(node, **changes)
    return node


def check_round_trip(source: str, compile_source: Callable | None = None,
                     to_source: Callable | None = None) -> Finding | None:
    """compile → print → compile gives the same IR, spans aside."""
    if compile_source is None:
        from capc.compiler.frontend import compile_source
    if to_source is None:
        from capc.compiler.printer import to_source
    first = compile_source(source, "<original>")
    printed = to_source(first)
    try:
        second = compile_source(printed, "<printed>")
    except CompileError as exc:
        return Finding("round_trip", f"the printed program does not compile: {exc}",
                       {"source": source, "printed": printed})
    a, b = strip_spans(first), strip_spans(second)
    if a.body != b.body or a.undefined != b.undefined:
        return Finding("round_trip", "printing and re-parsing changed the IR",
                       {"source": source, "printed": printed, "first_difference": _first_difference(a.body, b.body)})
    return None


def _first_difference(a: Any, b: Any, path: str = "body") -> str:
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if x != y:
                return _first_difference(x, y, f"{path}.{f.name}")
    return f"{path}: {a!r} vs {b!r}"


# --- whole cases: a generated policy, its scene and limits, and worlds to run it in ------

@dataclass(frozen=True)
class WorldRun:
    """One run of a case: the objects truly at `world`; `noise` > 0 adds a fresh perception
    error (clipped to the tolerance) to every query, seeded by `seed`."""

    world: Scene
    noise: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Case:
    scene: Scene
    spec: SafetySpec
    policy: Any              # capc.testing.policies.GeneratedPolicy
    runs: tuple[WorldRun, ...]
    any_scene: bool = False  # verified for every placement of the scene's objects

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example: readable
        runs = "; ".join(f"world {[list(map(float, o.position)) for o in r.world.objects]} "
                         f"noise {r.noise} seed {r.seed}" for r in self.runs)
        mode = "any scene (every placement of these objects)" if self.any_scene else "this scene"
        return (f"Case(verified for {mode}\n--- policy ---\n{self.policy.source}--- scene ---\n"
                f"{self.scene.to_json()}\n--- limits ---\n{self.spec.to_json()}\n"
                f"--- runs ---\n{runs})")

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis's printer asks for this first
        printer.text(repr(self))


def cases(vary_limits: bool = True, n_worlds: tuple[int, int] = (1, 3), any_scene_share: int = 4):
    """Strategy: (scene, spec, generated policy, runs). Mostly scene mode: the runs' worlds lie
    within the perception tolerance of the scene; about one case in `any_scene_share` is
    verified for any placement of the scene's objects and run with the objects placed anywhere
    admissible. Some runs add perception noise (fresh per query, clipped to the tolerance)."""
    from hypothesis import strategies as st

    from capc.safety.spec import default_spec
    from capc.testing.policies import policies
    from capc.testing.strategies import limits, placements, scenes, worlds

    specs = st.one_of(st.just(default_spec()), limits()) if vary_limits else st.just(default_spec())

    @st.composite
    def build(draw) -> Case:
        scene = draw(scenes())
        spec = draw(specs)
        policy = draw(policies(scene, spec))
        any_scene = any_scene_share > 0 and draw(st.integers(0, any_scene_share - 1)) == any_scene_share - 1
        where = placements(scene) if any_scene else worlds(scene, spec)
        runs = []
        for _ in range(draw(st.integers(*n_worlds))):
            noise = draw(st.sampled_from([0.0, spec.perception_tolerance]))
            runs.append(WorldRun(draw(where), noise, draw(st.integers(0, 2 ** 16))))
        return Case(scene, spec, policy, tuple(runs), any_scene)

    return build()


@dataclass(frozen=True)
class CaseResult:
    verdict: str | None            # accepted | guarded | rejected | None (did not compile)
    findings: tuple[Finding, ...]
    runs: int                      # (policy, world) pairs run
    stops: int                     # of those, runs the monitor stopped
    obligations: dict              # verdict -> count
    seconds_verify: float
    seconds_run: float


def evaluate(case: Case, verify: Callable | None = None, counterexamples: bool = True,
             limits: ResourceLimits = DEFAULT_LIMITS) -> CaseResult:
    """Compile the case's policy, verify it against its scene (with `verify`, default the
    real verifier), run it in each world, and check properties 1 and 2."""
    from capc.compiler.frontend import compile_source

    if verify is None:
        from capc.safety.verifier import verify
    try:
        program = compile_source(case.policy.source, "<generated>", limits=limits)
    except CompileError as exc:
        finding = Finding("compile", f"a generated policy does not compile: {exc}",
                          {"source": case.policy.source})
        return CaseResult(None, (finding,), 0, 0, {}, 0.0, 0.0)
    start = time.monotonic()
    report = verify(program, case.spec, case.scene, any_scene=case.any_scene, limits=limits)
    verified = time.monotonic()
    findings: list[Finding] = []
    stops = 0
    for run in case.runs:
        outcome = run_kinematic(program, run.world, case.spec, limits, run.noise, run.seed)
        stops += stop_of(outcome) is not None
        finding = check_soundness(program, report, run.world, case.spec, limits, outcome=outcome)
        if finding is not None:
            findings.append(_with_source(finding, case, run))
    if counterexamples:
        finding = check_counterexamples(program, report, case.scene, case.spec, limits)
        if finding is not None:
            findings.append(_with_source(finding, case))
    counts: dict[str, int] = {}
    for obligation in get_field(report, "obligations", ()) or ():
        key = get_field(obligation, "verdict")
        counts[key] = counts.get(key, 0) + 1
    return CaseResult(get_field(report, "verdict"), tuple(findings), len(case.runs), stops, counts,
                      verified - start, time.monotonic() - verified)


def _with_source(finding: Finding, case: Case, run: WorldRun | None = None) -> Finding:
    detail = dict(finding.detail, source=case.policy.source, scene=case.scene.to_json(),
                  spec=case.spec.to_json(), any_scene=case.any_scene)
    if run is not None:
        detail.update(noise=run.noise, seed=run.seed)
    return Finding(finding.property, finding.message, detail)
