"""Safety rules of a cell beyond its boxes: what the robot may hold, carry and put where.

The `rules:` section of the limits file (docs/rules.md) is a list; each item is one rule:

```yaml
rules:
  - carry: {object: glass, max_speed: 0.1}     # while holding the glass: at most 0.1 m/s
  - carry: {max_height: 0.12}                  # while holding anything: the tool at most 12 cm high
  - never_pick: knife                          # never close the gripper on the knife
  - never_place: {on: red bowl}                # never let anything go over the red bowl
  - never_place: {object: red block, on: green block}
  - max_grasps: 3                              # at most three grasps that take something
  - release_height: {object: glass, max: 0.01}  # never let the glass drop more than 1 cm
  - at_end: {empty: blue bowl}                 # when the program ends, nothing is in the blue bowl
  - avoid: {object: laptop, box: {x: [-0.2, 0.2], y: [-0.15, 0.15], z: [0, 0.1]}}
                                               # the tool never within 10 cm above the laptop
  - avoid: {box: {x: [-0.3, 0.3], y: [-0.3, -0.2], z: [0, 0.3]}, holding: anything}
                                               # a keep-out box only while holding something
  - avoid: {object: blue bowl, cylinder: {radius: 0.08, z: [0, 0.15]}}
                                               # never lower than 15 cm over the blue bowl
  - never: {event: close, while: {holding: anything}}          # never hold two objects
  - before: {event: {move: home}, require: {gripper: open}}    # the gripper is open before any move home
  - before: {event: {grasp: anything}, first: {release: red block}}
  - always: {max_height: 0.2, while: {gripper: closed}}        # carry limits under any state
  - at_end: {holding: nothing}
```

The order and state rules (`never`, `before`, `always`, `at_end`) are a small safety automaton
over the primitives' events -- a closing or opening of the gripper, a grasp or release of an
object, a commanded move into a region -- and a state of two variables (what the gripper holds,
whether it is closed) plus one "has happened" bit per `before ... first` rule; not a temporal
logic. The gripper is open and empty when a run starts.

Every rule remembers where it was written (`label`, "limits.yaml:7"): the verifier's and
the monitor's findings name it. This module holds the rules and their concrete checks on
floats (the runtime monitor and the verifier's counterexample replay run them); the proof
obligations over Z3 terms are in capc.safety.rule_obligations. Both read the same numbers
with the same tolerances as the monitor's other limits (capc.safety.monitor).
"""

from __future__ import annotations

import os
from typing import Any

from capc.compiler.geometry import Box, Cylinder, Interval
from capc.files import Document, expect_keys, expect_number
from capc.frozen import frozen
from capc.safety.regions import parse_box, parse_cylinder

CARRY_SPEED, CARRY_HEIGHT = "carry_speed", "carry_height"
NEVER_PICK, NEVER_PLACE, MAX_GRASPS = "never_pick", "never_place", "max_grasps"
AVOID, RELEASE_HEIGHT, EMPTY_AT_END = "avoid", "release_height", "empty_at_end"
NEVER, BEFORE, END_STATE = "never", "before", "end_state"
ANYTHING, NOTHING = "anything", "nothing"
MAX_RULES = 64
HOME_REACH = 0.01  # m: a move "to home" is one whose target is within this of the home pose, per axis

# The events of the automaton: what a gripper action or a commanded move is.
CLOSE, OPEN, GRASP, RELEASE, MOVE = "close", "open", "grasp", "release", "move"


