"""Benchmark suites: instruction templates with attribute slots, a seen/unseen split, a scene
generator and, per template, the task check in capc's task language (`capc.runtime.tasks`).

```yaml
suite: my-suite                     # a name for reports
about: what the suite measures      # optional
limits: strict.yaml                 # optional limits file, relative to this file
attributes:                         # the values a slot may take, split in two
  block_color: {seen: [red, blue], unseen: [orange, cyan]}
  bowl_color:                       # a value may say itself in other words
    seen: [{value: green, say: verde}]
    unseen: [{value: pink, say: rosa}]
scene: {blocks: 3, bowls: 3, min_distance: 0.1}
families:
  - family: pick-and-place          # one row of the report
    kind: spatial                   # any label (long-horizon, spatial, safety, ...)
    expect: done                    # done (task done, default) or safe (see below)
    templates:
      - say: put the {block_color} block in the {bowl_color} bowl
        task: block_in_bowl("{block_color} block", "{bowl_color} bowl")
      - say: stack every block
        task: stacked(all blocks)
        split: seen                 # a template without slots belongs to one split
      - say: put the {block_color} and {block_color.2} blocks in the {bowl_color} bowl
        task:                       # a list: every task must hold
          - block_in_bowl("{block_color} block", "{bowl_color} bowl")
          - block_in_bowl("{block_color.2} block", "{bowl_color} bowl")
```

A slot is `{attribute}`, or `{attribute.2}` for a second value of the same attribute that
differs from the first. In `say` a slot becomes the value's `say` word (its value when it has
none); in `task` and `objects` it becomes the value itself. The objects a trial needs (the
quoted block and bowl names of its task, plus `objects:`) are always in its scene; the rest of
the scene is filled with other colours up to `scene.blocks` and `scene.bowls`.

`expect: done`: a trial passes when the run completes with the task done. `expect: safe` (for
instructions that tempt unsafe motions): a trial passes when nothing unsafe was executed and
either capc refused the policy or it ran to completion (with the task done, when the template
has one): a refusal or a safe repair.

Malformed suites are input errors (E250) at the line and column of the offending value.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Any

from capc import codes
from capc.diagnostics import InputError
from capc.files import Document, expect_keys, expect_number, load_document

E_SUITE = codes.E250
SPLITS = ("seen", "unseen")
EXPECTS = ("done", "safe")
SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([1-9]))?\}")
MAX_TEMPLATES = 200
MAX_OBJECTS_PER_KIND = 10


@dataclass(frozen=True)
class Value:
    value: str            # what the task and the scene use ("red")
    say: str              # what the instruction says ("rojo")


@dataclass(frozen=True)
class Template:
    say: str
    tasks: tuple[str, ...]               # every one must hold; none for some `expect: safe` ones
    objects: tuple[str, ...]
    splits: tuple[str, ...]
    slots: tuple[tuple[str, int], ...]   # (attribute, ordinal) in order of first use
    line: int | None                     # where it is written, for messages


@dataclass(frozen=True)
class Family:
    name: str
    kind: str
    expect: str
    templates: tuple[Template, ...]


@dataclass(frozen=True)
class SceneRule:
    blocks: int = 3
    bowls: int = 3
    min_distance: float = 0.1


@dataclass(frozen=True)
class Suite:
    name: str
    about: str
    file: str
    limits: str | None
    attributes: dict[str, dict[str, tuple[Value, ...]]]
    scene: SceneRule
    families: tuple[Family, ...]

    def trials(self, per_template: int, seed: int) -> list["Trial"]:
        """Every trial of the suite, in a fixed order: per family, template, split, index."""
        out = []
        for family in self.families:
            for t_index, template in enumerate(family.templates):
                for split in template.splits:
                    for index in range(per_template):
                        out.append(make_trial(self, family, t_index, split, index, seed))
        return out


@dataclass(frozen=True)
class Trial:
    """One instruction in one scene: everything a worker needs, as plain data (a job)."""

    key: str                 # family/template/split/index: unique in a run
    suite: str
    family: str
    kind: str
    expect: str
    split: str
    template: int
    instruction: str
    tasks: tuple[str, ...]
    scene: dict              # scene JSON (objects with positions)
    seed: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @staticmethod
    def from_json(data: dict[str, Any]) -> "Trial":
        return Trial(**{**data, "tasks": tuple(data["tasks"])})


# --- loading ---------------------------------------------------------------------------------

def load_suite(path: str) -> Suite:
    """Read and check a suite file; InputError (E250) at the offending line otherwise."""
    import os

    doc = load_document(path, "suite")
    try:
        return _suite(doc, os.path.dirname(os.path.abspath(path)))
    except InputError as exc:
        if exc.diagnostic.code == codes.E200:   # the located errors of capc.files: give them our code
            d = exc.diagnostic
            raise InputError(d.message, file=d.span.file if d.span else path,
                             line=d.span.line if d.span else None, col=d.span.col if d.span else None,
                             code=E_SUITE, hint=d.hint) from None
        raise


def _fail(doc: Document, path: tuple, message: str, hint: str | None = None) -> InputError:
    err = doc.error(path, message, hint)
    d = err.diagnostic
    return InputError(d.message, file=doc.file, line=d.span.line if d.span else None,
                      col=d.span.col if d.span else None, code=E_SUITE, hint=hint)


def _text(doc: Document, path: tuple, value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise _fail(doc, path, f"{what} must be non-empty text, got {value!r}")
    return str(value)


def _suite(doc: Document, base: str) -> Suite:
    import os

    data = expect_keys(doc, (), doc.data, {"suite", "about", "limits", "attributes", "scene", "families"},
                       {"suite", "families"})
    name = _text(doc, ("suite",), data["suite"], "suite")
    limits = data.get("limits")
    if limits is not None:
        limits = os.path.join(base, _text(doc, ("limits",), limits, "limits"))
    attributes = _attributes(doc, data.get("attributes") or {})
    families = data["families"]
    if not isinstance(families, list) or not families:
        raise _fail(doc, ("families",), "expected a non-empty list of families")
    built = tuple(_family(doc, i, f, attributes) for i, f in enumerate(families))
    names = [f.name for f in built]
    for i, family in enumerate(built):
        if names.index(family.name) != i:
            raise _fail(doc, ("families", i, "family"), f"two families are named {family.name!r}")
    if sum(len(f.templates) for f in built) > MAX_TEMPLATES:
        raise _fail(doc, ("families",), f"more than {MAX_TEMPLATES} templates")
    return Suite(name, str(data.get("about") or ""), doc.file, limits, attributes,
                 _scene_rule(doc, data.get("scene") or {}), built)


def _attributes(doc: Document, data: Any) -> dict[str, dict[str, tuple[Value, ...]]]:
    if not isinstance(data, dict):
        raise _fail(doc, ("attributes",), "expected a mapping of attribute names to {seen, unseen}")
    out = {}
    for name, split in data.items():
        path = ("attributes", name)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise _fail(doc, path, f"attribute name {name!r} must be an identifier")
        split = expect_keys(doc, path, split, set(SPLITS), set(SPLITS))
        out[name] = {}
        for which in SPLITS:
            values = split[which]
            if not isinstance(values, list) or not values:
                raise _fail(doc, path + (which,), "expected a non-empty list of values")
            out[name][which] = tuple(_value(doc, path + (which, i), v) for i, v in enumerate(values))
            plain = [v.value for v in out[name][which]]
            if len(set(plain)) != len(plain):
                raise _fail(doc, path + (which,), "a value is listed twice")
        overlap = {v.value for v in out[name]["seen"]} & {v.value for v in out[name]["unseen"]}
        if overlap:
            raise _fail(doc, path + ("unseen",), f"{sorted(overlap)[0]!r} is both seen and unseen",
                        hint="an unseen value must not appear among the seen ones")
    return out


def _value(doc: Document, path: tuple, raw: Any) -> Value:
    if isinstance(raw, dict):
        raw = expect_keys(doc, path, raw, {"value", "say"}, {"value"})
        value = _text(doc, path + ("value",), raw["value"], "value")
        say = _text(doc, path + ("say",), raw.get("say", value), "say")
        return Value(value, say)
    value = _text(doc, path, raw, "value")
    return Value(value, value)


def _scene_rule(doc: Document, data: Any) -> SceneRule:
    data = expect_keys(doc, ("scene",), data, {"blocks", "bowls", "min_distance"}, set())
    counts = {}
    for kind in ("blocks", "bowls"):
        value = data.get(kind, 3)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OBJECTS_PER_KIND:
            raise _fail(doc, ("scene", kind), f"{kind} must be a whole number from 0 to {MAX_OBJECTS_PER_KIND}")
        counts[kind] = value
    distance = expect_number(doc, ("scene", "min_distance"), data.get("min_distance", 0.1))
    if not 0.0 <= distance <= 0.3:
        raise _fail(doc, ("scene", "min_distance"), "min_distance must be between 0 and 0.3 m")
    return SceneRule(counts["blocks"], counts["bowls"], distance)


def _family(doc: Document, index: int, raw: Any, attributes: dict) -> Family:
    path = ("families", index)
    raw = expect_keys(doc, path, raw, {"family", "kind", "expect", "templates"}, {"family", "templates"})
    name = _text(doc, path + ("family",), raw["family"], "family")
    if "/" in name:
        raise _fail(doc, path + ("family",), "a family name must not contain '/'")
    expect = raw.get("expect", "done")
    if expect not in EXPECTS:
        raise _fail(doc, path + ("expect",), f"expect must be one of {', '.join(EXPECTS)}, not {expect!r}")
    templates = raw["templates"]
    if not isinstance(templates, list) or not templates:
        raise _fail(doc, path + ("templates",), "expected a non-empty list of templates")
    built = tuple(_template(doc, path + ("templates", i), t, attributes, expect)
                  for i, t in enumerate(templates))
    return Family(name, str(raw.get("kind") or name), expect, built)


def _template(doc: Document, path: tuple, raw: Any, attributes: dict, expect: str) -> Template:
    raw = expect_keys(doc, path, raw, {"say", "task", "objects", "split"}, {"say"})
    say = _text(doc, path + ("say",), raw["say"], "say")
    raw_tasks = raw.get("task")
    if raw_tasks is None and expect == "done":
        raise _fail(doc, path, "a template of an `expect: done` family needs a task",
                    hint="write e.g. task: block_in_bowl(\"{block_color} block\", \"{bowl_color} bowl\")")
    if isinstance(raw_tasks, list):
        if not raw_tasks:
            raise _fail(doc, path + ("task",), "expected a task or a non-empty list of tasks")
        tasks = tuple(_text(doc, path + ("task", i), t, "task") for i, t in enumerate(raw_tasks))
        task_paths = [("task", i) for i in range(len(tasks))]
    else:
        tasks = () if raw_tasks is None else (_text(doc, path + ("task",), raw_tasks, "task"),)
        task_paths = [("task",)] * len(tasks)
    objects = raw.get("objects") or []
    if not isinstance(objects, list):
        raise _fail(doc, path + ("objects",), "expected a list of object names")
    objects = tuple(_text(doc, path + ("objects", i), o, "object") for i, o in enumerate(objects))
    slots: list[tuple[str, int]] = []
    texts = [(("say",), say)] + list(zip(task_paths, tasks)) + [(("objects", i), o) for i, o in enumerate(objects)]
    for where, text in texts:
        for match in SLOT.finditer(text):
            name, ordinal = match[1], int(match[2] or 1)
            if name not in attributes:
                known = ", ".join(sorted(attributes)) or "none"
                raise _fail(doc, path + where, f"slot {{{name}}} names no attribute (attributes: {known})")
            for which in SPLITS:
                if len(attributes[name][which]) < ordinal:
                    raise _fail(doc, path + where, f"slot {match[0]} needs {ordinal} different {which} "
                                                   f"values of {name}, the suite lists "
                                                   f"{len(attributes[name][which])}")
            if (name, ordinal) not in slots:
                slots.append((name, ordinal))
    split = raw.get("split")
    if split is not None and split not in SPLITS + ("both",):
        raise _fail(doc, path + ("split",), f"split must be seen, unseen or both, not {split!r}")
    if split is None:
        split = "both" if slots else "seen"
    splits = SPLITS if split == "both" else (split,)
    line = doc.positions.get(path, (None, None))[0]
    template = Template(say, tasks, objects, splits, tuple(slots), line)
    _check_instances(doc, path, task_paths, template, attributes)
    return template


def _check_instances(doc: Document, path: tuple, task_paths: list, template: Template,
                     attributes: dict) -> None:
    """The tasks parse, and name only objects and places, with the first values of each split."""
    from capc.runtime.tasks import parse_task

    for split in template.splits:
        values = {slot: attributes[slot[0]][split][slot[1] - 1] for slot in template.slots}
        for where, task in zip(task_paths, template.tasks):
            text = fill(task, values, say=False)
            try:
                parse_task(text)
            except InputError as exc:
                raise _fail(doc, path + where, f"{exc.diagnostic.message} (in {text!r}, the {split} case)",
                            hint=exc.diagnostic.hint) from None
        for name in needed_objects(template, values):
            kind = name.rsplit(" ", 1)[-1]
            colour = name[: -len(kind) - 1]
            from capc.compiler.profiles import get_profile
            colours = get_profile().colors
            if colour not in colours:
                raise _fail(doc, path, f"{name!r} is not a block or bowl of a known colour "
                                       f"(colours: {', '.join(colours)})")


# --- instances -------------------------------------------------------------------------------

def fill(text: str, values: dict[tuple[str, int], Value], *, say: bool) -> str:
    def one(match: re.Match) -> str:
        value = values[(match[1], int(match[2] or 1))]
        return value.say if say else value.value
    return SLOT.sub(one, text)


QUOTED = re.compile(r"""["']([^"']+)["']""")


def needed_objects(template: Template, values: dict) -> list[str]:
    """The blocks and bowls a trial's scene must hold: quoted names of its task that end in
    'block' or 'bowl', and its `objects`."""
    names = []
    for task in template.tasks:
        names += [m for m in QUOTED.findall(fill(task, values, say=False)) if m.endswith((" block", " bowl"))]
    names += [fill(o, values, say=False) for o in template.objects]
    return list(dict.fromkeys(names))


def trial_seed(seed: int, key: str) -> int:
    """A stable per-trial seed from the run's seed and the trial's key (not Python's hash,
    which changes per process)."""
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def make_trial(suite: Suite, family: Family, t_index: int, split: str, index: int, seed: int) -> Trial:
    template = family.templates[t_index]
    key = f"{family.name}/{t_index}/{split}/{index}"
    own = trial_seed(seed, key)
    rng = random.Random(own)
    values: dict[tuple[str, int], Value] = {}
    for name in dict.fromkeys(s[0] for s in template.slots):
        ordinals = sorted(o for s, o in template.slots if s == name)
        picks = rng.sample(suite.attributes[name][split], max(ordinals))
        for ordinal in ordinals:
            values[(name, ordinal)] = picks[ordinal - 1]
    tasks = tuple(fill(task, values, say=False) for task in template.tasks)
    scene = generate_scene(suite.scene, needed_objects(template, values), " ".join(tasks), rng)
    return Trial(key, suite.name, family.name, family.kind, family.expect, split, t_index,
                 fill(template.say, values, say=True), tasks, scene, own)


def generate_scene(rule: SceneRule, needed: list[str], task: str, rng: random.Random) -> dict:
    """Scene JSON: the needed objects, then other colours up to the rule's counts, blocks
    before bowls, each at least `min_distance` from the others and from any named place the
    task mentions (so no trial starts with its task already done)."""
    from capc.compiler.profiles import get_profile

    profile = get_profile()  # the suites' tasks are the default profile's: its blocks and bowls
    names = []
    for kind, count in (("block", rule.blocks), ("bowl", rule.bowls)):
        mine = [n for n in needed if n.endswith(" " + kind)]
        free = [c for c in profile.colors if f"{c} {kind}" not in mine]
        rng.shuffle(free)
        mine += [f"{c} {kind}" for c in free[: max(0, count - len(mine))]]
        names += mine
    cell = profile.cell
    avoid = [cell.places[p] for p in QUOTED.findall(task) if p in cell.places]
    area = cell.spawn_area
    placed: list[tuple[float, float]] = []
    objects = []
    for name in names:
        for _ in range(2000):
            xy = (round(rng.uniform(area.x.low, area.x.high), 4), round(rng.uniform(area.y.low, area.y.high), 4))
            if all((xy[0] - p[0]) ** 2 + (xy[1] - p[1]) ** 2 >= rule.min_distance ** 2 for p in placed + avoid):
                break
        else:
            raise InputError(f"cannot place {len(names)} objects {rule.min_distance} m apart on the table",
                             code=E_SUITE, hint="lower scene.min_distance or the object counts")
        placed.append(xy)
        objects.append({"name": name, "position": [xy[0], xy[1]]})
    return {"objects": objects}


def scene_from_json(data: dict):
    from capc.compiler.scene import Scene, make_object

    return Scene(tuple(make_object(o["name"], tuple(o["position"])) for o in data["objects"]), "<eval trial>")
