"""A run as an MCAP file that Foxglove opens like any robot log (docs/audit.md).

Written from the run's audit record (its timeline, `capc.audit.timeline`, its scene, limits,
policy and outcome), by `capc run --record-mcap` and `capc audit export RUN --mcap` alike.

Messages are JSON with JSON-Schema-described channels (MCAP's `jsonschema` schema encoding,
`json` message encoding), under the names of Foxglove's well-known schemas, so Foxglove's 3D,
Plot, Log and Raw Message panels understand them:

| topic | schema | what |
| --- | --- | --- |
| /tf | foxglove.FrameTransform | world -> tool, the measured tool position at every set-point |
| /tool/commanded | foxglove.PoseInFrame | every set-point sent |
| /tool/measured | foxglove.PoseInFrame | where the backend measured the tool (the kinematic backend: the set-point) |
| /scene | foxglove.SceneUpdate | the objects at the start, at each gripper action and at the end; the workspace and keep-out zones |
| /log | foxglove.Log | gripper actions, monitor stops, observed outcomes (E52x), the run's end |
| /policy | capc.Policy | the policy text, its file and verdict, once |

Why JSON and not the `foxglove-sdk` package: the SDK is a 54 MB native extension whose
messages are protobuf; the `mcap` package is pure Python (with lz4/zstandard for the chunks),
and JSON messages can be read back and checked by anyone with the `mcap` reader alone.

Times: the run's robot time (simulated on kinematic and sim) placed so that the run ends at
the record's time; every topic's log times are non-decreasing.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Iterable

from capc.audit.timeline import Timeline

PROFILE = ""   # no ROS profile: plain JSON channels
WORLD, TOOL = "world", "tool"
LEVEL_INFO, LEVEL_WARNING, LEVEL_ERROR = 2, 3, 4
DOWN = {"x": 1.0, "y": 0.0, "z": 0.0, "w": 0.0}   # the tool points down (x axis half-turn)


class NoTimeline(ValueError):
    """The record holds no run timeline (not a run, or one stored before timelines existed)."""


# --- the well-known schemas, as JSON Schema ----------------------------------------------------

def _obj(properties: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if title:
        out["title"] = title
    return out


def _num() -> dict[str, Any]:
    return {"type": "number"}


_TIME = _obj({"sec": {"type": "integer", "minimum": 0}, "nsec": {"type": "integer", "minimum": 0, "maximum": 999999999}})
_VECTOR = _obj({k: _num() for k in "xyz"})
_QUATERNION = _obj({k: _num() for k in "xyzw"})
_POSE = _obj({"position": _VECTOR, "orientation": _QUATERNION})
_COLOR = _obj({k: _num() for k in ("r", "g", "b", "a")})
_SHAPE = _obj({"pose": _POSE, "size": _VECTOR, "color": _COLOR})
_CYLINDER = _obj({"pose": _POSE, "size": _VECTOR, "bottom_scale": _num(), "top_scale": _num(), "color": _COLOR})
_TEXT = _obj({"pose": _POSE, "billboard": {"type": "boolean"}, "font_size": _num(),
              "scale_invariant": {"type": "boolean"}, "color": _COLOR, "text": {"type": "string"}})
_ARRAY = {"type": "array"}
_ENTITY = _obj({"timestamp": _TIME, "frame_id": {"type": "string"}, "id": {"type": "string"},
                "lifetime": _obj({"sec": {"type": "integer"}, "nsec": {"type": "integer"}}),
                "frame_locked": {"type": "boolean"},
                "metadata": {"type": "array", "items": _obj({"key": {"type": "string"}, "value": {"type": "string"}})},
                "arrows": _ARRAY, "cubes": {"type": "array", "items": _SHAPE}, "spheres": _ARRAY,
                "cylinders": {"type": "array", "items": _CYLINDER}, "lines": _ARRAY, "triangles": _ARRAY,
                "texts": {"type": "array", "items": _TEXT}, "models": _ARRAY})

SCHEMAS: dict[str, dict[str, Any]] = {
    "foxglove.FrameTransform": _obj({"timestamp": _TIME, "parent_frame_id": {"type": "string"},
                                     "child_frame_id": {"type": "string"}, "translation": _VECTOR,
                                     "rotation": _QUATERNION}, "foxglove.FrameTransform"),
    "foxglove.PoseInFrame": _obj({"timestamp": _TIME, "frame_id": {"type": "string"}, "pose": _POSE},
                                 "foxglove.PoseInFrame"),
    "foxglove.SceneUpdate": _obj({"deletions": _ARRAY, "entities": {"type": "array", "items": _ENTITY}},
                                 "foxglove.SceneUpdate"),
    "foxglove.Log": _obj({"timestamp": _TIME, "level": {"type": "integer", "enum": [0, 1, 2, 3, 4, 5]},
                          "message": {"type": "string"}, "name": {"type": "string"},
                          "file": {"type": "string"}, "line": {"type": "integer", "minimum": 0}},
                         "foxglove.Log"),
    "capc.Policy": _obj({"file": {"type": "string"}, "source": {"type": "string"},
                         "verdict": {"type": ["string", "null"]}, "mode": {"type": ["string", "null"]},
                         "record": {"type": ["integer", "null"]}}, "capc.Policy"),
}
TOPICS = {"/tf": "foxglove.FrameTransform", "/tool/commanded": "foxglove.PoseInFrame",
          "/tool/measured": "foxglove.PoseInFrame", "/scene": "foxglove.SceneUpdate",
          "/log": "foxglove.Log", "/policy": "capc.Policy"}


# --- messages ---------------------------------------------------------------------------------

def _stamp(ns: int) -> dict[str, int]:
    return {"sec": ns // 1_000_000_000, "nsec": ns % 1_000_000_000}


def _xyz(p: Iterable[float]) -> dict[str, float]:
    x, y, z = (float(v) for v in p)
    return {"x": x, "y": y, "z": z}


def _pose(p: Iterable[float], orientation: dict[str, float] = DOWN) -> dict[str, Any]:
    return {"position": _xyz(p), "orientation": dict(orientation)}


_LEVEL = {True: LEVEL_ERROR, False: LEVEL_WARNING}
_UPRIGHT = {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}


def _rgba(profile: Any, name: str, alpha: float = 1.0) -> dict[str, float]:
    r, g, b = profile.rgba(name)[:3]
    return {"r": float(r), "g": float(g), "b": float(b), "a": alpha}


def _entity(ns: int, entity_id: str, frame: str = WORLD, **shapes: list) -> dict[str, Any]:
    out: dict[str, Any] = {"timestamp": _stamp(ns), "frame_id": frame, "id": entity_id,
                           "lifetime": {"sec": 0, "nsec": 0}, "frame_locked": frame != WORLD, "metadata": []}
    for key in ("arrows", "cubes", "spheres", "cylinders", "lines", "triangles", "texts", "models"):
        out[key] = shapes.get(key, [])
    return out


def _object_entity(profile: Any, ns: int, name: str, position: list[float], held: bool,
                   tcp: list[float] | None) -> dict[str, Any]:
    """A block as a cube centred on its reference point, a bowl as an open cylinder standing
    on its floor centre (the sizes of the record's profile's cell). A held object is drawn in
    the tool's frame, so it travels with /tf."""
    cell = profile.cell
    kind = profile.object_kind(name)
    where = list(position)
    frame = WORLD
    if held and tcp is not None:   # its offset to the tool, which keeps while it is held
        frame = TOOL
        dx, dy, dz = (float(a) - float(b) for a, b in zip(position, tcp))
        where = [dx, -dy, -dz]     # the tool frame is turned half round x (pointing down)
    if kind == "bowl":
        centre = [where[0], where[1], where[2] + (cell.bowl_height / 2 if frame == WORLD else -cell.bowl_height / 2)]
        d = 2 * cell.bowl_radius
        shape = {"pose": _pose(centre, _UPRIGHT), "size": _xyz((d, d, cell.bowl_height)),
                 "bottom_scale": 0.8, "top_scale": 1.0, "color": _rgba(profile, name, 0.8)}
        return _entity(ns, name, frame, cylinders=[shape])
    s = cell.block_size
    return _entity(ns, name, frame, cubes=[{"pose": _pose(where, _UPRIGHT), "size": _xyz((s, s, s)),
                                             "color": _rgba(profile, name)}])


