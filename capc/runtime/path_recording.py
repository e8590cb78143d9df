"""Animated GIFs of a run on a real robot: a top view of the table, drawn from what was
measured, since a robot has no renderer: the objects where capc's world model has them, the
commanded TCP path (blue) and the measured one (red), the TCP's height as a bar.

One frame every `every` ticks (default 5: 50 ms at 100 Hz), at most MAX_FRAMES (then every
other frame is dropped). Pillow draws; nothing here runs unless --record was given.
"""

from __future__ import annotations

import os

from capc.compiler.tabletop import CELL

SIZE = (320, 320)
MAX_FRAMES = 1000
MARGIN = 0.05      # m of table shown beyond the workspace


class PathRecorder:
    def __init__(self, path: str, *, every: int = 5, frame_ms: int = 50):
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise ValueError(f"cannot record to {path}: directory {directory} does not exist")
        self.path, self.every, self.frame_ms = path, every, frame_ms
        self.commanded: list[tuple[float, float]] = []
        self.measured: list[tuple[float, float]] = []
        self.frames: list = []
        self._tick = 0

    def _pixel(self, x: float, y: float) -> tuple[float, float]:
        b = CELL.table_bounds
        x0, x1 = b.x.low - MARGIN, b.x.high + MARGIN
        y0, y1 = b.y.low - MARGIN, b.y.high + MARGIN
        w, h = SIZE
        return ((x - x0) / (x1 - x0) * w, (y1 - y) / (y1 - y0) * h)

    def tick(self, commanded, measured, objects: dict, kinds: dict) -> None:
        self.commanded.append((float(commanded[0]), float(commanded[1])))
        self.measured.append((float(measured[0]), float(measured[1])))
        self._tick += 1
        if self._tick % self.every == 0:
            self._frame(objects, kinds, float(measured[2]))

    def _frame(self, objects: dict, kinds: dict, height: float) -> None:
        from PIL import Image, ImageDraw

        if len(self.frames) >= MAX_FRAMES:
            self.frames = self.frames[::2]
            self.every *= 2
            self.frame_ms *= 2
        image = Image.new("RGB", SIZE, (235, 225, 205))
        draw = ImageDraw.Draw(image)
        for name, pos in objects.items():
            cx, cy = self._pixel(pos[0], pos[1])
            half = CELL.block_size / 2 if kinds.get(name) == "block" else CELL.bowl_radius
            rx = self._pixel(pos[0] + half, pos[1])[0] - cx
            box = (cx - rx, cy - rx, cx + rx, cy + rx)
            color = name.split()[0] if name.split() else "gray"
            try:
                fill = Image.new("RGB", (1, 1), color).getpixel((0, 0))
            except ValueError:
                fill = (128, 128, 128)
            if kinds.get(name) == "block":
                draw.rectangle(box, fill=fill, outline=(0, 0, 0))
            else:
                draw.ellipse(box, outline=fill, width=3)
        for path, color in ((self.commanded, (40, 80, 220)), (self.measured, (220, 40, 40))):
            if len(path) > 1:
                draw.line([self._pixel(x, y) for x, y in path], fill=color, width=1)
        bar = max(0.0, min(1.0, height / CELL.table_bounds.z.high))
        draw.rectangle((SIZE[0] - 8, SIZE[1] * (1 - bar), SIZE[0] - 2, SIZE[1]), fill=(60, 60, 60))
        self.frames.append(image)

    def save(self, objects: dict, kinds: dict) -> str:
        height = 0.0
        self._frame(objects, kinds, height)
        first, rest = self.frames[0], self.frames[1:]
        first.save(self.path, save_all=True, append_images=rest, duration=self.frame_ms, loop=0)
        return self.path