@frozen
class Event:
    """A closing or opening of the gripper; a grasp that takes `obj` (None: anything); a
    release of `obj`; a commanded move whose target lies in `region` (None: anywhere), or near
    the home pose (`home`)."""

    kind: str
    obj: str | None = None
    region: Box | Cylinder | None = None
    home: bool = False

    def at_grip(self, close: bool, taken: str | None, held_before: str | None) -> bool:
        """Is a gripper action this event? (`taken`: what a closing took; `held_before`:
        what an opening lets go.)"""
        if self.kind == CLOSE:
            return close
        if self.kind == OPEN:
            return not close
        if self.kind == GRASP:
            return close and taken is not None and self.obj in (None, taken)
        if self.kind == RELEASE:
            return not close and held_before is not None and self.obj in (None, held_before)
        return False

    def region_in(self, cell: Any) -> Box | Cylinder | None:
        """A move event's region (None: any move); home is the cell's home pose, HOME_REACH wide."""
        if not self.home:
            return self.region
        return Box(*(Interval(h - HOME_REACH, h + HOME_REACH) for h in cell.home))

    def verb(self) -> str:
        what = "anything" if self.obj is None else f"the {self.obj}"
        return {CLOSE: "close the gripper", OPEN: "open the gripper", GRASP: f"pick up {what}",
                RELEASE: f"let go of {what}"}.get(self.kind) or f"move {self._where()}".rstrip()

    def noun(self) -> str:
        what = "anything" if self.obj is None else f"the {self.obj}"
        return {CLOSE: "closing of the gripper", OPEN: "opening of the gripper", GRASP: f"grasp of {what}",
                RELEASE: f"release of {what}"}.get(self.kind) or f"move {self._where()}".rstrip()

    def _where(self) -> str:
        if self.home:
            return "to the home pose"
        return "" if self.region is None else f"into the {_region_words(self.region)}"

    def to_json(self) -> Any:
        if self.kind in (CLOSE, OPEN):
            return self.kind
        if self.kind in (GRASP, RELEASE):
            return {self.kind: self.obj or ANYTHING}
        if self.home:
            return {MOVE: "home"}
        return {MOVE: "anywhere" if self.region is None else _region_json(self.region)}


@frozen
class State:
    """A condition on the automaton's state: what the gripper holds (`holding`: an object,
    ANYTHING, NOTHING, or None: either) and whether it is closed (`gripper`: "open",
    "closed", or None: either)."""

    holding: str | None = None
    gripper: str | None = None

    def holds(self, held: str | None, closed: bool) -> bool:
        if self.holding == ANYTHING and held is None or self.holding == NOTHING and held is not None:
            return False
        if self.holding not in (None, ANYTHING, NOTHING) and held != self.holding:
            return False
        return self.gripper is None or (self.gripper == "closed") == closed

    def words(self) -> str:
        """As a clause: "the gripper is open and holds the glass"."""
        parts = [] if self.gripper is None else [f"the gripper is {self.gripper}"]
        if self.holding is not None:
            obj = {ANYTHING: "something", NOTHING: "nothing"}.get(self.holding, f"the {self.holding}")
            parts.append(f"{'the gripper ' if not parts else ''}holds {obj}")
        return " and ".join(parts)

    def during(self) -> str:
        """After "while": "holding the glass", "the gripper is closed"."""
        if self.gripper is None:
            return "holding " + {ANYTHING: "something", NOTHING: "nothing"}.get(self.holding, f"the {self.holding}")
        return self.words()

    def to_json(self) -> dict:
        return {k: v for k, v in (("holding", self.holding), ("gripper", self.gripper)) if v is not None}


def _region_words(region: Box | Cylinder) -> str:
    if isinstance(region, Cylinder):
        return (f"cylinder of radius {region.radius:g} around ({region.cx:g}, {region.cy:g}), "
                f"z {region.z.low:g}..{region.z.high:g}")
    return "box " + ", ".join(f"{n} {a.low:g}..{a.high:g}" for n, a in zip("xyz", region.axes))


def _region_json(region: Box | Cylinder) -> dict:
    return {"cylinder" if isinstance(region, Cylinder) else "box": region.to_json()}


