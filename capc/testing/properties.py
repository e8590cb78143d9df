"""The four properties that hold capc to its word, as plain functions.

Whole generated cases and their evaluation are in `capc.testing.cases`; running and replaying
on the kinematic backend in `capc.testing.running`. Each check takes concrete inputs (a program, a scene, a world...) and returns `None` when the
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

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Callable

from capc.compiler.scene import Scene
from capc.diagnostics import CompileError, Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety.spec import SafetySpec
from capc.testing.harness import get_field
from capc.testing.running import (replay_inputs, run_kinematic, scripted_perception, stop_of,
                                  wrong_grasp_before)

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


# --- which obligations belong to the command the monitor stopped ------------------------

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
    verdict = get_field(report, "verdict")
    at = _proved_at(report, stop)
    if at is None or stopped_on_unfinished_path(report, stop):
        return None
    if wrong_grasp_before(outcome, call_index, get_field(event, "role")):
        return None  # the run left the verifier's model at that grasp (the observer stops it there)
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


def _proved_at(report, stop: tuple) -> list | None:
    """The obligations of the stopped command when the verifier claims it safe (all proved, or
    an accepted program), else None: the verifier flagged it (violated or guarded)."""
    call_index, event = stop
    at = obligations_at(report, call_index, get_field(event, "span"))
    proved_here = bool(at) and all(get_field(o, "verdict") == "proved" for o in at)
    if get_field(report, "verdict") != "accepted" and not proved_here:
        return None
    return at


def stopped_on_unfinished_path(report, stop: tuple | None) -> bool:
    """A stop at a command proved on the paths the verifier explored, in a program whose other
    paths were left unknown before that command: not a claim the verifier made (the soak
    counts these). An accepted program has no unfinished path."""
    if stop is None or get_field(report, "verdict") == "accepted" or _proved_at(report, stop) is None:
        return False
    return unfinished_at(report, stop[0])


# The verifier's path-level unknowns (capc.safety.verifier.record_unknown): the budget ran out
# ("rest of program"), a path could not be followed further ("rest of path"), paths were never
# explored ("unexplored paths", call index -1), the side of a test only float rounding can take
# was not explored ("rounded branch").
UNFINISHED_ROLES = ("rest of program", "rest of path", "unexplored paths", "rounded branch")


def unfinished_at(report, call_index: int | None) -> bool:
    """Did the verifier leave some path unfinished at or before command `call_index`?

    Obligations are per path, but a run does not say which of the verifier's paths it took, so
    `obligations_at` collects a command's obligations from every path that reached it. That
    is a claim about the run only if every path that can reach the command was explored up to
    it. A path left unexplored (the 256-path limit, the solver budget) or cut short before the
    command may be the one the run took: its commands are unknown by the documented model
    (docs/verification.md, "How", items 2 and 5), and the `proved` obligations of the same call
    index on other paths say nothing about them."""
    if call_index is None:
        return True
    for o in get_field(report, "obligations", ()) or ():
        if get_field(o, "verdict") != "unknown" or get_field(o, "role") not in UNFINISHED_ROLES:
            continue
        # the recorded index is the executor's next call index: a path cut inside a call's
        # plan has counted that call already, so it is one past the command left unfinished
        index = get_field(o, "call_index")
        if index is None or index < 0 or index - 1 <= call_index:
            return True
    return False


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
    spec = spec.with_changes(rules=())  # the workspace's and the zones' limits only
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
        if wrong_grasp_before(outcome, expected, get_field(obligation, "role")):
            continue  # a grasp took another object than the one the counterexample's path assumes
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