def _zone_entities(ns: int, spec: dict | None) -> list[dict[str, Any]]:
    """The workspace as a faint box and each keep-out box as a red one."""
    out = []
    boxes = []
    if isinstance(spec, dict):
        if isinstance(spec.get("workspace"), dict):
            boxes.append(("workspace", spec["workspace"], {"r": 0.3, "g": 0.6, "b": 1.0, "a": 0.08}))
        for zone in spec.get("keep_out") or []:
            if isinstance(zone, dict) and isinstance(zone.get("box"), dict):
                boxes.append((f"keep_out:{zone.get('name')}", zone["box"], {"r": 1.0, "g": 0.1, "b": 0.1, "a": 0.3}))
    for entity_id, box, color in boxes:
        try:
            (x0, x1), (y0, y1), (z0, z1) = (box[k] for k in "xyz")
        except (KeyError, TypeError, ValueError):
            continue
        centre = ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2)
        out.append(_entity(ns, entity_id, cubes=[{"pose": _pose(centre, _UPRIGHT),
                                                  "size": _xyz((x1 - x0, y1 - y0, z1 - z0)), "color": color}]))
    return out


def _log(ns: int, level: int, message: str, file: str, line: int | None) -> dict[str, Any]:
    return {"timestamp": _stamp(ns), "level": level, "message": message, "name": "capc",
            "file": file, "line": int(line or 0)}


