"""The world the verifier reasons about, and how each robot primitive acts on it.

`WorldState` implements the registry's `World` protocol over values that may be Z3 terms, so
motion plans (capc.compiler.tabletop) run unchanged on it: the verifier checks exactly the
segments the runtime will drive. It tracks the tool centre point, which object the gripper
holds, and where objects are after they were carried:

* a grasp inside `put_first_on_second(name, ...)` takes the named object (the plan descends
  onto its grasp point); a grasp anywhere else (`close_gripper()`, picking at a bare point)
  may take any object, so every object's position becomes unknown until release ("havoc");
* a released object lands under the tool: its xy is the tool's. Released by
  `put_first_on_second` (whose plan lowers it onto its support) it stays at the height it
  was let go; released by a bare `open_gripper()` its height lies anywhere between its
  resting height on the table and the tool's height (it may drop onto whatever is below).

Named places ('top left corner', ...) are resolved from the cell when no object has that
name: their reference point is on the table (z = 0) and they are treated like a bowl (a
block is placed at floor + half a block, picked at half a bowl's height).

Where a value is unknown the state asks its `Unknowns` for one: the verifier's unknowns
are fresh Z3 reals with bounds, the replay's are the counterexample's concrete numbers.
"""

from __future__ import annotations

from typing import Any, Protocol

from capc.compiler.tabletop import CELL, object_kind
from capc.safety.symvalues import PolicyFault
from capc.safety.z3util import sym_max

HAVOC = "<any object>"  # held marker: the gripper may hold any object


class Unknowns(Protocol):
    def perceived(self, key: tuple, true: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]: ...
    def released_z(self, key: tuple, low: Any, high: Any) -> Any: ...
    def havoc_position(self, key: tuple, name: str) -> tuple[Any, Any, Any]: ...


class WorldState:
    def __init__(self, positions: dict[str, tuple[Any, Any, Any]], tcp: tuple[Any, Any, Any],
                 unknowns: Unknowns, kinds: dict[str, str] | None = None):
        self.positions = dict(positions)
        self.kinds = dict(kinds or {})
        self.tcp_now = tuple(tcp)
        self.held: str | None = None
        self.unknowns = unknowns
        self.motion_count = 0      # distinguishes havoc keys across motions
        self.position_queries = 0  # distinguishes the perception errors of plan queries

    # --- the registry's World protocol ---------------------------------------------

    def position(self, name: str) -> tuple[Any, Any, Any]:
        """Where a plan aims for `name`: the runtime plans with PERCEIVED positions (the truth
        plus a fresh error within the tolerance for every query), so this is the true position
        plus such an error."""
        if name in self.positions:
            self.position_queries += 1
            return self.unknowns.perceived(("plan", self.motion_count, self.position_queries),
                                           self.true_position(name))
        if name in CELL.places:
            x, y = CELL.places[name]
            return (x, y, 0.0)
        raise PolicyFault(f"there is no object or place named {name!r} in the scene")

    def true_position(self, name: str) -> tuple[Any, Any, Any]:
        if self.held == name:
            x, y, z = self.tcp_now
            return (x, y, z - CELL.grasp_z(self.kind(name), 0.0))
        if self.held == HAVOC:
            return self.unknowns.havoc_position(("carried", self.motion_count, name), name)
        return self.positions[name]

    def kind(self, name: str) -> str:
        if name in self.kinds:
            return self.kinds[name]
        if name not in self.positions and name in CELL.places:
            return "place"
        return object_kind(name)

    def tcp(self) -> tuple[Any, Any, Any]:
        return self.tcp_now

    def maximum(self, a: Any, b: Any) -> Any:
        return sym_max(a, b)

    # --- state changes ------------------------------------------------------------

    def move(self, target: tuple[Any, Any, Any]) -> None:
        self.tcp_now = tuple(target)
        self.motion_count += 1

    def grasp(self, name: str | None) -> None:
        """`name`: the object the plan aimed at; None when it cannot be known statically."""
        if name is not None and name in self.positions:
            self.held = name
        elif self.positions:
            self.held = HAVOC
        else:
            self.held = None

    def release(self, key: tuple, placed: bool = False) -> None:
        """`placed`: released by a plan that lowered the object onto its support (it stays
        where it was let go); otherwise it may drop anywhere down to the table."""
        if self.held is None:
            return
        x, y, z = self.tcp_now
        if self.held == HAVOC:
            for name in list(self.positions):
                self.positions[name] = self.unknowns.havoc_position(key + (name,), name)
        else:
            name = self.held
            low = CELL.resting_z(self.kind(name))
            high = sym_max(z - CELL.grasp_z(self.kind(name), 0.0), low)
            self.positions[name] = (x, y, high if placed else self.unknowns.released_z(key, low, high))
        self.held = None
