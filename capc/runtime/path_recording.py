"""Animated GIFs of a run on a real robot: a top view of the table, drawn from what was
measured, since a robot has no renderer: the objects where capc's world model has them, the
commanded TCP path (blue) and the measured one (red), the TCP's height as a bar.

Nothing is drawn during the run: `tick` only stores the two points (and, every `every`
ticks, where the objects are), so recording costs the control loop a list append. `save`
draws the frames afterwards, each adding its new path segments to the last. At most
MAX_FRAMES frames (a longer run keeps every other snapshot).
"""

from __future__ import annotations

import os
from typing import Any

from capc.compiler.profiles import get_profile

SIZE = (320, 320)
MAX_FRAMES = 1000
MARGIN = 0.05      # m of table shown beyond the workspace


class PathRecorder:
    def __init__(self, path: str, *, every: int = 5, frame_ms: int = 50, cell: Any = None):
        """`cell`: the profile's cell whose table is drawn (None: the default profile's)."""
        self.cell = get_profile().cell if cell is None else cell
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise ValueError(f"cannot record to {path}: directory {directory} does not exist")
        self.path, self.every, self.frame_ms = path, every, frame_ms
        self.commanded: list[tuple[float, float]] = []
        self.measured: list[tuple[float, float, float]] = []
        self.snapshots: list[tuple[int, dict]] = []   # (tick, {name: (x, y)})

    def tick(self, commanded, measured, objects) -> None:
        """`objects()` gives the object positions; it is called only on snapshot ticks."""
        self.commanded.append((float(commanded[0]), float(commanded[1])))
        self.measured.append((float(measured[0]), float(measured[1]), float(measured[2])))
        if len(self.commanded) % self.every == 0:
            self.snapshots.append((len(self.commanded), {n: (float(p[0]), float(p[1]))
                                                         for n, p in objects().items()}))

    def _pixel(self, x: float, y: float) -> tuple[float, float]:
        b = self.cell.table_bounds
        x0, x1 = b.x.low - MARGIN, b.x.high + MARGIN
        y0, y1 = b.y.low - MARGIN, b.y.high + MARGIN
        w, h = SIZE
        return ((x - x0) / (x1 - x0) * w, (y1 - y) / (y1 - y0) * h)

    def save(self, objects: dict, kinds: dict) -> str:
        from PIL import Image, ImageDraw

        snapshots = self.snapshots + [(len(self.commanded), {n: (float(p[0]), float(p[1]))
                                                              for n, p in objects.items()})]
        frame_ms = self.frame_ms
        while len(snapshots) > MAX_FRAMES:
            snapshots, frame_ms = snapshots[::2], frame_ms * 2
        paths = Image.new("RGB", SIZE, (235, 225, 205))
        trace = ImageDraw.Draw(paths)
        frames, done = [], 1
        for tick, where in snapshots:
            for path, color in ((self.commanded, (40, 80, 220)), (self.measured, (220, 40, 40))):
                segment = [self._pixel(p[0], p[1]) for p in path[max(0, done - 1):tick]]
                if len(segment) > 1:
                    trace.line(segment, fill=color, width=1)
            done = max(done, tick)
            frame = paths.copy()
            draw = ImageDraw.Draw(frame)
            for name, (x, y) in where.items():
                self._object(draw, name, kinds.get(name), x, y)
            height = self.measured[tick - 1][2] if tick else 0.0
            bar = max(0.0, min(1.0, height / self.cell.table_bounds.z.high))
            draw.rectangle((SIZE[0] - 8, SIZE[1] * (1 - bar), SIZE[0] - 2, SIZE[1]), fill=(60, 60, 60))
            frames.append(frame)
        frames[0].save(self.path, save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
        return self.path

    def _object(self, draw, name: str, kind: str | None, x: float, y: float) -> None:
        from PIL import ImageColor

        cx, cy = self._pixel(x, y)
        half = self.cell.block_size / 2 if kind == "block" else self.cell.bowl_radius
        r = self._pixel(x + half, y)[0] - cx
        try:
            color = ImageColor.getrgb(name.split()[0])
        except (ValueError, IndexError):
            color = (128, 128, 128)
        if kind == "block":
            draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=color, outline=(0, 0, 0))
        else:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=color, width=3)
