"""Collects a run's timeline while it runs (the record format: capc.audit.timeline).

The run loop calls `segment` before the set-points of a straight segment are sent, `measure`
after each of them, `grip` after a gripper action, `call_done` after a moving call, and
`finish` once the run is over. Set-points themselves are already in `RunOutcome.setpoints`;
what is added here is when each segment began, the measured tool position (only where the
backend measures something else than its set-point: the kinematic backend's TCP is the
set-point, `tcp_is_setpoint`), and where the objects were at the start, at every gripper
action and at the end. One `backend.sim_time()` per segment and per gripper action, one
`backend.tcp()` per set-point on a measuring backend: the kinematic hot path pays nothing
per tick.
"""

from __future__ import annotations

from typing import Any


class TimelineRecorder:
    def __init__(self, backend: Any, dt: float, home: tuple[float, float, float]):
        self.backend, self.dt, self.home = backend, dt, [float(v) for v in home]
        self.measures = not getattr(backend, "tcp_is_setpoint", False)
        self.measured: list[list[float]] = []
        self.segments: list[list[Any]] = []
        self.calls: list[list[Any]] = []
        self.snapshots: list[list[Any]] = []
        self.end_time: float | None = None
        self._snapshot(0, "start")

    def _snapshot(self, sent: int, what: str) -> None:
        positions = {name: [round(float(v), 6) for v in pos]
                     for name, pos in self.backend.object_positions().items()}
        self.snapshots.append([sent, float(self.backend.sim_time()), what, self.backend.held_object(), positions])

    def segment(self, sent: int, call_index: int) -> None:
        self.segments.append([sent, float(self.backend.sim_time()), call_index])

    def measure(self) -> None:
        self.measured.append([float(v) for v in self.backend.tcp()])

    def grip(self, sent: int) -> None:
        self._snapshot(sent, "grip")

    def call_done(self, call_index: int, sent: int) -> None:
        self.calls.append([call_index, sent, float(self.backend.sim_time())])

    def finish(self, sent: int) -> None:
        self._snapshot(sent, "end")
        self.end_time = self.snapshots[-1][1]

    def to_json(self, setpoints: Any) -> dict[str, Any]:
        """The stored form (capc.audit.timeline.Timeline.from_json reads it back)."""
        from capc.audit.timeline import VERSION, pack_points

        return {"version": VERSION, "dt": self.dt, "home": self.home,
                "end_time": self.end_time if self.end_time is not None else float(self.backend.sim_time()),
                "commanded": pack_points(setpoints),
                "measured": pack_points(self.measured) if self.measures else None,
                "segments": self.segments, "calls": self.calls, "snapshots": self.snapshots}
