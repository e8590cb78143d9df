"""Running a policy on the kinematic backend for the properties, and replaying a
counterexample there exactly as the verifier's model chose it (true positions and camera
errors). The runtime is imported when first used."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from capc.compiler.scene import Scene, make_object
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety.spec import SafetySpec
from capc.testing.harness import STATUS_STOPPED, get_field


def run_kinematic(program, world: Scene, spec: SafetySpec, limits: ResourceLimits = DEFAULT_LIMITS,
                  noise: float = 0.0, seed: int = 0):
    """Run on the kinematic backend with the objects truly at `world`; with `noise`, every
    perception query adds a fresh error (clipped to the tolerance), as a camera would.
    Observed outcomes do not stop it: the properties judge the verifier's claims about the
    monitor, and the kinematic grasp rule (nearest grasp point) may take another object than
    the one `put_first_on_second` names, which the verifier assumes taken (E521 is recorded;
    the properties leave out what follows it: `wrong_grasp_before`)."""
    from capc.runtime.execute import RunConfig, execute

    return execute(program, world, spec, RunConfig(limits=limits, noise=noise, seed=seed, outcome_stops=False))


def stop_of(outcome) -> tuple[int | None, Any] | None:
    """(call index, event) of the command the monitor stopped at, or None if it did not."""
    if get_field(outcome, "status") != STATUS_STOPPED:
        return None
    events = list(get_field(outcome, "monitor_events", ()) or ())
    event = events[0] if events else None
    return get_field(event, "call_index", get_field(event, "index")), event


# The roles of a `put_first_on_second` plan before its grasp (capc.compiler.tabletop): a
# stop at one of them comes before that call's own grasp.
BEFORE_GRASP = ("approach pick", "descend to pick")


def wrong_grasp_before(outcome, call_index: int | None, role: str | None) -> bool:
    """Did the run's grasp take another object than `put_first_on_second` named (E521) before
    the command at (`call_index`, `role`)? The verifier assumes the named object taken and
    says nothing about a run after such a grasp (docs/verification.md, "What remains outside
    the model"); outside the property harness the observer stops the run there
    (`grasp_failed`, docs/runtime.md), so the command is never driven."""
    if call_index is None:
        return False
    from capc import codes

    for event in get_field(outcome, "outcome_events", ()) or ():
        index = get_field(event, "call_index")
        if get_field(event, "code") != codes.E521 or index is None:
            continue
        if index < call_index or (index == call_index and role not in BEFORE_GRASP):
            return True
    return False


def counterexample_world(scene: Scene, cex: dict) -> Scene:
    """The scene with each object where the counterexample puts it."""
    placed = {name: tuple(float(v) for v in pos) for name, pos in (cex.get("objects") or {}).items()}
    objects = []
    for obj in scene.objects:
        pos = placed.get(obj.name, obj.position)
        objects.append(dataclasses.replace(obj, position=tuple(pos) if len(pos) == 3 else
                                           make_object(obj.name, pos).position))
    return Scene(tuple(objects), "<counterexample>")


@dataclass(frozen=True)
class ReplayInputs:
    """What the verifier's model chose for a counterexample, in the runtime's terms."""

    world: Scene                           # true object positions
    perceived: dict[int, tuple]            # get_obj_pos at call index -> the xy the camera gave
    plan_positions: dict[int, tuple]       # n-th object query of a plan (from 1) -> where it aimed
    surface_positions: dict[tuple, tuple]  # (n-th surface a plan asked for, object) -> perceived xyz
    unrealizable: tuple                    # keys of values no backend can be told


def replay_inputs(obligation, scene: Scene, cex: dict) -> ReplayInputs:
    """The true object positions, the perceived xy of each perception call (by call index),
    the perceived positions plans aimed at (in query order), and the keys of values the
    kinematic backend cannot be told (positions of objects "maybe held" after a blind grasp,
    heights of released objects). Read from the obligation's replay data when it has them."""
    replay = get_field(obligation, "replay")
    data = replay.get("data") if isinstance(replay, dict) else None
    positions = getattr(data, "positions", None) or cex.get("objects") or {}
    world = counterexample_world(scene, {"objects": positions})
    answers = getattr(data, "answers", None) or {}
    perceived = {k: tuple(float(c) for c in v[:2]) for k, v in answers.items()
                 if isinstance(k, int) and _numbers(v, 2)}
    plan = {k[-1]: tuple(float(c) for c in v) for k, v in answers.items()
            if isinstance(k, tuple) and k and k[0] == "plan" and _numbers(v, 3)}
    surface = {k[1:]: tuple(float(c) for c in v) for k, v in answers.items()
               if isinstance(k, tuple) and len(k) == 3 and k[0] == "surface" and _numbers(v, 3)}
    unrealizable = tuple(k for k in answers if isinstance(k, tuple) and (not k or k[0] not in ("plan", "surface")))
    return ReplayInputs(world, perceived, plan, surface, unrealizable)


def _numbers(value, n: int) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) >= n
            and all(isinstance(c, (int, float)) for c in value[:n]))


@contextlib.contextmanager
def scripted_perception(inputs: ReplayInputs):
    """During `execute`, make `get_obj_pos` at call index i return `inputs.perceived[i]` and
    the n-th object position plans ask for return `inputs.plan_positions[n]` (the camera
    errors the counterexample chose); everything else sees the truth. Hooks the two places a
    perceived value enters the runtime, and the surfaces plans ask for."""
    from capc.runtime import execute as runtime

    answers_class, world_class = getattr(runtime, "_Answers", None), getattr(runtime, "_World", None)
    original_pos = getattr(answers_class, "_get_obj_pos", None)
    original_world = getattr(world_class, "position", None)
    original_surface = getattr(world_class, "surface_position", None)
    missing = [name for name, hook in (("_Answers._get_obj_pos", original_pos), ("_World.position", original_world),
                                       ("_World.surface_position", original_surface)) if hook is None]
    if missing:
        # Without its hooks a replay would see the true positions and every counterexample
        # that rests on a camera error would quietly stop being checked.
        raise RuntimeError(f"scripted_perception: capc.runtime.execute has no {', '.join(missing)}; "
                           "update the hooks to the runtime's names")
    queries = [0]

    def scripted_pos(self, args, span):
        index = self.call.index
        if index in inputs.perceived:
            self._object(args, span)  # the same error for an unknown name
            return np.array(inputs.perceived[index], dtype=float)
        return original_pos(self, args, span)

    def scripted_world(self, name):
        true = original_world(self, name)
        if not self.run.perception.knows(name):
            return true  # a named place: no camera involved
        queries[0] += 1
        return inputs.plan_positions.get(queries[0], true)

    def scripted_surface(self, name):
        value = inputs.surface_positions.get((self.run.surface_calls, name))
        return value if value is not None else original_surface(self, name)

    answers_class._get_obj_pos, world_class.position = scripted_pos, scripted_world
    world_class.surface_position = scripted_surface
    try:
        yield
    finally:
        answers_class._get_obj_pos, world_class.position = original_pos, original_world
        world_class.surface_position = original_surface
