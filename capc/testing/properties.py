"""The four properties that hold capc to its word, as plain functions.

Each check takes concrete inputs (a program, a scene, a world...) and returns `None` when the
property holds or a `Finding` saying how it broke. The test suite wraps them in hypothesis
`@given` tests, the soak run counts them, and the planted-bug tests hand them a deliberately
weakened verifier (`verify=`) to show that they catch it.

1. soundness: a command the verifier proved never triggers the monitor on the kinematic
   backend in a world within the perception tolerance of the verified scene;
2. real counterexamples: the world of a `violated` obligation, run on the kinematic backend,
   makes the monitor stop at the reported command;
3. totality: the front end turns any text into a Program or a CompileError, in bounded time;
4. round trip: printing the IR as source and compiling that again gives the same IR.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Callable

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

def run_kinematic(program, world: Scene, spec: SafetySpec, limits: ResourceLimits = DEFAULT_LIMITS):
    from capc.runtime.execute import execute

    return execute(program, world, spec, backend="kinematic", limits=limits)


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
    return Finding("soundness", f"the verifier said {verdict!r} (obligations at the command: "
                   f"{[get_field(o, 'verdict') for o in at]}) but the monitor stopped call "
                   f"{call_index}: {get_field(event, 'message', event)}",
                   {"call_index": call_index, "world": world.to_json(), "verdict": verdict,
                    "event": str(event)})


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


def check_counterexamples(program, report, scene: Scene, spec: SafetySpec,
                          limits: ResourceLimits = DEFAULT_LIMITS) -> Finding | None:
    """Every violated obligation's world stops the monitor at the reported call."""
    seen: set = set()
    for obligation in get_field(report, "obligations", ()) or ():
        cex = get_field(obligation, "counterexample")
        if get_field(obligation, "verdict") != "violated" or not cex:
            continue
        world = counterexample_world(scene, cex)
        key = (tuple(o.position for o in world.objects), cex.get("call_index"))
        if key in seen:
            continue
        seen.add(key)
        outcome = run_kinematic(program, world, spec, limits)
        stop = stop_of(outcome)
        expected = cex.get("call_index")
        if stop is None or (expected is not None and stop[0] is not None and stop[0] != expected):
            got = "no stop" if stop is None else f"a stop at call {stop[0]}"
            return Finding("counterexample", f"obligation {get_field(obligation, 'id')} "
                           f"({get_field(obligation, 'property')}) reported a counterexample at call "
                           f"{expected}, but running it gave {got} (status {get_field(outcome, 'status')})",
                           {"counterexample": cex, "world": world.to_json()})
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
class Case:
    scene: Scene
    spec: SafetySpec
    policy: Any              # capc.testing.policies.GeneratedPolicy
    worlds: tuple[Scene, ...]


def cases(vary_limits: bool = True, n_worlds: tuple[int, int] = (1, 3)):
    """Strategy: (scene, spec, generated policy, worlds within the tolerance of the scene)."""
    from hypothesis import strategies as st

    from capc.safety.spec import default_spec
    from capc.testing.policies import policies
    from capc.testing.strategies import limits, scenes, worlds

    specs = st.one_of(st.just(default_spec()), limits()) if vary_limits else st.just(default_spec())

    @st.composite
    def build(draw) -> Case:
        scene = draw(scenes())
        spec = draw(specs)
        policy = draw(policies(scene, spec))
        sampled = tuple(draw(worlds(scene, spec)) for _ in range(draw(st.integers(*n_worlds))))
        return Case(scene, spec, policy, sampled)

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
    report = verify(program, case.spec, case.scene, limits=limits)
    verified = time.monotonic()
    findings: list[Finding] = []
    stops = 0
    for world in case.worlds:
        outcome = run_kinematic(program, world, case.spec, limits)
        stops += stop_of(outcome) is not None
        finding = check_soundness(program, report, world, case.spec, limits, outcome=outcome)
        if finding is not None:
            findings.append(_with_source(finding, case))
    if counterexamples:
        finding = check_counterexamples(program, report, case.scene, case.spec, limits)
        if finding is not None:
            findings.append(_with_source(finding, case))
    counts: dict[str, int] = {}
    for obligation in get_field(report, "obligations", ()) or ():
        key = get_field(obligation, "verdict")
        counts[key] = counts.get(key, 0) + 1
    return CaseResult(get_field(report, "verdict"), tuple(findings), len(case.worlds), stops, counts,
                      verified - start, time.monotonic() - verified)


def _with_source(finding: Finding, case: Case) -> Finding:
    detail = dict(finding.detail, source=case.policy.source, scene=case.scene.to_json(),
                  spec=case.spec.to_json())
    return Finding(finding.property, finding.message, detail)