@frozen
class Rule:
    """One rule. `obj` is the object it is about (None: anything held); `target` the object
    a placement rule protects, or the one an `avoid` region moves with (None: the region is
    fixed); `value` the limit (m/s, m, or a count); `box` an `avoid` rule's region (a Box or a
    Cylinder, relative to the target's reference point: a block's centre, a bowl's floor),
    applying always or, with `holding`, only while the gripper holds `obj`.

    The automaton's rules: `event` is what a `never` or `before` rule is about; `state` the
    condition of a `never` (while), a `before` (require), an `at_end` (end state), or of a
    carry limit written as `always` (then it replaces "while holding `obj`"); `first` the
    event a `before` rule needs to have happened."""

    kind: str
    label: str                 # where it was written: "file:line"
    obj: str | None = None
    target: str | None = None
    value: float = 0.0
    box: Box | Cylinder | None = None
    holding: bool = False
    event: Event | None = None
    state: State | None = None
    first: Event | None = None

    @property
    def name(self) -> str:
        """The obligation's and the monitor's name of this rule."""
        return f"rule:{self.label}"

    def objects(self) -> list[str]:
        """The objects the rule names (scene-free, the tables the proof covers hold them)."""
        named = [self.obj, self.target, self.event and self.event.obj, self.first and self.first.obj,
                 self.state and self.state.holding]
        return [n for n in named if n is not None and n not in (ANYTHING, NOTHING)]

    def applies(self, held: str | None) -> bool:
        return held is not None and (self.obj is None or self.obj == held)

    def carries(self, held: str | None, closed: bool) -> bool:
        """Is a carry limit in force in this state? (While holding, or an `always` rule's state.)"""
        return self.applies(held) if self.state is None else self.state.holds(held, closed)

    def active(self, held: str | None) -> bool:
        """Does an `avoid` rule apply now? (A region around the held object would move with
        the tool: it applies while that object stands somewhere.)"""
        return (not self.holding or self.applies(held)) and (self.target is None or self.target != held)

    def region(self, ref: tuple | None) -> Box | Cylinder:
        """An `avoid` rule's region where its object's reference point is `ref` (floats)."""
        b = self.box
        if self.target is None or ref is None:
            return b
        rx, ry, rz = (float(r) for r in ref)
        if isinstance(b, Cylinder):
            return Cylinder(b.cx + rx, b.cy + ry, b.radius, Interval(b.z.low + rz, b.z.high + rz))
        return Box(*(Interval(a.low + r, a.high + r) for a, r in zip(b.axes, (rx, ry, rz))))

    def breaks_at(self, event_here: bool, held: str | None, closed: bool, happened: Any) -> bool:
        """Does an event rule break when an event (`event_here`: it is this rule's) happens in
        the state (`held`, `closed`) just before it, with `happened` the rules whose first
        event has happened?"""
        if not event_here or self.kind not in (NEVER, BEFORE):
            return False
        if self.kind == NEVER:
            return self.state is None or self.state.holds(held, closed)
        if self.first is not None:
            return self not in happened
        return not self.state.holds(held, closed)

    def words(self) -> str:
        what = "anything" if self.obj is None else f"the {self.obj}"
        if self.kind == AVOID:
            around = f" around the {self.target} (relative to it)" if self.target else ""
            when = f" while holding {what}" if self.holding else ""
            return f"keep the gripper out of the {_region_words(self.box)}{around}{when}"
        if self.kind in (CARRY_SPEED, CARRY_HEIGHT) and self.state is not None:
            limit = (f"move at most {self.value:g} m/s" if self.kind == CARRY_SPEED
                     else f"keep the gripper at most {self.value:g} m above the table")
            return f"while {self.state.during()}, {limit}"
        if self.kind == CARRY_SPEED:
            return f"carry {what} at most {self.value:g} m/s"
        if self.kind == CARRY_HEIGHT:
            return f"while holding {what}, keep the gripper at most {self.value:g} m above the table"
        if self.kind == NEVER_PICK:
            return f"never pick up the {self.obj}"
        if self.kind == NEVER_PLACE:
            return f"never put {what} in or on the {self.target}"
        if self.kind == EMPTY_AT_END:
            return f"the {self.target} is empty when the program ends"
        if self.kind == RELEASE_HEIGHT:
            return f"never let go of {what} more than {self.value:g} m above where it comes to rest"
        if self.kind == NEVER:
            return f"never {self.event.verb()}" + ("" if self.state is None else f" while {self.state.during()}")
        if self.kind == BEFORE and self.first is not None:
            return f"no {self.event.noun()} before the first {self.first.noun()}"
        if self.kind == BEFORE:
            return f"{self.state.words()} before any {self.event.noun()}"
        if self.kind == END_STATE:
            return f"when the program ends, {self.state.words()}"
        return f"at most {int(self.value)} grasps"

    def to_json(self) -> dict:
        """The rule in the limits file's syntax (read back by `parse_rules`), with its label."""
        out: dict[str, Any]
        if self.kind in (CARRY_SPEED, CARRY_HEIGHT):
            body: dict[str, Any] = {"max_speed" if self.kind == CARRY_SPEED else "max_height": self.value}
            if self.state is not None:
                out = {"always": {**body, "while": self.state.to_json()}}
            else:
                out = {"carry": {**body, **({"object": self.obj} if self.obj is not None else {})}}
        elif self.kind == AVOID:
            body = _region_json(self.box)
            if self.target is not None:
                body["object"] = self.target
            if self.holding:
                body["holding"] = self.obj or ANYTHING
            out = {"avoid": body}
        elif self.kind == EMPTY_AT_END:
            out = {"at_end": {"empty": self.target}}
        elif self.kind == END_STATE:
            out = {"at_end": self.state.to_json()}
        elif self.kind == NEVER:
            out = {"never": {"event": self.event.to_json(), **({"while": self.state.to_json()} if self.state else {})}}
        elif self.kind == BEFORE:
            need = {"first": self.first.to_json()} if self.first is not None else {"require": self.state.to_json()}
            out = {"before": {"event": self.event.to_json(), **need}}
        elif self.kind == RELEASE_HEIGHT:
            out = {"release_height": {"max": self.value, **({"object": self.obj} if self.obj else {})}}
        elif self.kind == NEVER_PICK:
            out = {"never_pick": self.obj}
        elif self.kind == NEVER_PLACE:
            out = {"never_place": {"on": self.target, **({"object": self.obj} if self.obj else {})}}
        else:
            out = {"max_grasps": int(self.value)}
        out["at"] = self.label
        return out