def _start_ns(record: dict, timeline: Timeline) -> int:
    """The run's robot-time zero, as Unix nanoseconds: the record's time minus the run's length."""
    text = record.get("time")
    try:
        when = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        end = int(when.timestamp() * 1_000_000) * 1000
    except (TypeError, ValueError):
        end = int(round(timeline.end_time * 1e9))
    return max(0, end - int(round(timeline.end_time * 1e9)))


def messages(record: dict) -> list[tuple[int, str, dict[str, Any]]]:
    """(log time in ns, topic, message) for every message of the run, in time order."""
    data = (record.get("extra") or {}).get("timeline")
    if data is None:
        raise NoTimeline(f"record #{record.get('id')} holds no run timeline "
                         f"(kind {record.get('kind')!r}, run status {record.get('run_status')!r})")
    from capc.audit.plot import record_profile

    timeline = Timeline.from_json(data)
    profile = record_profile(record)
    start = _start_ns(record, timeline)

    def at(seconds: float) -> int:
        return start + int(round(seconds * 1e9))

    file = str(record.get("file") or "<policy>")
    out: list[tuple[int, str, dict[str, Any]]] = []
    first = at(timeline.snapshots[0][1] if timeline.snapshots else 0.0)
    out.append((first, "/policy", {"file": file, "source": record.get("source") or "",
                                   "verdict": record.get("verdict"), "mode": record.get("mode"),
                                   "record": record.get("id")}))
    measured = timeline.measured if timeline.measured is not None else timeline.commanded
    out.append((first, "/tf", _transform(first, timeline.home)))
    for seconds, commanded, where in zip(timeline.setpoint_times(), timeline.commanded, measured):
        ns = at(seconds)
        out.append((ns, "/tool/commanded", {"timestamp": _stamp(ns), "frame_id": WORLD, "pose": _pose(commanded)}))
        out.append((ns, "/tool/measured", {"timestamp": _stamp(ns), "frame_id": WORLD, "pose": _pose(where)}))
        out.append((ns, "/tf", _transform(ns, where)))
    for sent, seconds, what, held, objects in timeline.snapshots:
        ns = at(seconds)
        tcp = measured[sent - 1] if sent > 0 else timeline.home
        entities = [_object_entity(profile, ns, name, pos, name == held, tcp) for name, pos in sorted(objects.items())]
        if what == "start":
            entities += _zone_entities(ns, record.get("spec"))
        out.append((ns, "/scene", {"deletions": [], "entities": entities}))
        if what == "grip":
            text = f"gripper closed, holding {held}" if held else "gripper open, holding nothing"
            out.append((ns, "/log", _log(ns, LEVEL_INFO, text, file, None)))
    run = record.get("run") if isinstance(record.get("run"), dict) else {}
    for event in record.get("monitor_events") or run.get("monitor_events") or []:
        seconds = timeline.time_of_tick(event.get("tick"))
        level = LEVEL_WARNING if event.get("observed") else LEVEL_ERROR
        out.append((at(seconds), "/log", _log(at(seconds), level, f"{event.get('code')} {event.get('message')}",
                                              file, event.get("line"))))
    stopping = run.get("code")
    for event in run.get("outcome_events") or []:
        seconds = timeline.time_of_call(event.get("call_index"))
        level = _LEVEL[event.get("code") == stopping]
        out.append((at(seconds), "/log", _log(at(seconds), level, f"{event.get('code')} {event.get('message')}",
                                              file, event.get("line"))))
    end = at(timeline.end_time)
    status = run.get("status") or record.get("run_status") or "unknown"
    ended = f"run {status.replace('_', ' ')}: {run.get('message') or ''}".rstrip(": ")
    out.append((end, "/log", _log(end, LEVEL_INFO if status == "completed" else LEVEL_ERROR, ended, file, run.get("line"))))
    out.sort(key=lambda m: m[0])   # stable: within one time, the order above
    return out


