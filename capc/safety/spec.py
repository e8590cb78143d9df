"""The safety spec: the one object that holds every limit.

Read from the limits file (YAML or JSON, every key optional); the defaults come from the
robot profile's cell (the workspace) and from the figures below. The verifier, the runtime
monitor, the motion generator and the simulator all read a `SafetySpec`; none of them keeps
a limit of its own.

```yaml
workspace: {x: [-0.3, 0.3], y: [-0.8, -0.2], z: [0.0, 0.3]}
max_speed: 0.25          # m/s at the tool centre point (ISO 10218 reduced speed)
max_accel: 2.0           # m/s^2
perception_tolerance: 0.01
margin: 0.0005           # covers float rounding and tracking error, see docs/verification.md
keep_out:
  - {name: camera mount, box: {x: [0.2, 0.3], y: [-0.3, -0.2], z: [0.0, 0.3]}}
  - {name: fixture, cylinder: {center: [0.0, -0.5], radius: 0.05, z: [0.0, 0.1]}}
rules:                   # what may be held, carried and put where: capc.safety.rules, docs/rules.md
  - never_pick: knife
```
"""

from __future__ import annotations

from dataclasses import field, replace

from capc.compiler.geometry import Box, Region
from capc.compiler.profiles import get_profile
from capc.files import Document, expect_keys, expect_number, load_document, parse_document
from capc.frozen import frozen
from capc.safety.regions import parse_box, parse_cylinder

DEFAULT_MAX_SPEED = 0.25        # m/s, ISO 10218 reduced speed at the TCP
DEFAULT_MAX_ACCEL = 2.0         # m/s^2
DEFAULT_PERCEPTION_TOLERANCE = 0.01
DEFAULT_MARGIN = 0.0005         # m; rounding + tracking error allowance (docs/verification.md)
DEFAULT_CONTROL_RATE = 240.0    # Hz, PyBullet's default step
MAX_KEEP_OUT_ZONES = 64


@frozen
class KeepOut:
    name: str
    region: Region


@frozen
class SafetySpec:
    workspace: Box
    max_speed: float = DEFAULT_MAX_SPEED
    max_accel: float = DEFAULT_MAX_ACCEL
    perception_tolerance: float = DEFAULT_PERCEPTION_TOLERANCE
    margin: float = DEFAULT_MARGIN
    control_rate: float = DEFAULT_CONTROL_RATE
    keep_out: tuple[KeepOut, ...] = field(default_factory=tuple)
    rules: tuple = field(default_factory=tuple)  # capc.safety.rules.Rule, in the file's order
    source: str = "<defaults>"

    def with_changes(self, **changes) -> "SafetySpec":
        return replace(self, **changes)

    def to_json(self) -> dict:
        zones = []
        for zone in self.keep_out:
            key = "box" if isinstance(zone.region, Box) else "cylinder"
            zones.append({"name": zone.name, key: zone.region.to_json()})
        return {"workspace": self.workspace.to_json(), "max_speed": self.max_speed,
                "max_accel": self.max_accel, "perception_tolerance": self.perception_tolerance,
                "margin": self.margin, "control_rate": self.control_rate, "keep_out": zones,
                "rules": [rule.to_json() for rule in self.rules]}


def default_spec(profile: str = "tabletop") -> SafetySpec:
    return SafetySpec(workspace=get_profile(profile).cell.table_bounds)


def load_spec(path: str | None, profile: str = "tabletop") -> SafetySpec:
    if path is None:
        return default_spec(profile)
    return spec_from_document(load_document(path, "limits"), profile)


def parse_spec(text: str, file: str = "<limits>", profile: str = "tabletop") -> SafetySpec:
    return spec_from_document(parse_document(text, file, "limits"), profile)


def spec_from_document(doc: Document, profile: str = "tabletop") -> SafetySpec:
    keys = {"workspace", "max_speed", "max_accel", "perception_tolerance", "margin",
            "control_rate", "keep_out", "rules"}
    data = expect_keys(doc, (), doc.data, keys)
    spec = default_spec(profile)
    changes: dict = {"source": doc.file}
    if "workspace" in data:
        changes["workspace"] = parse_box(doc, ("workspace",), data["workspace"])
    for key, low, high in (("max_speed", 0.0, 5.0), ("max_accel", 0.0, 50.0),
                           ("perception_tolerance", 0.0, 0.1), ("margin", 0.0, 0.05),
                           ("control_rate", 10.0, 2000.0)):
        if key in data:
            value = expect_number(doc, (key,), data[key])
            strict_low = key in ("max_speed", "max_accel", "control_rate")
            if value > high or value < low or (strict_low and value == low):
                bound = f"> {low}" if strict_low else f">= {low}"
                raise doc.error((key,), f"{value} is out of range (must be {bound} and <= {high})")
            changes[key] = value
    if "keep_out" in data:
        zones = data["keep_out"]
        if not isinstance(zones, list):
            raise doc.error(("keep_out",), "expected a list of zones")
        if len(zones) > MAX_KEEP_OUT_ZONES:
            raise doc.error(("keep_out",), f"too many keep-out zones (at most {MAX_KEEP_OUT_ZONES})")
        changes["keep_out"] = tuple(_zone(doc, ("keep_out", i), z) for i, z in enumerate(zones))
    if "rules" in data:
        from capc.safety.rules import parse_rules  # only a file with rules pays for it

        changes["rules"] = parse_rules(doc, ("rules",), data["rules"])
    return replace(spec, **changes)


def _zone(doc: Document, path, value) -> KeepOut:
    expect_keys(doc, path, value, {"name", "box", "cylinder"}, {"name"})
    name = value["name"]
    if not isinstance(name, str) or not name:
        raise doc.error(path + ("name",), "a keep-out zone needs a name")
    if ("box" in value) == ("cylinder" in value):
        raise doc.error(path, "give exactly one of 'box' or 'cylinder'")
    if "box" in value:
        return KeepOut(name, parse_box(doc, path + ("box",), value["box"]))
    return KeepOut(name, parse_cylinder(doc, path + ("cylinder",), value["cylinder"]))
