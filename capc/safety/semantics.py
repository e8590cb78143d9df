"""What each tabletop primitive does, for the verifier and for its concrete replay.

`Semantics` answers the executor's robot-API calls against a `WorldState`; the places where
the world is uncertain are abstract methods: the verifier's subclass (capc.safety.verifier)
makes them bounded Z3 unknowns and turns every waypoint into proof obligations, the replay's
subclass (capc.safety.counterexample) reads them from a counterexample and checks waypoints
on floats. Both expand motions with `profile.plan(...)`, the plans the runtime executes.
"""

from __future__ import annotations

from typing import Any

from capc.lazy_numpy import np

from capc.compiler.registry import (
    Grip, KIND_GEOMETRY, KIND_GRIPPER, KIND_MOTION, KIND_OUTPUT, KIND_PERCEPTION, KIND_SUB_LMP,
    Primitive, ROLE_PLACE, ROLE_POINTS, ROLE_POSITION, ROLE_SPEED, Waypoint,
)
from capc.compiler.types import Type
from capc.diagnostics import Span
from capc.safety.symvalues import Abandon, Opaque, PolicyFault, UnknownObject, box, compare, scalar
from capc.safety.world import WorldState
from capc.safety.z3util import conj, is_sym


class Unverifiable(Exception):
    """A motion whose arguments are only known at run time (a sub-LMP's answer of unknown
    shape): it cannot be checked statically; the monitor guards it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Seen:
    """The world as the profile's answers see it here (capc.compiler.registry.Seen): the
    perceived positions of this call's object, arrays boxed for the executor."""

    def __init__(self, xy: dict[str, tuple[Any, Any]], kind):
        self._xy, self.kind = xy, kind

    def xy(self, name: str) -> tuple[Any, Any]:
        return self._xy[name]

    def vector(self, values: list[Any]) -> Any:
        return box(values)


