"""Scene files: which objects are on the table and where the robot perceives them.

```yaml
objects:
  - {name: red block, position: [0.10, -0.50, 0.02]}   # z optional: resting height by kind
  - {name: blue bowl, position: [-0.10, -0.60]}
```

Object names are data, never code: any printable text is accepted as a name (a hostile
scene may name a block `x'); import os; ('` and it must reach the policy only as a string).
"""

from __future__ import annotations

import random

from capc.compiler.profiles import get_profile
from capc.compiler.registry import RobotProfile
from capc.files import Document, expect_keys, expect_number, load_document, parse_document
from capc.frozen import frozen

MAX_OBJECTS = 64
MAX_NAME_LENGTH = 120


@frozen
class SceneObject:
    name: str
    position: tuple[float, float, float]
    kind: str    # one of the profile's kinds ("block" | "bowl" on the tabletop)
    color: str   # one of the profile's colours, or "gray" when the name does not say

    @property
    def xy(self) -> tuple[float, float]:
        return (self.position[0], self.position[1])


@frozen
class Scene:
    objects: tuple[SceneObject, ...]
    source: str = "<default>"

    def names(self) -> list[str]:
        return [o.name for o in self.objects]

    def get(self, name: str) -> SceneObject | None:
        return next((o for o in self.objects if o.name == name), None)

    def to_json(self) -> dict:
        return {"objects": [{"name": o.name, "position": list(o.position)} for o in self.objects]}


def make_object(name: str, position: tuple[float, ...], profile: RobotProfile | None = None) -> SceneObject:
    """An object of `profile` (None: the default profile): its kind and colour read from its
    name, an xy position put at the kind's resting height."""
    profile = profile or get_profile()
    kind = profile.object_kind(name)
    if len(position) == 2:
        position = (position[0], position[1], profile.cell.resting_z(kind))
    return SceneObject(name, tuple(float(v) for v in position), kind, profile.color_of(name))


def load_scene(path: str, profile: RobotProfile | None = None) -> Scene:
    return scene_from_document(load_document(path, "scene"), profile)


def parse_scene(text: str, file: str = "<scene>", profile: RobotProfile | None = None) -> Scene:
    return scene_from_document(parse_document(text, file, "scene"), profile)


def scene_from_document(doc: Document, profile: RobotProfile | None = None) -> Scene:
    data = expect_keys(doc, (), doc.data, {"objects"}, {"objects"})
    items = data["objects"]
    if not isinstance(items, list):
        raise doc.error(("objects",), "expected a list of objects")
    if len(items) > MAX_OBJECTS:
        raise doc.error(("objects",), f"too many objects ({len(items)}, at most {MAX_OBJECTS})")
    profile = profile or get_profile()
    table = profile.cell.table_bounds
    seen: set[str] = set()
    objects = []
    for i, item in enumerate(items):
        path = ("objects", i)
        expect_keys(doc, path, item, {"name", "position"}, {"name", "position"})
        name = item["name"]
        if not isinstance(name, str) or not name.strip():
            raise doc.error(path + ("name",), "an object name must be non-empty text")
        if len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise doc.error(path + ("name",), f"object name must be printable and at most "
                                              f"{MAX_NAME_LENGTH} characters")
        if name in seen:
            raise doc.error(path + ("name",), f"two objects are named '{name}'")
        seen.add(name)
        pos = item["position"]
        if not isinstance(pos, list) or len(pos) not in (2, 3):
            raise doc.error(path + ("position",), "position must be [x, y] or [x, y, z] in metres")
        coords = tuple(expect_number(doc, path + ("position", j), v) for j, v in enumerate(pos))
        if not (table.x.contains(coords[0]) and table.y.contains(coords[1])):
            raise doc.error(path + ("position",),
                            f"({coords[0]}, {coords[1]}) is off the table",
                            hint=f"the table spans x in [{table.x.low}, {table.x.high}], "
                                 f"y in [{table.y.low}, {table.y.high}]")
        objects.append(make_object(name, coords, profile))
    return Scene(tuple(objects), doc.file)


def random_scene(seed: int, n_blocks: int = 3, n_bowls: int = 3, min_distance: float = 0.1) -> Scene:
    """A CaP-style random scene: distinct colours, objects at least `min_distance` apart
    inside the spawn area. Deterministic for a seed."""
    rng = random.Random(seed)
    profile = get_profile()
    area = profile.cell.spawn_area
    colors = list(profile.colors)
    block_colors = rng.sample(colors, n_blocks)
    bowl_colors = rng.sample(colors, n_bowls)
    names = [f"{c} block" for c in block_colors] + [f"{c} bowl" for c in bowl_colors]
    placed: list[tuple[float, float]] = []
    objects = []
    for name in names:
        for _ in range(1000):
            xy = (rng.uniform(area.x.low, area.x.high), rng.uniform(area.y.low, area.y.high))
            if all((xy[0] - p[0]) ** 2 + (xy[1] - p[1]) ** 2 >= min_distance ** 2 for p in placed):
                break
        else:
            raise ValueError(f"cannot place {len(names)} objects {min_distance} m apart")
        placed.append(xy)
        objects.append(make_object(name, (round(xy[0], 4), round(xy[1], 4))))
    return Scene(tuple(objects), f"<random seed={seed}>")
