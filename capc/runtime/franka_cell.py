"""The cell file of a Franka installation: what capc must be told about a real robot.

capc plans in its table frame (CaP's: metres, table top at z = 0, the table at negative y);
a Franka reports and takes poses in its base frame. The cell file states the transform
between them and the rest of what an installation decides (docs/robots.md):

```yaml
base: {position: [0.0, 0.0, 0.0], yaw: -90}   # the robot base in capc's table frame (m, degrees)
tool: {quaternion: [1.0, 0.0, 0.0, 0.0]}     # TCP orientation in the base frame (x, y, z, w)
control_rate: 100                            # Hz of capc's set-point stream, 50..125
dynamics: {velocity: 0.2, acceleration: 0.2, jerk: 0.2}  # franky's relative dynamics factors
stiffness: {translational: 3000, rotational: 300}        # the tracking controller (N/m, Nm/rad)
gripper: {open_width: 0.07, speed: 0.05, force: 20, min_held_width: 0.01}
start_tolerance: 0.01                        # m: the arm must already be this near capc's home
settle_tolerance: 0.003                      # m: the arm is "there" before the gripper moves
realtime_kernel: true                        # refuse to run without a PREEMPT_RT kernel
stream_priority: 10                          # SCHED_RR priority of capc's stream during a run (0: none)
```

Every key is checked with the file's line and column, like the scene and limits files.
Nothing here is imported on the `capc check` path.
"""

from __future__ import annotations

import math

from capc.files import Document, expect_keys, expect_number, load_document, parse_document
from capc.frozen import frozen

MIN_RATE, MAX_RATE = 50.0, 125.0   # Hz; franky streams at 1 kHz below us, Python above 125 Hz jitters


@frozen
class FrankaCell:
    base_position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    base_yaw: float = -90.0                      # degrees about the table's z axis
    tool_quaternion: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    control_rate: float = 100.0
    dynamics: tuple[float, float, float] = (0.2, 0.2, 0.2)   # velocity, acceleration, jerk
    translational_stiffness: float = 3000.0
    rotational_stiffness: float = 300.0
    open_width: float = 0.07
    grasp_speed: float = 0.05
    grasp_force: float = 20.0
    min_held_width: float = 0.01
    start_tolerance: float = 0.01
    settle_tolerance: float = 0.003
    settle_seconds: float = 2.0
    connection_timeout: float = 1.0              # s of wall clock without a new robot state
    realtime_kernel: bool = True
    # The thread that streams set-points runs at this SCHED_RR priority while a run lasts
    # (when the OS allows it): a stalled stream leaves the last reference in force with its
    # velocity feed-forward, and the arm runs on past it (about 17 mm after a 150 ms stall at
    # 0.25 m/s against franky-sim). 0 leaves the thread's scheduling alone.
    stream_priority: int = 10
    source: str = "<defaults>"

    # --- frames ---------------------------------------------------------------------

    def to_base(self, p) -> tuple[float, float, float]:
        """A point of capc's table frame in the robot's base frame."""
        c, s = math.cos(math.radians(self.base_yaw)), math.sin(math.radians(self.base_yaw))
        x, y, z = (float(p[i]) - self.base_position[i] for i in range(3))
        return (c * x + s * y, -s * x + c * y, z)

    def to_table(self, p) -> tuple[float, float, float]:
        """A point of the robot's base frame in capc's table frame."""
        c, s = math.cos(math.radians(self.base_yaw)), math.sin(math.radians(self.base_yaw))
        x, y, z = (float(v) for v in p[:3])
        bx, by, bz = self.base_position
        return (c * x - s * y + bx, s * x + c * y + by, z + bz)

    def vector_to_base(self, v) -> tuple[float, float, float]:
        """A direction (velocity, acceleration) of the table frame in the base frame."""
        c, s = math.cos(math.radians(self.base_yaw)), math.sin(math.radians(self.base_yaw))
        return (c * float(v[0]) + s * float(v[1]), -s * float(v[0]) + c * float(v[1]), float(v[2]))

    def to_json(self) -> dict:
        return {"base": {"position": list(self.base_position), "yaw": self.base_yaw},
                "tool": {"quaternion": list(self.tool_quaternion)}, "control_rate": self.control_rate,
                "dynamics": dict(zip(("velocity", "acceleration", "jerk"), self.dynamics)),
                "stiffness": {"translational": self.translational_stiffness,
                              "rotational": self.rotational_stiffness},
                "gripper": {"open_width": self.open_width, "speed": self.grasp_speed,
                            "force": self.grasp_force, "min_held_width": self.min_held_width},
                "start_tolerance": self.start_tolerance, "settle_tolerance": self.settle_tolerance,
                "settle_seconds": self.settle_seconds, "connection_timeout": self.connection_timeout,
                "realtime_kernel": self.realtime_kernel, "stream_priority": self.stream_priority,
                "source": self.source}


def load_cell(path: str) -> FrankaCell:
    return cell_from_document(load_document(path, "robot config"))