class Semantics:
    def __init__(self, world: WorldState, names: list[str]):
        self.world = world
        self.names = list(names)

    # --- to be provided by the verifier / the replay ---------------------------------

    def perceive(self, index: int, true_xy: tuple[Any, Any]) -> tuple[Any, Any]:
        raise NotImplementedError

    def run_time_value(self, ex, index: int, type_: Type, what: str, span: Span) -> Any:
        raise NotImplementedError

    def waypoint(self, ex, prim: Primitive, span: Span, index: int, step_no: int,
                 step: Waypoint, start: tuple, target: tuple) -> None:
        raise NotImplementedError

    def unverifiable_motion(self, ex, prim: Primitive, span: Span, index: int, reason: str) -> None:
        raise NotImplementedError

    def grip(self, ex, prim: Primitive, span: Span, index: int, step_no: int, step: Grip) -> None:
        """A gripper action against the cell's rules (capc.safety.rules): called after a
        closing gripper took what it takes, and before an opening one lets go."""
        raise NotImplementedError

    def taken(self) -> str | None:
        """What the last closing of the gripper took that it did not hold before (once)."""
        world = self.world
        new = world.grasps > world.grasps_checked
        world.grasps_checked = world.grasps
        return world.held if new else None

    # --- the executor's Oracle protocol ----------------------------------------------

    def undefined(self, ex, name: str, args: list, kwargs: dict, type_: Type, span: Span, index: int) -> Any:
        return self.run_time_value(ex, index, type_, f"{name}(...) (defined only at run time)", span)

    def api(self, ex, prim: Primitive, args: dict[str, Any], span: Span, index: int) -> Any:
        try:
            return self._api(ex, prim, args, span, index)
        except PolicyFault as fault:
            if fault.span is None:
                fault.span = span
            raise

    def _api(self, ex, prim: Primitive, args: dict[str, Any], span: Span, index: int) -> Any:
        name = prim.name
        if prim.kind in (KIND_MOTION, KIND_GRIPPER):
            self._motion(ex, prim, args, span, index)
            return None
        if prim.kind == KIND_OUTPUT:
            return None
        if prim.kind == KIND_SUB_LMP:
            return self.run_time_value(ex, index, prim.result_for(args.get("query")),
                                       f"{name}(...) (answered by a language model at run time)", span)
        if name == "get_obj_names":
            return list(self.names)
        if name == "is_obj_visible":
            return self._object_name(args["obj_name"], span) in self.names
        if name == "get_color":
            return ex.profile.color_of(self._object_name(args["obj_name"], span))
        if name == "get_robot_pos":
            return box(list(self.world.tcp()))
        if name in ("get_obj_pos", "get_bbox"):
            obj = self._object_name(args["obj_name"], span)
            if obj not in self.names:
                raise UnknownObject(obj, f"there is no object named {obj!r} in the scene", span)
            x, y, _ = self.world.true_position(obj)
            seen = _Seen({obj: self.perceive(index, (x, y))}, self.world.kind)
            return ex.profile.answer(name, {"obj_name": obj}, seen)
        if name in ("denormalize_xy", "get_corner_name", "get_side_name"):
            try:
                return self._geometry(ex.profile, name, args, span)
            except Unverifiable as why:
                return Opaque(f"{name}(...) of a point known only at run time ({why.reason})", span)
        if prim.kind in (KIND_PERCEPTION, KIND_GEOMETRY):
            raise Abandon(f"{name}() is not modelled by the verifier", span)
        raise Abandon(f"{name}() of kind {prim.kind} is not modelled by the verifier", span)

    # --- helpers ------------------------------------------------------------------

    def _geometry(self, profile, name: str, args: dict[str, Any], span: Span) -> Any:
        seen = _Seen({}, self.world.kind)
        if name == "denormalize_xy":
            p = self._point(args["pos_normalized"], span, sizes=(2,))
            return profile.answer(name, {"pos_normalized": p}, seen)
        p = self._point(args["pos"], span, sizes=(2,))  # the runtime reads exactly an xy here
        if any(is_sym(v) for v in p):
            return Opaque(f"{name}(...) of a point known only at run time", span)
        return profile.answer(name, {"pos": p}, seen)

    def _object_name(self, value: Any, span: Span) -> str:
        if isinstance(value, Opaque):
            raise Abandon(f"the object name comes from {value.what}", span)
        if not isinstance(value, str):
            raise PolicyFault(f"an object name must be text, got {type(value).__name__}", span)
        return value

    def _point(self, value: Any, span: Span, sizes=(2, 3)) -> tuple:
        if isinstance(value, Opaque):
            raise Unverifiable(f"the point comes from {value.what}")
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise PolicyFault(f"a point must be a flat vector, got shape {value.shape}", span)
            items = [scalar(v) for v in value]
        elif isinstance(value, (list, tuple)):
            items = [scalar(v) for v in value]
        else:
            raise PolicyFault(f"expected a point, got {type(value).__name__}", span)
        if sizes == (2, 3) and len(items) >= 2:
            # the plans' rule (tabletop._point3): three numbers are xyz, otherwise the first two are xy
            items = items if len(items) == 3 else items[:2]
        elif len(items) not in sizes:
            raise PolicyFault(f"a point needs {' or '.join(map(str, sizes))} coordinates, got {len(items)}", span)
        for v in items:
            if isinstance(v, Opaque):
                raise Unverifiable(f"a coordinate comes from {v.what}")
            if isinstance(v, (str, list, tuple, np.ndarray)) or v is None:
                raise PolicyFault("a point's coordinates must be numbers", span)
        return tuple(items)

    def _plan_args(self, prim: Primitive, args: dict[str, Any], span: Span) -> dict[str, Any]:
        out = dict(args)
        for p in prim.params:
            value = args.get(p.name)
            if p.role == ROLE_POSITION:
                out[p.name] = self._point(value, span)
            elif p.role == ROLE_POINTS:
                if isinstance(value, Opaque):
                    raise Unverifiable(f"the trajectory comes from {value.what}")
                if isinstance(value, np.ndarray) and value.ndim != 2:
                    raise PolicyFault(f"a trajectory must be an N x 2 or N x 3 array, got shape {value.shape}", span)
                if not isinstance(value, (np.ndarray, list, tuple)):
                    raise PolicyFault("a trajectory must be a list or array of points", span)
                out[p.name] = [self._point(pt, span) for pt in value]
            elif p.role == ROLE_PLACE:
                if isinstance(value, Opaque):
                    raise Unverifiable(f"the place comes from {value.what}")
                out[p.name] = value if isinstance(value, str) else self._point(value, span)
            elif p.role == ROLE_SPEED and value is not None:
                value = scalar(value)
                if isinstance(value, Opaque):
                    raise Unverifiable(f"the speed comes from {value.what}")
                if isinstance(value, (str, list, tuple, np.ndarray)):
                    raise PolicyFault("speed must be a number", span)
                out[p.name] = value
        return out

    def _within_reach(self, ex, span: Span) -> str | None:
        """The object a closing gripper takes: the nearest grasp point within the grasp
        radius (the kinematic backend's rule), decided per object; where the world leaves it
        open the path forks."""
        world = self.world
        if world.held is not None:
            return None
        tcp = world.tcp()
        reach = ex.profile.cell.grasp_radius ** 2
        names = list(world.positions)
        dist = {n: sum((p - t) * (p - t) for p, t in zip(world.grasp_point(n), tcp)) for n in names}
        world.grasp_edges(dist, reach)
        for n in names:
            conds = [compare("<=", dist[n], reach, span)]
            conds += [compare("<=", dist[n], dist[m], span) for m in names if m != n]
            if ex.branch(conj(conds), span):
                return n
        return None

    def _motion(self, ex, prim: Primitive, args: dict[str, Any], span: Span, index: int) -> None:
        try:
            plan_args = self._plan_args(prim, args, span)
        except Unverifiable as why:
            self.unverifiable_motion(ex, prim, span, index, why.reason)
            return
        steps = ex.profile.plan(prim.name, plan_args, self.world)
        for k, step in enumerate(steps):
            if isinstance(step, Waypoint):
                start = self.world.tcp()
                target = tuple(scalar(v) for v in step.target)
                self.waypoint(ex, prim, span, index, k, step, start, target)
                self.world.move(target)
            elif isinstance(step, Grip):
                if step.close:
                    aimed = plan_args.get("arg1") if prim.name == "put_first_on_second" else None
                    if isinstance(aimed, str) and aimed in self.world.positions:
                        self.world.grasp(aimed)
                    else:
                        self.world.grasp(self._within_reach(ex, span))
                    self.grip(ex, prim, span, index, k, step)
                else:
                    self.grip(ex, prim, span, index, k, step)
                    self.world.release(("release", index, k), placed=prim.name == "put_first_on_second")
                self.world.closed = step.close


