"""A run's timeline as the audit store keeps it: when every set-point was sent, where the
tool was measured, where the objects were, in robot time.

The runtime collects it (capc.runtime.timeline) and `capc run` stores `to_json()` in the run's
audit record (`extra.timeline`); `capc run --record-mcap` and `capc audit export RUN --mcap`
both write their MCAP file from that record (capc.audit.mcap), so there is one recording of a
run, not one per format.

Point streams are packed, because a run sends thousands of set-points and the store keeps
every run: positions in whole micrometres (far below any tolerance the monitor applies),
each row stored as its difference from the row before (a straight segment at constant speed
repeats the same difference), as little-endian int32, zlib-compressed, base64: the whole
timeline of a 1,962 set-point run takes 4.5 kB, where the set-points as JSON numbers take 53 kB.
"""

from __future__ import annotations

import base64
import bisect
import zlib
from dataclasses import dataclass
from typing import Any, Sequence

VERSION = 1
ENCODING = "zlib-delta-int32-um"
SCALE = 1_000_000   # micrometres per metre


def pack_points(points: Sequence[Sequence[float]]) -> dict[str, Any]:
    """The packed form of an n x 3 stream of positions (metres)."""
    import numpy as np

    rows = np.asarray(points, dtype=float).reshape(-1, 3)
    whole = np.round(rows * SCALE).astype(np.int64)
    deltas = np.diff(whole, axis=0, prepend=np.zeros((1, 3), dtype=np.int64)).astype("<i4")
    data = base64.b64encode(zlib.compress(deltas.tobytes(), 6)).decode("ascii")
    return {"encoding": ENCODING, "rows": int(len(rows)), "data": data}


def unpack_points(packed: dict[str, Any]) -> list[list[float]]:
    """The rows `pack_points` packed, to the micrometre. Raises ValueError on a packing this
    version does not read (a record written by a newer capc, or a damaged one)."""
    import numpy as np

    if not isinstance(packed, dict) or packed.get("encoding") != ENCODING:
        raise ValueError(f"unknown point encoding {packed.get('encoding') if isinstance(packed, dict) else packed!r}")
    raw = zlib.decompress(base64.b64decode(packed["data"]))
    deltas = np.frombuffer(raw, dtype="<i4").reshape(-1, 3).astype(np.int64)
    if len(deltas) != packed.get("rows"):
        raise ValueError(f"packed stream has {len(deltas)} rows, the record says {packed.get('rows')}")
    return (np.cumsum(deltas, axis=0) / SCALE).tolist()


@dataclass(frozen=True)
class Timeline:
    """A stored timeline, read back: the streams unpacked, times in seconds of robot time
    from the start of the run (the backend's clock: simulated for kinematic and sim)."""

    dt: float
    home: list[float]
    end_time: float
    commanded: list[list[float]]
    measured: list[list[float]] | None                 # None: the backend's TCP is its set-point
    segments: list[tuple[int, float, int]]             # (first set-point, start time, call index)
    calls: list[tuple[int, int, float]]                # (call index, set-points sent, time) at each moving call's end
    snapshots: list[tuple[int, float, str, str | None, dict[str, list[float]]]]
    # (set-points sent, time, what: start|grip|end, object held, {name: xyz})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Timeline":
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError(f"unknown timeline version {data.get('version') if isinstance(data, dict) else data!r}")
        measured = data.get("measured")
        return cls(float(data["dt"]), list(data["home"]), float(data["end_time"]),
                   unpack_points(data["commanded"]), None if measured is None else unpack_points(measured),
                   [tuple(s) for s in data["segments"]], [tuple(c) for c in data["calls"]],
                   [tuple(s) for s in data["snapshots"]])

    def setpoint_times(self) -> list[float]:
        """The robot time at which each set-point was reached: a segment's k-th set-point one
        control tick after the (k-1)-th, from the segment's start."""
        times: list[float] = []
        for i, (first, start, _call) in enumerate(self.segments):
            last = self.segments[i + 1][0] if i + 1 < len(self.segments) else len(self.commanded)
            times.extend(start + (k + 1) * self.dt for k in range(last - first))
        return times

    def time_of_tick(self, tick: int | None) -> float:
        """When set-point number `tick` (1-based: the count sent so far) was reached; the end
        of the run for None, the start for 0."""
        if tick is None:
            return self.end_time
        if tick <= 0 or not self.segments:
            return self.snapshots[0][1] if self.snapshots else 0.0
        firsts = [s[0] for s in self.segments]
        i = bisect.bisect_right(firsts, tick - 1) - 1
        first, start, _ = self.segments[max(i, 0)]
        return start + (tick - first) * self.dt

    def time_of_call(self, call_index: int | None) -> float:
        """When the moving call `call_index` finished (the end of the run if it never did)."""
        for index, _tick, time in self.calls:
            if index == call_index:
                return time
        return self.end_time
