"""The prompts capc sends to a model, in the Code-as-Policies manner.

Every prompt is a chat: a system message with the rules, the robot API, the cell and the
safety limits; then few-shot turns (the user turn is the context `objects = [...]` and the
instruction as a comment, the assistant turn is code); then, for the shell, the session's
earlier instructions and their checked policies; then the new instruction.

Two rules hold everywhere:

* The API section is generated from the registry (`get_profile(...).primitives`) at the time
  the prompt is built, never written by hand, so the prompt and the checker cannot drift.
* Object names and instructions are data. Names are embedded as Python literals (`repr`),
  instructions and queries as JSON strings with every line break and non-printable character
  escaped (`quote_text`), so a name like ``x'); import os; ('`` or an instruction holding a
  newline and ``# query:`` cannot add a line to the prompt. Other text (any language, emoji)
  passes through untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Sequence

from capc.compiler.profiles import get_profile
from capc.compiler.registry import KIND_SUB_LMP, RobotProfile
from capc.prompts.fewshot import Example
from capc.prompts.provider import Request

LMP_POLICY = "policy"
LMP_FUNCTION = "function"
SUB_LMPS = ("parse_obj_name", "parse_position", "parse_question", "transform_shape_pts")
STOP = ("\nobjects = [", "\n# query:")


def quote_text(text: str) -> str:
    """A JSON string literal of `text` that is exactly one printable line: line breaks of every
    kind and non-printable characters are escaped; everything else is kept as written."""
    out = []
    for ch in json.dumps(text, ensure_ascii=False)[1:-1]:
        if ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else
                       "".join(f"\\u{unit:04x}" for unit in _surrogates(ord(ch))))
    return '"' + "".join(out) + '"'


def _surrogates(code: int) -> tuple[int, int]:
    code -= 0x10000
    return 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)


def objects_literal(names: Sequence[str]) -> str:
    """`['red block', ...]` with every name a Python string literal (repr escapes quotes,
    line breaks and non-printable characters)."""
    return "[" + ", ".join(repr(str(n)) for n in names) + "]"


@dataclass(frozen=True)
class Prompt:
    lmp: str                             # "policy", "function" or a sub-LMP name
    query: str                           # the instruction / description / function name
    messages: tuple[tuple[str, str], ...]
    stop: tuple[str, ...] = STOP

    def request(self, model: str, *, attempt: int = 0, temperature: float = 0.0,
                max_tokens: int | None = None) -> Request:
        return Request(model, self.messages, temperature, self.stop, max_tokens,
                       meta={"lmp": self.lmp, "query": self.query, "attempt": attempt})

    def with_turns(self, turns: Iterable[tuple[str, str]]) -> "Prompt":
        return Prompt(self.lmp, self.query, self.messages + tuple(turns), self.stop)

    def text(self) -> str:
        return "\n\n".join(f"[{role}]\n{content}" for role, content in self.messages)


# --- the system message ------------------------------------------------------------------

def _profile(profile: RobotProfile | str) -> RobotProfile:
    return get_profile(profile) if isinstance(profile, str) else profile


def api_section(profile: RobotProfile | str = "tabletop") -> str:
    """One entry per primitive of the profile, from its registry declaration."""
    prof = _profile(profile)
    lines = [f"# Robot API ({prof.name}). These functions exist; nothing else of the robot does."]
    for prim in prof.primitives:
        lines.append(f"# {prim.signature()} -> {prim.returns.show()}")
        lines.append(f"#     {prim.doc}")
        for param in prim.params:
            about = f"{param.type.show()}" + (f"; {param.doc}" if param.doc else "")
            lines.append(f"#     {param.name}: {about}")
        if prim.example:
            lines.append(f"#     e.g. {prim.example}")
    return "\n".join(lines)


def library_section() -> str:
    """The numpy functions, builtins and methods the checker allows (from its allow-lists)."""
    from capc.compiler import library

    def names(table) -> str:
        return ", ".join(sorted(str(k) for k in table))

    lines = ["# Besides the API: numpy as `np` (already imported; do not import anything) with",
             "#     np." + ", np.".join(sorted(str(k) for k in library.NUMPY_FUNCTIONS)),
             "# and the builtins " + names(library.BUILTINS) + "."]
    methods = getattr(library, "METHODS", {})
    if methods:
        lines.append("# Methods: " + "; ".join(
            f"{receiver}: {names(table)}" for receiver, table in sorted(methods.items(), key=lambda kv: str(kv[0]))))
    from capc.compiler import lib_shapely

    lines.append("# shapely geometry (2-D; already imported, as `from shapely.geometry import *` and "
                 "`from shapely.affinity import *`): " + names(lib_shapely.GEOMETRY_FUNCTIONS)
                 + "; their methods " + names(n for n, f in lib_shapely.GEOMETRY_METHODS.items() if not f.attribute)
                 + " and attributes ." + ", .".join(lib_shapely.GEOMETRY_PROPERTIES) + ".")
    return "\n".join(lines)


def cell_section(profile: RobotProfile | str = "tabletop", spec=None) -> str:
    """The frame, named places and the safety limits every motion is checked against."""
    prof = _profile(profile)
    cell = prof.cell
    lines = ["# The cell: metres, robot base at the origin, table top at z = 0; 'top' is +y, 'left' is -x."]
    if cell is not None and getattr(cell, "places", None):
        lines.append("# Named places (xy): " + ", ".join(
            f"{name} = [{x:g}, {y:g}]" for name, (x, y) in cell.places.items()))
    if spec is not None:
        w = spec.workspace
        lines.append(f"# Checked before anything moves: the gripper stays in x [{w.x.low:g}, {w.x.high:g}], "
                     f"y [{w.y.low:g}, {w.y.high:g}], z [{w.z.low:g}, {w.z.high:g}]; "
                     f"speed at most {spec.max_speed:g} m/s.")
        for zone in spec.keep_out:
            shape = ", ".join(f"{k} {v}" for k, v in zone.region.to_json().items())
            lines.append(f"# Keep out of {zone.name!r} (no motion may pass through it): {shape}")
        lines.append(f"# A target computed from object positions must stay inside these limits wherever the "
                     f"objects stand (each within {spec.perception_tolerance:g} m of where it is seen): clip "
                     f"it (np.clip) onto the table, or check it and say() why the robot does not move. A "
                     f"program with a motion that can break a limit is rejected and nothing of it runs.")
    return "\n".join(lines)


_RULES = {
    LMP_POLICY: ("You write robot policies as short Python programs in the style of Code as Policies. "
                 "Each user turn gives the objects on the table and an instruction as a quoted comment; "
                 "answer with the policy code only: no prose, no markdown, no imports, no function "
                 "definitions. You may call a helper function that does not exist yet if its name says "
                 "what it does; it will be written for you."),
    LMP_FUNCTION: ("You write one Python function definition that a robot policy calls. Answer with the "
                   "`def` only: no prose, no markdown, no imports. The function may use the robot API "
                   "and numpy, and may call other helpers that do not exist yet."),
    "parse_obj_name": ("You answer a description of objects with code that sets `ret_val` to the matching "
                       "object name, or a list of names when the description is plural."),
    "parse_position": ("You answer a description of a place with code that sets `ret_val` to an xy numpy array, "
                       "or, when the description asks for several points (the corners, a line with N "
                       "points, a triangle), to an N x 2 numpy array of them, in order."),
    "parse_question": "You answer a question about the table with code that sets `ret_val` to the answer as text.",
    "transform_shape_pts": ("You answer a geometric transformation of the N x 2 array `shape_pts` (or of the "
                            "points the context names) with code that sets `ret_val` to the transformed points."),
}
_SUB_LMP_TAIL = (" `objects` holds the names of the objects on the table. Answer with code only: no prose, "
                 "no markdown, no imports, no function definitions, no motion.")


def system_message(lmp: str, profile: RobotProfile | str = "tabletop", spec=None) -> str:
    rules = _RULES[lmp] + (_SUB_LMP_TAIL if lmp in SUB_LMPS else "")
    parts = [rules, api_section(profile)]
    try:
        parts.append(library_section())
    except ImportError:  # the front end's allow-lists are not installed: the API still holds
        pass
    parts.append(cell_section(profile, spec))
    return "\n\n".join(parts)


# --- the user turns --------------------------------------------------------------------

def user_turn(objects: Sequence[str], query: str, *, given: Sequence[str] = (), call: str = "",
              define: str = "") -> str:
    lines = [f"objects = {objects_literal(objects)}"]
    if define:
        lines.append(f"# define function: {define}")
        if call:
            lines.append(f"# called as: {quote_text(call)}")
    else:
        lines.append(f"# query: {quote_text(query)}")
    given = [name for name in given if name != "objects"]   # the first line always gives it
    if given:
        lines.append("# given: " + ", ".join(given))
    return "\n".join(lines)


def _example_turns(examples: Iterable[Example], function: bool = False) -> list[tuple[str, str]]:
    turns = []
    for ex in examples:
        if function:
            turns.append(("user", user_turn(ex.objects, ex.query, call=ex.call, define=ex.query)))
        else:
            turns.append(("user", user_turn(ex.objects, ex.query, given=ex.given)))
        turns.append(("assistant", ex.code))
    return turns


def _examples(lmp: str) -> tuple[Example, ...]:
    import importlib
    return importlib.import_module(f"capc.prompts.fewshot.{lmp}").EXAMPLES


def policy_prompt(instruction: str, objects: Sequence[str], *, profile: RobotProfile | str = "tabletop",
                  spec=None, history: Sequence[tuple[str, str]] = ()) -> Prompt:
    """The top-level prompt. `history`: (instruction, accepted policy) of earlier shell turns."""
    messages = [("system", system_message(LMP_POLICY, profile, spec))]
    messages += _example_turns(_examples(LMP_POLICY))
    for earlier, code in history:
        messages += [("user", user_turn(objects, earlier)), ("assistant", code)]
    messages.append(("user", user_turn(objects, instruction)))
    return Prompt(LMP_POLICY, instruction, tuple(messages))


def sub_lmp_prompt(name: str, query: str, objects: Sequence[str], *, given: Sequence[str] = (),
                   profile: RobotProfile | str = "tabletop", spec=None) -> Prompt:
    prof = _profile(profile)
    prim = prof.primitive(name)
    if prim is None or prim.kind != KIND_SUB_LMP:
        raise KeyError(f"{name} is not a sub-LMP of the {prof.name} profile")
    messages = [("system", system_message(name, prof, spec))]
    messages += _example_turns(_examples(name))
    messages.append(("user", user_turn(objects, query, given=given)))
    return Prompt(name, query, tuple(messages))


def function_prompt(signature: str, call: str, objects: Sequence[str], *,
                    profile: RobotProfile | str = "tabletop", spec=None) -> Prompt:
    """Ask for the definition of a missing function. `signature` is what the caller implies
    (`make_circle(radius, center, n)`), `call` the caller's source line."""
    messages = [("system", system_message(LMP_FUNCTION, profile, spec))]
    messages += _example_turns(_examples(LMP_FUNCTION), function=True)
    messages.append(("user", user_turn(objects, signature, call=call, define=signature)))
    return Prompt(LMP_FUNCTION, signature, tuple(messages))


def prompt_for(lmp: str, query: str, objects: Sequence[str], **options) -> Prompt:
    if lmp == LMP_POLICY:
        return policy_prompt(query, objects, **options)
    if lmp == LMP_FUNCTION:
        return function_prompt(query, options.pop("call", ""), objects, **options)
    return sub_lmp_prompt(lmp, query, objects, **options)
