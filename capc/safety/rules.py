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
```

Every rule remembers where it was written (`label`, "limits.yaml:7"): the verifier's and
the monitor's findings name it. This module holds the rules and their concrete checks on
floats (the runtime monitor and the verifier's counterexample replay run them); the proof
obligations over Z3 terms are in capc.safety.rule_obligations. Both read the same numbers
with the same tolerances as the monitor's other limits (capc.safety.monitor).
"""

from __future__ import annotations

import os
from typing import Any

from capc.compiler.geometry import Box, Interval
from capc.files import Document, expect_interval, expect_keys, expect_number
from capc.frozen import frozen

CARRY_SPEED, CARRY_HEIGHT = "carry_speed", "carry_height"
NEVER_PICK, NEVER_PLACE, MAX_GRASPS = "never_pick", "never_place", "max_grasps"
AVOID, RELEASE_HEIGHT, EMPTY_AT_END = "avoid", "release_height", "empty_at_end"
ANYTHING = "anything"
MAX_RULES = 64


@frozen
class Rule:
    """One rule. `obj` is the object it is about (None: anything held); `target` the object
    a placement rule protects, or the one an `avoid` box moves with (None: the box is fixed);
    `value` the limit (m/s, m, or a count); `box` an `avoid` rule's box (relative to the
    target's reference point: a block's centre, a bowl's floor), applying always or, with
    `holding`, only while the gripper holds `obj`."""

    kind: str
    label: str                 # where it was written: "file:line"
    obj: str | None = None
    target: str | None = None
    value: float = 0.0
    box: Box | None = None
    holding: bool = False

    @property
    def name(self) -> str:
        """The obligation's and the monitor's name of this rule."""
        return f"rule:{self.label}"

    def applies(self, held: str | None) -> bool:
        return held is not None and (self.obj is None or self.obj == held)

    def active(self, held: str | None) -> bool:
        """Does an `avoid` rule apply now? (A box around the held object would move with
        the tool: it applies while that object stands somewhere.)"""
        return (not self.holding or self.applies(held)) and (self.target is None or self.target != held)

    def region(self, ref: tuple | None) -> Box:
        """An `avoid` rule's box where its object's reference point is `ref` (floats)."""
        b = self.box
        if self.target is None or ref is None:
            return b
        return Box(*(Interval(a.low + float(r), a.high + float(r)) for a, r in zip(b.axes, ref)))

    def words(self) -> str:
        what = "anything" if self.obj is None else f"the {self.obj}"
        if self.kind == AVOID:
            where = ", ".join(f"{n} {a.low:g}..{a.high:g}" for n, a in zip("xyz", self.box.axes))
            around = f" around the {self.target} (relative to it)" if self.target else ""
            when = f" while holding {what}" if self.holding else ""
            return f"keep the gripper out of the box {where}{around}{when}"
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
        return f"at most {int(self.value)} grasps"

    def to_json(self) -> dict:
        """The rule in the limits file's syntax (read back by `parse_rules`), with its label."""
        out: dict[str, Any]
        if self.kind in (CARRY_SPEED, CARRY_HEIGHT):
            body: dict[str, Any] = {"max_speed" if self.kind == CARRY_SPEED else "max_height": self.value}
            if self.obj is not None:
                body["object"] = self.obj
            out = {"carry": body}
        elif self.kind == AVOID:
            body = {"box": self.box.to_json()}
            if self.target is not None:
                body["object"] = self.target
            if self.holding:
                body["holding"] = self.obj or ANYTHING
            out = {"avoid": body}
        elif self.kind == EMPTY_AT_END:
            out = {"at_end": {"empty": self.target}}
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


def _rule(doc: Document, path: tuple, item: Any) -> list[Rule]:
    kinds = {"carry", "never_pick", "never_place", "max_grasps", "avoid", "release_height", "at_end"}
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
        expect_keys(doc, at, body, {"empty"}, {"empty"})
        return [Rule(EMPTY_AT_END, label, target=_name(doc, at + ("empty",), body["empty"], "empty"))]
    if kind == "release_height":
        expect_keys(doc, at, body, {"object", "max"}, {"max"})
        v = expect_number(doc, at + ("max",), body["max"])
        if not 0.0 <= v <= 1.0:
            raise doc.error(at + ("max",), f"{v} is out of range (must be >= 0 and <= 1)")
        return [Rule(RELEASE_HEIGHT, label, obj=_held(doc, at, body), value=v)]
    if kind == "avoid":
        expect_keys(doc, at, body, {"object", "box", "holding"}, {"box"})
        box = body["box"]
        expect_keys(doc, at + ("box",), box, {"x", "y", "z"}, {"x", "y", "z"})
        region = Box(*(Interval(*expect_interval(doc, at + ("box", a), box[a])) for a in "xyz"))
        target = _name(doc, at + ("object",), body["object"], "object") if "object" in body else None
        held = None
        if "holding" in body:
            held = _name(doc, at + ("holding",), body["holding"], "holding")
            held = None if held == ANYTHING else held
        return [Rule(AVOID, label, obj=held, target=target, box=region, holding="holding" in body)]
    if kind == "never_place":
        expect_keys(doc, at, body, {"object", "on"}, {"on"})
        return [Rule(NEVER_PLACE, label, obj=_held(doc, at, body), target=_name(doc, at + ("on",), body["on"], "on"))]
    expect_keys(doc, at, body, {"object", "max_speed", "max_height"})
    if "max_speed" not in body and "max_height" not in body:
        raise doc.error(at, "a carry rule needs max_speed and/or max_height")
    obj, rules = _held(doc, at, body), []
    for key, rule_kind, low, high in (("max_speed", CARRY_SPEED, 0.0, 5.0), ("max_height", CARRY_HEIGHT, 0.0, 5.0)):
        if key in body:
            v = expect_number(doc, at + (key,), body[key])
            if not low < v <= high:
                raise doc.error(at + (key,), f"{v} is out of range (must be > {low} and <= {high})")
            rules.append(Rule(rule_kind, label, obj=obj, value=v))
    return rules


# --- concrete checks (the monitor and the replay) -------------------------------------

def support_xy(cell: Any, kind: str, dx: float, dy: float, grow: float) -> bool:
    """Is a released object's centre (dx, dy) from `kind`'s centre over it (its support
    reach, grown by `grow`)? The kinematic backend's rule of "on"/"in" (the cell's supports)."""
    reach = cell.support_reach(kind) + grow
    if kind == "block":
        return abs(dx) <= reach and abs(dy) <= reach
    return dx * dx + dy * dy <= reach * reach


def waypoint_breaks(rules: tuple[Rule, ...], held: str | None, target: tuple, speed: float,
                    position_tol: float, rate_tol: float) -> tuple[Rule, float, str] | None:
    """A commanded move to `target` at `speed` (m/s, the effective one) while holding `held`."""
    for rule in rules:
        if not rule.applies(held):
            continue
        if rule.kind == CARRY_SPEED and speed > rule.value * (1 + rate_tol):
            return rule, speed - rule.value, f"moves {held!r} at {speed:g} m/s"
        if rule.kind == CARRY_HEIGHT and target[2] > rule.value + position_tol:
            return rule, target[2] - rule.value, f"lifts {held!r} to z = {target[2]:.4f}"
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


def end_breaks(cell: Any, rules: tuple[Rule, ...], held: str | None, positions: dict[str, tuple], kinds: dict[str, str],
               position_tol: float) -> tuple[Rule, float, str] | None:
    """The world when the program has run to its end: an `at_end: {empty: X}` rule is broken
    by an object (not held) whose centre is within X's support reach."""
    for rule in rules:
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
                position_tol: float) -> tuple[Rule, float, str] | None:
    """A gripper event: `close` took `held` (None: nothing) as grasp number `grasps`, or an
    opening is about to let `held` go where `positions` say it is."""
    for rule in rules:
        if close and held is not None:
            if rule.kind == NEVER_PICK and rule.obj == held:
                return rule, 0.0, f"the gripper closed on {held!r}"
            if rule.kind == MAX_GRASPS and grasps > rule.value:
                return rule, grasps - rule.value, f"grasp number {grasps} (taking {held!r})"
            if rule.kind == CARRY_HEIGHT and rule.applies(held) and tcp[2] > rule.value + position_tol:
                return rule, tcp[2] - rule.value, f"took {held!r} at z = {tcp[2]:.4f}"
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