# --- the limits file's section -----------------------------------------------------------

def parse_rules(doc: Document, path: tuple, value: Any) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        raise doc.error(path, "expected a list of rules", hint="e.g. rules: [{never_pick: knife}]")
    if len(value) > MAX_RULES:
        raise doc.error(path, f"too many rules (at most {MAX_RULES})")
    out: list[Rule] = []
    for i, item in enumerate(value):
        out += _rule(doc, path + (i,), item)
    return tuple(out)


def _label(doc: Document, path: tuple, item: dict) -> str:
    if isinstance(item.get("at"), str) and item["at"]:
        return item["at"]  # a rule read back from a stored spec keeps where it was first written
    line = doc.positions.get(path, (None, None))[0]
    return f"{os.path.basename(doc.file)}:{line if line is not None else '?'}"


def _name(doc: Document, path: tuple, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise doc.error(path, f"{what} must be an object's name, got {value!r}")
    if len(value) > 100 or any(not c.isprintable() for c in value):
        raise doc.error(path, f"{what}: an object's name is one line of at most 100 printable characters")
    return value.strip()


def _held(doc: Document, path: tuple, value: dict) -> str | None:
    if "object" not in value:
        return None
    name = _name(doc, path + ("object",), value["object"], "object")
    return None if name == ANYTHING else name


def _region(doc: Document, at: tuple, body: dict, relative: bool) -> Box | Cylinder | None:
    if ("box" in body) == ("cylinder" in body):
        return None
    if "box" in body:
        return parse_box(doc, at + ("box",), body["box"])
    return parse_cylinder(doc, at + ("cylinder",), body["cylinder"], relative=relative)


def _event(doc: Document, path: tuple, value: Any) -> Event:
    """`close`, `open`, `grasp`, `release`, `move`; {grasp: X}, {release: X}; {move: home},
    {move: anywhere}, {move: {box: ...}} or {move: {cylinder: ...}} (a fixed region)."""
    hint = "an event is close, open, {grasp: X}, {release: X}, {move: home} or {move: {box: ...}}"
    if isinstance(value, str) and value in (CLOSE, OPEN, GRASP, RELEASE, MOVE):
        return Event(value)
    if not isinstance(value, dict) or len(value) != 1:
        raise doc.error(path, f"not an event: {value!r}", hint=hint)
    expect_keys(doc, path, value, {GRASP, RELEASE, MOVE})
    (kind, arg), = value.items()
    if kind in (GRASP, RELEASE):
        name = _name(doc, path + (kind,), arg, kind)
        return Event(kind, obj=None if name == ANYTHING else name)
    if arg == "home":
        return Event(MOVE, home=True)
    if arg in ("anywhere", ANYTHING):
        return Event(MOVE)
    region = _region(doc, path + (MOVE,), arg, relative=False) if isinstance(arg, dict) else None
    if region is None:
        raise doc.error(path + (MOVE,), f"a move event goes to home, anywhere, a box or a cylinder, got {arg!r}",
                        hint=hint)
    return Event(MOVE, region=region)


def _state(doc: Document, path: tuple, value: Any) -> State:
    """{holding: X | anything | nothing, gripper: open | closed}, at least one key."""
    expect_keys(doc, path, value, {"holding", "gripper"})
    if not value:
        raise doc.error(path, "a state needs 'holding' and/or 'gripper'",
                        hint="e.g. {holding: anything} or {gripper: open}")
    holding = _name(doc, path + ("holding",), value["holding"], "holding") if "holding" in value else None
    gripper = value.get("gripper")
    if gripper not in (None, "open", "closed"):
        raise doc.error(path + ("gripper",), f"gripper is open or closed, got {gripper!r}")
    return State(holding, gripper)


def _rule(doc: Document, path: tuple, item: Any) -> list[Rule]:
    kinds = {"carry", "never_pick", "never_place", "max_grasps", "avoid", "release_height", "at_end", "never",
             "before", "always"}
    expect_keys(doc, path, item, kinds | {"at"})
    given = [k for k in item if k in kinds]
    if len(given) != 1:
        raise doc.error(path, "a rule is exactly one of: " + ", ".join(sorted(kinds)),
                        hint="write each rule as its own list item")
    kind = given[0]
    label = _label(doc, path, item)
    at, body = path + (kind,), item[kind]
    if kind == "never_pick":
        return [Rule(NEVER_PICK, label, obj=_name(doc, at, body, "never_pick"))]
    if kind == "max_grasps":
        if isinstance(body, bool) or not isinstance(body, int) or body < 0 or body > 1000:
            raise doc.error(at, f"max_grasps must be a whole number in [0, 1000], got {body!r}")
        return [Rule(MAX_GRASPS, label, value=float(body))]
    if kind == "at_end":
        expect_keys(doc, at, body, {"empty", "holding", "gripper"})
        if "empty" in body:
            if len(body) > 1:
                raise doc.error(at, "at_end is either {empty: X} or a state ({holding: ..., gripper: ...})")
            return [Rule(EMPTY_AT_END, label, target=_name(doc, at + ("empty",), body["empty"], "empty"))]
        return [Rule(END_STATE, label, state=_state(doc, at, body))]
    if kind == "never":
        expect_keys(doc, at, body, {"event", "while"}, {"event"})
        state = _state(doc, at + ("while",), body["while"]) if "while" in body else None
        return [Rule(NEVER, label, event=_event(doc, at + ("event",), body["event"]), state=state)]
    if kind == "before":
        expect_keys(doc, at, body, {"event", "require", "first"}, {"event"})
        if ("require" in body) == ("first" in body):
            raise doc.error(at, "a before rule has exactly one of 'require' (a state) or 'first' (an event)",
                            hint="before: {event: {move: home}, require: {gripper: open}}")
        event = _event(doc, at + ("event",), body["event"])
        if "require" in body:
            return [Rule(BEFORE, label, event=event, state=_state(doc, at + ("require",), body["require"]))]
        first = _event(doc, at + ("first",), body["first"])
        if first.kind == MOVE:
            raise doc.error(at + ("first",), "a 'first' event is a gripper event: close, open, grasp or release")
        return [Rule(BEFORE, label, event=event, first=first)]
    if kind == "release_height":
        expect_keys(doc, at, body, {"object", "max"}, {"max"})
        v = expect_number(doc, at + ("max",), body["max"])
        if not 0.0 <= v <= 1.0:
            raise doc.error(at + ("max",), f"{v} is out of range (must be >= 0 and <= 1)")
        return [Rule(RELEASE_HEIGHT, label, obj=_held(doc, at, body), value=v)]
    if kind == "avoid":
        expect_keys(doc, at, body, {"object", "box", "cylinder", "holding"})
        target = _name(doc, at + ("object",), body["object"], "object") if "object" in body else None
        region = _region(doc, at, body, relative=target is not None)
        if region is None:
            raise doc.error(at, "an avoid rule needs exactly one of 'box' or 'cylinder'")
        held = None
        if "holding" in body:
            held = _name(doc, at + ("holding",), body["holding"], "holding")
            held = None if held == ANYTHING else held
        return [Rule(AVOID, label, obj=held, target=target, box=region, holding="holding" in body)]
    if kind == "never_place":
        expect_keys(doc, at, body, {"object", "on"}, {"on"})
        return [Rule(NEVER_PLACE, label, obj=_held(doc, at, body), target=_name(doc, at + ("on",), body["on"], "on"))]
    if kind == "always":
        expect_keys(doc, at, body, {"while", "max_speed", "max_height"}, {"while"})
        obj, state = None, _state(doc, at + ("while",), body["while"])
    else:
        expect_keys(doc, at, body, {"object", "max_speed", "max_height"})
        obj, state = _held(doc, at, body), None
    if "max_speed" not in body and "max_height" not in body:
        raise doc.error(at, f"a {kind} rule needs max_speed and/or max_height")
    rules = []
    for key, rule_kind, low, high in (("max_speed", CARRY_SPEED, 0.0, 5.0), ("max_height", CARRY_HEIGHT, 0.0, 5.0)):
        if key in body:
            v = expect_number(doc, at + (key,), body[key])
            if not low < v <= high:
                raise doc.error(at + (key,), f"{v} is out of range (must be > {low} and <= {high})")
            rules.append(Rule(rule_kind, label, obj=obj, value=v, state=state))
    return rules


# --- concrete checks (the monitor and the replay) -------------------------------------

def support_xy(cell: Any, kind: str, dx: float, dy: float, grow: float) -> bool:
    """Is a released object's centre (dx, dy) from `kind`'s centre over it (its support
    reach, grown by `grow`)? The kinematic backend's rule of "on"/"in" (the cell's supports)."""
    reach = cell.support_reach(kind) + grow
    if kind == "block":
        return abs(dx) <= reach and abs(dy) <= reach
    return dx * dx + dy * dy <= reach * reach


def waypoint_breaks(cell: Any, rules: tuple[Rule, ...], now: tuple, target: tuple, speed: float,
                    position_tol: float, rate_tol: float, start: tuple | None = None,
                    events: bool = True) -> tuple[Rule, float, str] | None:
    """A commanded move to `target` at `speed` (m/s, the effective one) in the state `now`
    (held, closed, happened): carry limits in force, and `never` / `before` rules about a
    move. `start`: the first move's start (the home pose), which a carry height in force from
    the start bounds too; later starts are earlier targets or grip points, checked there.
    A set-point (`events` False) is no move of its own: only the carry limits apply to it."""
    held, closed, happened = now
    for rule in rules:
        if rule.kind in (CARRY_SPEED, CARRY_HEIGHT) and rule.carries(held, closed):
            what = f"moves {held!r}" if rule.state is None else f"moves while {rule.state.during()}"
            if rule.kind == CARRY_SPEED and speed > rule.value * (1 + rate_tol):
                return rule, speed - rule.value, f"{what} at {speed:g} m/s"
            z = target[2] if start is None else max(target[2], start[2])
            if rule.kind == CARRY_HEIGHT and z > rule.value + position_tol:
                return rule, z - rule.value, f"{what} at z = {z:.4f}"
        elif events and rule.event is not None and rule.event.kind == MOVE:
            region = rule.event.region_in(cell)
            here = region is None or region.contains(target, position_tol)
            if rule.breaks_at(here, held, closed, happened):
                return rule, 0.0, f"moves to ({', '.join(f'{v:.4f}' for v in target)})"
    return None


def avoid_zones(rules: tuple[Rule, ...], held: str | None, positions: dict[str, tuple]) -> list:
    """The `avoid` boxes in force now, as (rule, absolute Box) (floats)."""
    out = []
    for rule in rules:
        if rule.kind != AVOID or not rule.active(held):
            continue
        if rule.target is not None and rule.target not in positions:
            continue  # no such object in this world: nothing to keep away from
        out.append((rule, rule.region(positions.get(rule.target) if rule.target else None)))
    return out


def end_breaks(cell: Any, rules: tuple[Rule, ...], now: tuple, positions: dict[str, tuple], kinds: dict[str, str],
               position_tol: float) -> tuple[Rule, float, str] | None:
    """The world when the program has run to its end: an `at_end: {empty: X}` rule is broken
    by an object (not held) whose centre is within X's support reach; an `at_end` state by
    the state `now` (held, closed, happened)."""
    held, closed = now[0], now[1]
    for rule in rules:
        if rule.kind == END_STATE and not rule.state.holds(held, closed):
            return rule, 0.0, f"the program ends with the gripper {'closed' if closed else 'open'}" + (
                f", holding {held!r}" if held is not None else ", holding nothing")
        if rule.kind != EMPTY_AT_END or rule.target not in positions or rule.target == held:
            continue
        tx, ty = positions[rule.target][0], positions[rule.target][1]
        for name, p in positions.items():
            if name not in (rule.target, held) and support_xy(cell, kinds.get(rule.target, "block"), p[0] - tx, p[1] - ty,
                                                             -position_tol):
                return rule, 0.0, f"{name!r} is in or on the {rule.target} when the program ends"
    return None


def grip_breaks(cell: Any, rules: tuple[Rule, ...], close: bool, held: str | None, grasps: int, tcp: tuple,
                positions: dict[str, tuple], kinds: dict[str, str],
                position_tol: float, before: tuple = (None, False, frozenset())) -> tuple[Rule, float, str] | None:
    """A gripper event: `close` took `held` (None: nothing) as grasp number `grasps`, or an
    opening is about to let `held` go where `positions` say it is. `before` is the state
    (held, closed, happened) just before the action."""
    held_before, closed_before, happened = before
    if close:
        after = (held if held is not None else held_before, True)
    else:
        held_before, after = held, (None, False)
    taken = held if close else None
    for rule in rules:
        if rule.event is not None:
            if rule.breaks_at(rule.event.at_grip(close, taken, held_before), held_before, closed_before, happened):
                return rule, 0.0, f"the gripper {'closes' if close else 'opens'}" + (
                    f" on {taken!r}" if taken is not None else f" holding {held_before!r}" if held_before else "")
            continue
        if (rule.kind == CARRY_HEIGHT and rule.carries(*after) and not rule.carries(held_before, closed_before)
                and tcp[2] > rule.value + position_tol):
            what = f"took {taken!r}" if rule.state is None else f"the gripper {'closed' if close else 'opened'}"
            return rule, tcp[2] - rule.value, f"{what} at z = {tcp[2]:.4f}"
        if close and held is not None:
            if rule.kind == NEVER_PICK and rule.obj == held:
                return rule, 0.0, f"the gripper closed on {held!r}"
            if rule.kind == MAX_GRASPS and grasps > rule.value:
                return rule, grasps - rule.value, f"grasp number {grasps} (taking {held!r})"
        if not close and rule.kind == RELEASE_HEIGHT and rule.applies(held) and held in positions:
            x, y, z = positions[held]
            others = [(kinds.get(n, "block"), p) for n, p in positions.items() if n != held]
            drop = z - cell.released_height(kinds.get(held, "block"), x, y, z, others)
            if drop > rule.value + position_tol:
                return rule, drop - rule.value, f"lets {held!r} go {drop:.4f} m above where it comes to rest"
        if (not close and held is not None and rule.kind == NEVER_PLACE and rule.applies(held)
                and rule.target in positions and rule.target != held):
            hx, hy = positions[held][0], positions[held][1]
            tx, ty = positions[rule.target][0], positions[rule.target][1]
            if support_xy(cell, kinds.get(rule.target, "block"), hx - tx, hy - ty, -position_tol):
                return rule, 0.0, f"releases {held!r} at ({hx:.4f}, {hy:.4f}), over the {rule.target}"
    return None


def happened_after(rules: tuple[Rule, ...], close: bool, taken: str | None, held_before: str | None,
                   happened: frozenset) -> frozenset:
    """The `before ... first` rules whose first event has happened, after a gripper action."""
    new = [r for r in rules if r.first is not None and r not in happened and r.first.at_grip(close, taken, held_before)]
    return happened | frozenset(new) if new else happened