def _transform(ns: int, where: Iterable[float]) -> dict[str, Any]:
    return {"timestamp": _stamp(ns), "parent_frame_id": WORLD, "child_frame_id": TOOL,
            "translation": _xyz(where), "rotation": dict(DOWN)}


def write_mcap(record: dict, out: Any) -> dict[str, int]:
    """Write the run of `record` (an audit record with a timeline) to `out` (a path or a
    binary stream); returns the number of messages per topic. Raises NoTimeline when the
    record holds no run."""
    from mcap.well_known import MessageEncoding, SchemaEncoding
    from mcap.writer import Writer

    from capc import __version__

    items = messages(record)
    own = isinstance(out, str)
    stream = open(out, "wb") if own else out
    try:
        writer = Writer(stream)
        writer.start(profile=PROFILE, library=f"capc {__version__}")
        schema_ids = {name: writer.register_schema(name, SchemaEncoding.JSONSchema,
                                                   json.dumps(schema).encode())
                      for name, schema in SCHEMAS.items()}
        channels = {topic: writer.register_channel(topic, MessageEncoding.JSON, schema_ids[name])
                    for topic, name in TOPICS.items()}
        counts = dict.fromkeys(TOPICS, 0)
        for ns, topic, message in items:
            writer.add_message(channels[topic], log_time=ns, publish_time=ns, sequence=counts[topic],
                               data=json.dumps(message, separators=(",", ":")).encode())
            counts[topic] += 1
        writer.add_metadata("capc", {k: str(v) for k, v in (
            ("record", record.get("id")), ("file", record.get("file")), ("verdict", record.get("verdict")),
            ("run_status", record.get("run_status")), ("capc_version", record.get("capc_version"))) if v is not None})
        if record.get("source"):
            writer.add_attachment(create_time=items[0][0], log_time=items[0][0],
                                  name=str(record.get("file") or "policy.py").rsplit("/", 1)[-1],
                                  media_type="text/x-python", data=str(record["source"]).encode())
        writer.finish()
    finally:
        if own:
            stream.close()
    return counts
