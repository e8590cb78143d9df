"""Task success for the common Code-as-Policies tabletop tasks: a run can say "done".

A policy file declares its task in a header line (a comment, so the policy still compiles):

    # capc-task: block_in_bowl(first block, first bowl)
    # capc-task: stacked(all blocks)
    # capc-task: in_line(all blocks, horizontal)
    # capc-task: in_place("red block", "top left corner")

Syntax (parsed with regular expressions, never evaluated): `task(arg, arg, ...)` where an
argument is
  * a quoted name: `"red block"` or `'blue bowl'` (an object, or a place of CELL.places),
  * a selector resolved against the scene, so one header fits every random scene:
    `first block`, `second bowl`, ..., `last block`, `all blocks`, `all bowls`, `all`
    (= all blocks). Ordinals follow the scene's object order, which is the order
    `get_obj_names()` returns,
  * a direction word: `horizontal` (a row left to right: constant y) or `vertical`
    (constant x).

Tasks and their tolerances (metres, from CELL so they scale with the cell):
  * `block_in_bowl(A, B)`: every block of A lies in bowl B: centre within
    bowl_radius - block_size/2 of the bowl's centre horizontally (the block inside the
    bowl's outline), and above the bowl's floor reference but below its rim.
  * `block_on_block(A, B)`: A rests on B: centre within block_size/2 horizontally (its
    centre of mass over B's top face) and one block_size higher, +- Z_TOLERANCE.
  * `stacked(A)`: the blocks of A form one tower (any order): the lowest rests on the
    table, each next one on the one below it as in block_on_block.
  * `in_place(A, "top left corner")` (aliases `in_corner`, `on_side`): every object of A
    has its centre within PLACE_TOLERANCE of the named place, horizontally.
  * `in_line(A, horizontal|vertical)`: the objects of A stand on the table, their
    off-axis coordinates span at most LINE_SPREAD, and neighbours along the line are at
    least block_size - Z_TOLERANCE apart (a line, not a pile).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from capc import codes
from capc.compiler.profiles import get_profile
from capc.compiler.scene import Scene
from capc.diagnostics import InputError, source_lines

HEADER = re.compile(r"^\s*#\s*capc-task:\s*(?P<task>.*?)\s*$")
CALL = re.compile(r"^(?P<name>[a-z_]+)\s*\((?P<args>.*)\)$")
ARGUMENT = re.compile(r"""\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[A-Za-z][A-Za-z ]*?))\s*(?:,|$)""")
MAX_TASK_CHARS = 500
MAX_ARGUMENTS = 64
ERROR_CODE = codes.E230

Z_TOLERANCE = 0.01                       # height slack of a resting / stacked block
PLACE_TOLERANCE = 0.05                   # "in the corner": within 5 cm of the named point
LINE_SPREAD = 0.03                       # off-axis spread of a line of blocks
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5,
            "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9, "last": -1}
DIRECTIONS = ("horizontal", "vertical")
# The task words are the tabletop's (its blocks, bowls and named places): they read its cell.
CELL = get_profile("tabletop").cell
TASK_FORMS = {
    "block_in_bowl": "block_in_bowl(<blocks>, <bowl>)",
    "block_on_block": "block_on_block(<block>, <block>)",
    "stacked": "stacked(<blocks>)",
    "in_place": "in_place(<objects>, \"<place>\")",
    "in_line": "in_line(<objects>, horizontal|vertical)",
}
ALIASES = {"in_corner": "in_place", "on_side": "in_place", "stack": "stacked"}
ARITY = {"block_in_bowl": 2, "block_on_block": 2, "stacked": 1, "in_place": 2, "in_line": 2}
SYNTAX_HINT = ("write e.g. `# capc-task: block_in_bowl(first block, \"blue bowl\")`; tasks: "
               + ", ".join(TASK_FORMS.values())
               + "; objects: a quoted name, `first|second|...|last block|bowl`, `all blocks`, `all`")


@dataclass(frozen=True)
class Selector:
    """Objects chosen by kind and position in the scene: index None means all of them."""

    kind: str            # "block" | "bowl"
    index: int | None

    def describe(self) -> str:
        if self.index is None:
            return f"all {self.kind}s"
        word = next(w for w, i in ORDINALS.items() if i == self.index)
        return f"{word} {self.kind}"


@dataclass(frozen=True)
class Name:
    text: str            # an object name, or a place name for in_place


@dataclass(frozen=True)
class Direction:
    axis: str            # "horizontal" | "vertical"


Argument = Selector | Name | Direction


@dataclass(frozen=True)
class Task:
    kind: str
    args: tuple[Argument, ...]
    text: str            # as written, for reports

    def to_json(self) -> dict:
        return {"task": self.kind, "text": self.text}


@dataclass(frozen=True)
class TaskResult:
    done: bool
    detail: str

    def to_json(self) -> dict:
        return {"done": self.done, "detail": self.detail}


# --- parsing ------------------------------------------------------------------------------

def parse_task(text: str, file: str | None = None, line: int | None = None) -> Task:
    """Parse `task(arg, ...)`; raises InputError (E230) saying what is wrong."""

    def fail(message: str) -> InputError:
        return InputError(f"task header: {message}", file=file, line=line, code=ERROR_CODE,
                          hint=SYNTAX_HINT)

    text = text.strip()
    if len(text) > MAX_TASK_CHARS:
        raise fail(f"too long ({len(text)} characters, at most {MAX_TASK_CHARS})")
    call = CALL.match(text)
    if call is None:
        raise fail(f"expected `task(arguments)`, got {text[:60]!r}")
    kind = ALIASES.get(call["name"], call["name"])
    if kind not in TASK_FORMS:
        raise fail(f"unknown task {call['name']!r}")
    args = _split_arguments(call["args"], fail)
    if len(args) != ARITY[kind]:
        raise fail(f"{kind} takes {ARITY[kind]} argument(s), got {len(args)}: {TASK_FORMS[kind]}")
    return Task(kind, tuple(args), text)


def _split_arguments(text: str, fail) -> list[Argument]:
    args: list[Argument] = []
    position = 0
    while position < len(text):
        match = ARGUMENT.match(text, position)
        if match is None or match.end() == position:
            raise fail(f"cannot read the argument at {text[position:position + 30]!r}")
        position = match.end()
        if match["bare"] is None:
            args.append(Name(match["dq"] if match["dq"] is not None else match["sq"]))
        else:
            args.append(_bare_argument(match["bare"], fail))
        if len(args) > MAX_ARGUMENTS:
            raise fail(f"more than {MAX_ARGUMENTS} arguments")
    if text.strip() and text.rstrip().endswith(","):
        raise fail("an argument is missing after the last comma")
    return args


def _bare_argument(text: str, fail) -> Argument:
    words = text.split()
    if words == ["all"]:
        return Selector("block", None)
    if len(words) == 1 and words[0] in DIRECTIONS:
        return Direction(words[0])
    if len(words) == 2:
        which, kind = words
        kind = kind[:-1] if which == "all" and kind.endswith("s") else kind
        if kind in ("block", "bowl"):
            if which == "all":
                return Selector(kind, None)
            if which in ORDINALS:
                return Selector(kind, ORDINALS[which])
    raise fail(f"{text!r} is not an object selector (`first block`, `all blocks`, ...), "
               f"a direction (horizontal, vertical) or a quoted name")


def task_from_source(source: str, file: str | None = None) -> Task | None:
    """The task of the first `# capc-task:` line of a policy, or None when it has none."""
    for number, text in enumerate(source_lines(source), start=1):
        header = HEADER.match(text)
        if header is not None:
            return parse_task(header["task"], file=file, line=number)
    return None


# --- checking -----------------------------------------------------------------------------

class _Unresolved(Exception):
    """An argument names nothing in this scene; becomes a failed TaskResult."""


def _objects(arg: Argument, scene: Scene) -> list[str]:
    if isinstance(arg, Name):
        if scene.get(arg.text) is None:
            raise _Unresolved(f"there is no object named {arg.text!r} in the scene")
        return [arg.text]
    if isinstance(arg, Direction):
        raise _Unresolved(f"{arg.axis!r} is a direction, not an object")
    names = [o.name for o in scene.objects if o.kind == arg.kind]
    if arg.index is None:
        return names
    if not -len(names) <= arg.index < len(names):
        raise _Unresolved(f"the scene has no {arg.describe()} ({len(names)} {arg.kind}(s))")
    return [names[arg.index]]


def _single(arg: Argument, scene: Scene, what: str) -> str:
    names = _objects(arg, scene)
    if len(names) != 1:
        raise _Unresolved(f"{what} must be one object, {len(names)} were selected")
    return names[0]


def _position(positions: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    if name not in positions:
        raise _Unresolved(f"no position was reported for {name!r}")
    return np.asarray(positions[name], dtype=float)


def _horizontal(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.hypot(a[0] - b[0], a[1] - b[1]))


def _fmt(point: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in point) + ")"


def check_task(task: Task, positions: Mapping[str, np.ndarray], scene: Scene) -> TaskResult:
    """Whether the final `positions` (object reference points, as backends report them)
    accomplish `task` in `scene`; `detail` says why, in one sentence."""
    try:
        return _CHECKS[task.kind](task.args, positions, scene)
    except _Unresolved as exc:
        return TaskResult(False, str(exc))


def _in_bowl(block: np.ndarray, bowl: np.ndarray) -> str | None:
    """None when `block` lies in `bowl`, else the reason it does not."""
    off = _horizontal(block, bowl)
    reach = CELL.bowl_radius - CELL.block_size / 2
    if off > reach:
        return f"{off:.3f} m from the bowl's centre (at most {reach:.3f})"
    height = block[2] - bowl[2]
    if not 0.0 < height < CELL.bowl_height:
        return f"{height:.3f} m above the bowl's base (inside is 0 to {CELL.bowl_height:.3f})"
    return None


def _on_block(top: np.ndarray, bottom: np.ndarray) -> str | None:
    off = _horizontal(top, bottom)
    if off > CELL.block_size / 2:
        return f"{off:.3f} m off centre (at most {CELL.block_size / 2:.3f})"
    rise = top[2] - bottom[2]
    if abs(rise - CELL.block_size) > Z_TOLERANCE:
        return f"{rise:.3f} m above it (a block's height is {CELL.block_size:.3f})"
    return None


def _on_table(point: np.ndarray, kind: str) -> bool:
    return abs(point[2] - CELL.resting_z(kind)) <= Z_TOLERANCE


def _check_block_in_bowl(args, positions, scene) -> TaskResult:
    blocks = _objects(args[0], scene)
    bowl = _single(args[1], scene, "the bowl")
    if not blocks:
        raise _Unresolved("no blocks were selected")
    bowl_at = _position(positions, bowl)
    for block in blocks:
        why = _in_bowl(_position(positions, block), bowl_at)
        if why is not None:
            return TaskResult(False, f"{block} is not in {bowl}: {why}")
    return TaskResult(True, f"{', '.join(blocks)} in {bowl}")


def _check_block_on_block(args, positions, scene) -> TaskResult:
    top = _single(args[0], scene, "the upper block")
    bottom = _single(args[1], scene, "the lower block")
    why = _on_block(_position(positions, top), _position(positions, bottom))
    if why is not None:
        return TaskResult(False, f"{top} is not on {bottom}: {why}")
    return TaskResult(True, f"{top} on {bottom}")


def _check_stacked(args, positions, scene) -> TaskResult:
    blocks = _objects(args[0], scene)
    if not blocks:
        raise _Unresolved("no blocks were selected")
    tower = sorted(blocks, key=lambda name: _position(positions, name)[2])
    base = _position(positions, tower[0])
    if not _on_table(base, "block"):
        return TaskResult(False, f"the lowest block, {tower[0]}, is not on the table "
                                 f"(centre at {_fmt(base)})")
    for below, above in zip(tower, tower[1:]):
        why = _on_block(_position(positions, above), _position(positions, below))
        if why is not None:
            return TaskResult(False, f"{above} is not on {below}: {why}")
    return TaskResult(True, "one tower, bottom to top: " + ", ".join(tower))


def _check_in_place(args, positions, scene) -> TaskResult:
    objects = _objects(args[0], scene)
    place = args[1]
    if not isinstance(place, Name) or place.text not in CELL.places:
        raise _Unresolved(f"the second argument of in_place must be a quoted place name, one of "
                          + ", ".join(sorted(CELL.places)))
    target = np.array(CELL.places[place.text] + (0.0,))
    for name in objects:
        off = _horizontal(_position(positions, name), target)
        if off > PLACE_TOLERANCE:
            return TaskResult(False, f"{name} is {off:.3f} m from the {place.text} "
                                     f"(at most {PLACE_TOLERANCE:.3f})")
    return TaskResult(True, f"{', '.join(objects)} at the {place.text}")


def _check_in_line(args, positions, scene) -> TaskResult:
    objects = _objects(args[0], scene)
    if not isinstance(args[1], Direction):
        raise _Unresolved("the second argument of in_line must be horizontal or vertical")
    if len(objects) < 2:
        raise _Unresolved(f"a line needs at least two objects, {len(objects)} selected")
    along, across = (0, 1) if args[1].axis == "horizontal" else (1, 0)
    points = {name: _position(positions, name) for name in objects}
    for name, point in points.items():
        kind = scene.get(name).kind
        if not _on_table(point, kind):
            return TaskResult(False, f"{name} is not standing on the table (centre at {_fmt(point)})")
    offsets = [p[across] for p in points.values()]
    spread = max(offsets) - min(offsets)
    if spread > LINE_SPREAD:
        axis = "y" if across == 1 else "x"
        return TaskResult(False, f"not a {args[1].axis} line: {axis} spreads {spread:.3f} m "
                                 f"(at most {LINE_SPREAD:.3f})")
    ordered = sorted(points, key=lambda name: points[name][along])
    for first, second in zip(ordered, ordered[1:]):
        gap = points[second][along] - points[first][along]
        if gap < CELL.block_size - Z_TOLERANCE:
            return TaskResult(False, f"{first} and {second} are only {gap:.3f} m apart along the line")
    return TaskResult(True, f"{args[1].axis} line: " + ", ".join(ordered))


_CHECKS = {
    "block_in_bowl": _check_block_in_bowl,
    "block_on_block": _check_block_on_block,
    "stacked": _check_stacked,
    "in_place": _check_in_place,
    "in_line": _check_in_line,
}
