"""Session state: the variables of earlier queries, as Code as Policies' interactive session
keeps them (`left_block_name`, `triangle_pts` of one instruction used by the next).

After a policy runs, `Variables.record` keeps its top-level variables whose values can be
written as constants (numbers, text, lists/tuples/dicts of those, numpy arrays, 2-D shapely
geometries); `Variables.prelude()` writes them as assignments, which the front end compiles
before the next policy (`compile_source(..., session=...)`). So the next policy type-checks
against their types, the verifier knows their values exactly, and the run starts with them.
A value that cannot be written so (a function, a huge array, a non-finite number) is left
out: a policy that reads it gets the ordinary "name is not defined" error. The world moves
on too: the next instruction is verified where the run left the objects (`moved`).
"""

from __future__ import annotations

import keyword
import math
from typing import Any, Mapping

MAX_ELEMENTS = 10_000  # a kept value larger than this is left out (the prelude is compiled each time)


def literal(value: Any, budget: list[int] | None = None) -> str | None:
    """Source text that evaluates to `value` in a policy, or None."""
    budget = budget if budget is not None else [MAX_ELEMENTS]
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return repr(str(value))
    kind = type(value).__module__
    if kind == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf" or value.size > budget[0]:
                return None
            budget[0] -= value.size
            if not np.all(np.isfinite(value)):
                return None
            return f"np.array({value.tolist()!r})"
        if isinstance(value, np.generic):
            return literal(value.item(), budget)
        return None
    if kind.startswith("shapely."):
        return _geometry(value)
    if isinstance(value, (list, tuple)):
        parts = [literal(v, budget) for v in value]
        if any(p is None for p in parts):
            return None
        if isinstance(value, tuple):
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, dict):
        items = [(literal(k, budget), literal(v, budget)) for k, v in value.items()]
        if any(k is None or v is None for k, v in items):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    return None


def _geometry(value: Any) -> str | None:
    name = type(value).__name__
    if value.is_empty or value.has_z:
        return None

    def pts(coords) -> str:
        return repr([[float(x), float(y)] for x, y in coords])

    if name in ("Point", "LineString", "LinearRing"):
        coords = list(value.coords)
        return f"Point({float(coords[0][0])!r}, {float(coords[0][1])!r})" if name == "Point" else f"{name}({pts(coords)})"
    if name == "Polygon" and not value.interiors:
        return f"Polygon({pts(value.exterior.coords)})"
    if name == "MultiPoint":
        return f"MultiPoint({pts(g.coords[0] for g in value.geoms)})"
    return None


class Variables:
    """What the next policy of a session starts with."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}  # name -> source text of its value

    def record(self, variables: Mapping[str, Any]) -> None:
        """Keep the variables a run ended with (a later value replaces an earlier one)."""
        for name, value in variables.items():
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                continue
            text = literal(value)
            if text is None:
                self.values.pop(name, None)
            else:
                self.values[name] = text

    def prelude(self) -> str:
        return "".join(f"{name} = {text}\n" for name, text in self.values.items())

    def names(self) -> list[str]:
        return list(self.values)

    def copy(self) -> "Variables":
        other = Variables()
        other.values = dict(self.values)
        return other


def moved(scene: Any, positions: Mapping[str, Any] | None) -> Any:
    """The scene after a run: each object where the run reported it at the end."""
    from capc.compiler.scene import Scene, make_object
    if not positions:
        return scene
    return Scene(tuple(make_object(o.name, tuple(positions.get(o.name, o.position))) for o in scene.objects),
                 scene.source)