def parse_cell(text: str, file: str = "<cell>") -> FrankaCell:
    return cell_from_document(parse_document(text, file, "robot config"))


def _number(doc: Document, path, value, low: float, high: float, *, strict_low: bool = False) -> float:
    number = expect_number(doc, path, value)
    if number > high or number < low or (strict_low and number == low):
        bound = f"> {low:g}" if strict_low else f">= {low:g}"
        raise doc.error(path, f"{number:g} is out of range (must be {bound} and <= {high:g})")
    return number


def _vector(doc: Document, path, value, n: int, limit: float) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != n:
        raise doc.error(path, f"expected a list of {n} numbers, got {value!r}")
    return tuple(_number(doc, path + (i,), v, -limit, limit) for i, v in enumerate(value))


def cell_from_document(doc: Document) -> FrankaCell:
    keys = {"base", "tool", "control_rate", "dynamics", "stiffness", "gripper", "start_tolerance",
            "settle_tolerance", "settle_seconds", "connection_timeout", "realtime_kernel", "stream_priority"}
    data = expect_keys(doc, (), doc.data, keys, {"base", "tool", "control_rate"})
    changes: dict = {"source": doc.file}
    base = expect_keys(doc, ("base",), data["base"], {"position", "yaw"}, {"position", "yaw"})
    changes["base_position"] = _vector(doc, ("base", "position"), base["position"], 3, 5.0)
    changes["base_yaw"] = _number(doc, ("base", "yaw"), base["yaw"], -360.0, 360.0)
    tool = expect_keys(doc, ("tool",), data["tool"], {"quaternion"}, {"quaternion"})
    quaternion = _vector(doc, ("tool", "quaternion"), tool["quaternion"], 4, 1.0)
    norm = math.sqrt(sum(q * q for q in quaternion))
    if abs(norm - 1.0) > 1e-3:
        raise doc.error(("tool", "quaternion"), f"not a unit quaternion (norm {norm:.4f})",
                        hint="x, y, z, w with x^2 + y^2 + z^2 + w^2 = 1; [1, 0, 0, 0] points the tool down")
    changes["tool_quaternion"] = tuple(q / norm for q in quaternion)
    changes["control_rate"] = _number(doc, ("control_rate",), data["control_rate"], MIN_RATE, MAX_RATE)
    if "dynamics" in data:
        dyn = expect_keys(doc, ("dynamics",), data["dynamics"], {"velocity", "acceleration", "jerk"},
                          {"velocity", "acceleration", "jerk"})
        changes["dynamics"] = tuple(_number(doc, ("dynamics", k), dyn[k], 0.0, 1.0, strict_low=True)
                                    for k in ("velocity", "acceleration", "jerk"))
    if "stiffness" in data:
        st = expect_keys(doc, ("stiffness",), data["stiffness"], {"translational", "rotational"})
        if "translational" in st:
            changes["translational_stiffness"] = _number(doc, ("stiffness", "translational"),
                                                         st["translational"], 0.0, 5000.0, strict_low=True)
        if "rotational" in st:
            changes["rotational_stiffness"] = _number(doc, ("stiffness", "rotational"),
                                                      st["rotational"], 0.0, 500.0, strict_low=True)
    if "gripper" in data:
        gr = expect_keys(doc, ("gripper",), data["gripper"], {"open_width", "speed", "force", "min_held_width"})
        for key, field_name, low, high in (("open_width", "open_width", 0.0, 0.08),
                                           ("speed", "grasp_speed", 0.0, 0.1),
                                           ("force", "grasp_force", 0.0, 70.0),
                                           ("min_held_width", "min_held_width", 0.0, 0.08)):
            if key in gr:
                changes[field_name] = _number(doc, ("gripper", key), gr[key], low, high, strict_low=True)
    for key, low, high in (("start_tolerance", 0.0, 0.1), ("settle_tolerance", 0.0, 0.05),
                           ("settle_seconds", 0.0, 30.0), ("connection_timeout", 0.0, 10.0)):
        if key in data:
            changes[key] = _number(doc, (key,), data[key], low, high, strict_low=True)
    if "realtime_kernel" in data:
        if not isinstance(data["realtime_kernel"], bool):
            raise doc.error(("realtime_kernel",), f"expected true or false, got {data['realtime_kernel']!r}")
        changes["realtime_kernel"] = data["realtime_kernel"]
    if "stream_priority" in data:
        priority = data["stream_priority"]
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 98:
            raise doc.error(("stream_priority",), f"expected a whole number from 0 to 98, got {priority!r}",
                            hint="a SCHED_RR priority below libfranka's own control thread (99); 0 for none")
        changes["stream_priority"] = priority
    cell = FrankaCell(**changes)
    if cell.min_held_width >= cell.open_width:
        raise doc.error(("gripper", "min_held_width"), "must be below open_width "
                        f"({cell.min_held_width:g} >= {cell.open_width:g})")
    return cell
