"""Observed outcomes: what each primitive was meant to do, against what the backend reports.

The monitor checks what the robot is *told*; this module checks what *happened*. Beside the
real backend it keeps an expectation: a kinematic backend (capc.runtime.kinematic, the same
rules the verifier proves things about) that is shown the commanded tool position at every
gripper action and at the end of every moving call. It is what the plan means: the grasp
takes the object the plan aimed at (or, for a bare `close_gripper`, the one within reach), a
held object keeps its offset to the tool, a released one rests on its support.

At each gripper action and after each moving call the real backend's answer is compared
with it:

* a grasp that takes nothing where an object was meant (E520) or another object (E521);
* a held object that is no longer held before it was let go (E522);
* a released object that did not come to rest within the cell's `place_tolerance` of where the plan
  let it go (E523);
* any other object that moved more than the cell's `disturb_tolerance` from where it should be
  (E524): knocked by the arm, dragged by a neighbour, toppled off a stack;
* the arm itself farther than the cell's `place_tolerance` from where the call sent it (E526): a
  point out of its reach the cell does not declare (recorded; what it then puts down short is E523).

Before each segment is sent, one outcome is predicted instead of observed (E525): the
gripper's fingers or hand, or the object it holds, would run into an object on the way
(capc.runtime.hand: the sim's Panda hand as boxes, its closing axis turned by the sim's own
rule). The segment is not sent, on any backend: the kinematic world model has no collision
between the arm and the objects, and a push has no outcome the model could predict, so the
run stops before it, where both worlds are still the same. The same holds for a segment that
leaves the arm's reach as the cell declares it (`reach_miss`, E526 predicted): the kinematic
world has no arm, the sim's arm would stop short of it, so every backend stops before it.

E520-E523, E525 and a predicted E526 stop the run (the next step would act on a world the plan did not make); E524 is
recorded and the expectation takes the observed position, so one push is reported once and
small drifts add up until they are reported. Nothing a policy `say`s is read: the outcome is
what the backend measures. On the kinematic backend the expectation and the backend agree,
but for one case: its grasp takes the nearest grasp point, which may be another object's (a
bowl's, around the block in it) than the one `put_first_on_second` names (E521).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from capc import codes
from capc.compiler.scene import Scene
from capc.compiler.profiles import get_profile
from capc.diagnostics import Span

E_GRASP_EMPTY = codes.E520
E_GRASP_WRONG = codes.E521
E_GRASP_LOST = codes.E522
E_MISPLACED = codes.E523
E_DISTURBED = codes.E524
E_OBSTRUCTED = codes.E525
E_UNREACHED = codes.E526

STATUS_GRASP_FAILED = "grasp_failed"
STATUS_MISPLACED = "misplaced"
STATUS_OBSTRUCTED = "obstructed"
STATUS_UNREACHABLE = "unreachable"
STOPPING = {E_GRASP_EMPTY: STATUS_GRASP_FAILED, E_GRASP_WRONG: STATUS_GRASP_FAILED,
            E_GRASP_LOST: STATUS_GRASP_FAILED, E_MISPLACED: STATUS_MISPLACED,
            E_OBSTRUCTED: STATUS_OBSTRUCTED, E_UNREACHED: STATUS_UNREACHABLE}


class OutcomeStop(Exception):
    """A primitive did not do what it was meant to: the run stops with `status`."""

    def __init__(self, event: dict, span: Span):
        super().__init__(event["message"])
        self.event, self.span = event, span
        self.status = STOPPING[event["code"]]


def _rounded(values: Any) -> list[float] | None:
    return None if values is None else [round(float(v), 4) for v in values]


class Observer:
    """Follows one run: `gripper` after every gripper action, `after` after every moving call."""

    def __init__(self, backend: Any, scene: Scene, cell=None):
        from capc.runtime.kinematic import KinematicBackend

        cell = get_profile().cell if cell is None else cell
        self.backend, self.cell = backend, cell
        self.expected = KinematicBackend(dataclasses.replace(cell, support_slack=cell.observed_support_slack))
        self.expected.reset(scene, None, cell.home)
        # From where the backend has the objects at the start (a simulated block settles by a
        # hair), not from the scene file: only what the run does is judged.
        for name, pos in backend.object_positions().items():
            self.expected.place(name, pos)
        self.kinds = {obj.name: obj.kind for obj in scene.objects}
        self.axis = "y"                  # the hand's closing axis (capc.runtime.hand.choose_axis)
        self.events: list[dict] = []
        self.stops = True                # False: record E520-E523 and E525 and go on (see execute)
        self.released: set[str] = set()  # let go during the current call, not yet judged

    def gripper(self, call: Any, close: bool, held_before: str | None, held: str | None,
                tcp: tuple[float, float, float]) -> None:
        self.expected.send_setpoint(tcp, 0.0)
        meant_before = self.expected.held_object()
        if meant_before is not None and held_before != meant_before:
            self._lost(call, meant_before, held_before)
        if not close:
            if meant_before is not None:
                self.released.add(meant_before)
            self.expected.set_gripper(False)
            return
        taken = self.expected.set_gripper(True)
        meant = _aimed(call) if meant_before is None else meant_before
        meant = taken if meant is None else meant
        if held == meant:
            if held is not None and taken != held:
                self.expected.take(held)  # the aimed one, though another was nearer the tool
            return
        name = meant or held
        where = self.backend.object_positions().get(name)
        if held is None:
            code, text = E_GRASP_EMPTY, f"the grasp closed on nothing; it was meant to take {meant!r}"
        elif meant is None:
            code, text = E_GRASP_WRONG, f"the grasp took {held!r} where nothing was within reach"
        else:
            code, text = E_GRASP_WRONG, f"the grasp took {held!r}; it was meant to take {meant!r}"
        self._raise(call, code, text, name, expected=self._meant_point(meant), observed=where,
                    hint="the fingers closed beside the object or on its edge: check the target's "
                         "perceived position and the neighbours around it")

    def before_segment(self, call: Any, role: str, start: Any, end: Any) -> None:
        """Stop (E525) before a segment from `start` to `end` (TCP) that would run the gripper
        or what it holds into an object, as the backend reports them now, and (E526) before one
        that leaves the arm's reach (the cell's `reach_miss`)."""
        from capc.runtime import hand

        miss = self.cell.reach_miss(start, end) if hasattr(self.cell, "reach_miss") else 0.0
        if miss > 0.0:
            if self.stops and hasattr(self.backend, "settle"):  # optional: see SimBackend
                self.backend.settle()
            self._raise(call, E_UNREACHED, f"the segment ({role}) leaves the arm's reach by {miss * 100:.1f} cm; "
                                           f"it was not sent", None, expected=[float(v) for v in end],
                        distance=miss, hint="the arm reaches between "
                        f"{self.cell.reach_min:g} m and {self.cell.reach_max:g} m of {list(self.cell.reach_centre)}: "
                        "keep targets and the straight paths between them there (not over the robot's base)")
        if not hand.applies(self.cell):
            return
        objects = {name: tuple(float(v) for v in pos) for name, pos in self.backend.object_positions().items()}
        held = self.backend.held_object()
        self.axis = hand.choose_axis(self.axis, end, objects, self.kinds, held, self.cell)
        hit = hand.sweep_hit(start, end, self.axis, objects, self.kinds, held,
                             lowering_bowl=role == "lower to place", cell=self.cell)
        if hit is None:
            return
        name, part = hit
        if self.stops and hasattr(self.backend, "settle"):  # optional: see SimBackend
            self.backend.settle()  # at rest where the last segment ended, as on the kinematic backend
        what = "the fingers" if part == "fingers" else "the hand" if part == "hand" else part
        if held is not None and part != "fingers" and part != "hand":
            hint = ("a bowl rests on the table only: put it down where nothing is under it"
                    if self.kinds.get(held) == "bowl" else
                    f"let it go over the middle of {name!r} (it would tilt on an edge or a rim), or on free table")
        elif role == "descend to pick":
            hint = f"{name!r} stands on or beside what is picked: move it first (a stack from the top)"
        else:
            hint = f"move at travel height ({self.cell.travel_height:g} m) over the objects, and go down only where the gripper is clear"
        self._raise(call, E_OBSTRUCTED, f"{what} would run into {name!r} ({role}); the segment was not sent",
                    name, expected=[float(v) for v in end], observed=objects.get(name), hint=hint)

    def after(self, call: Any, tcp: tuple[float, float, float], stop: bool = True) -> None:
        """Compare every object with its expectation once `call` has finished (or the run has
        ended: `stop=False` records without stopping)."""
        self.expected.send_setpoint(tcp, 0.0)
        measured = [float(v) for v in self.backend.tcp()]
        short = math.dist(measured, tcp)
        if short > self.cell.place_tolerance:
            self._event(call, E_UNREACHED, f"the arm ended {short * 100:.1f} cm from where it was sent, "
                                           f"out of its reach", None, expected=tcp, observed=measured,
                        distance=short, tolerance=self.cell.place_tolerance)
        meant = self.expected.held_object()
        held = self.backend.held_object()
        if meant is not None and held != meant:
            self._lost(call, meant, held, stop=stop)
        expected = self.expected.object_positions()
        released, self.released = self.released, set()
        for name, observed in self.backend.object_positions().items():
            if name in (held, meant) or name not in expected:
                continue
            want = expected[name]
            distance = math.dist(want, observed)
            if name in released and distance > self.cell.place_tolerance:
                self._raise(call, E_MISPLACED,
                            f"{name!r} came to rest {distance * 100:.1f} cm from where the plan let it go",
                            name, expected=want, observed=observed, distance=distance,
                            tolerance=self.cell.place_tolerance, stop=stop,
                            hint="it fell off its support, slid, or was pushed while it was let go")
            elif name not in released and distance > self.cell.disturb_tolerance:
                self._event(call, E_DISTURBED, f"{name!r} moved {distance * 100:.1f} cm though no "
                                                f"step of the plan moved it", name, expected=want,
                             observed=observed, distance=distance, tolerance=self.cell.disturb_tolerance)
                self.expected.place(name, observed)

    def _lost(self, call: Any, meant: str, held: str | None, stop: bool = True) -> None:
        where = self.backend.object_positions().get(meant)
        text = (f"{meant!r} slipped out of the gripper before it was let go" if held is None
                else f"the gripper holds {held!r} instead of {meant!r}")
        self._raise(call, E_GRASP_LOST, text, meant, expected=None, observed=where, stop=stop,
                    hint="the grasp was not firm (on an edge, or knocked while carrying)")

    def _meant_point(self, name: str | None) -> Any:
        return None if name is None else self.expected.object_positions().get(name)

    def _event(self, call: Any, code: str, text: str, name: str | None, *, expected: Any = None,
               observed: Any = None, distance: float | None = None, tolerance: float | None = None) -> dict:
        event = {"code": code, "object": name, "call_index": call.index, "primitive": call.name,
                 "line": call.span.line, "col": call.span.col, "expected": _rounded(expected),
                 "observed": _rounded(observed),
                 "distance": None if distance is None else round(distance, 4), "tolerance": tolerance,
                 "message": f"{call.name}: {text}"}
        self.events.append(event)
        return event

    def _raise(self, call: Any, code: str, text: str, name: str | None, *, stop: bool = True,
               hint: str | None = None, **values: Any) -> None:
        event = self._event(call, code, text, name, **values)
        event["hint"] = hint
        if stop and self.stops:
            raise OutcomeStop(event, call.span)


def _aimed(call: Any) -> str | None:
    """The object a grasp inside `call` is meant to take: put_first_on_second's first
    argument when it names one (a bare point means "what is there": the expectation's)."""
    if call.name == "put_first_on_second":
        first = call.args.get("arg1")
        return first if isinstance(first, str) else None
    return None
