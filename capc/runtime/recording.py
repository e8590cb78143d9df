"""Animated GIFs of a simulated run, from PyBullet's own renderer.

Frames come from `getCameraImage` with the CPU renderer (ER_TINY_RENDERER: works headless,
no OpenGL context needed), at a small size and only every k-th physics step, because a
frame costs far more than a physics step. Pillow assembles the GIF.
"""

from __future__ import annotations

FRAME_SIZE = (320, 240)
# A camera off the table's front right corner, high enough to see the whole arm and the
# objects beside it (straight from the front, the arm hides what it is doing).
CAMERA_TARGET = (0.0, -0.32, 0.18)
CAMERA_DISTANCE = 1.15
CAMERA_YAW = 40.0      # degrees
CAMERA_PITCH = -30.0
MAX_FRAMES = 2000      # a long run keeps every frame up to this, then thins the film
# A frame every 12 physics steps at 240 Hz: 50 ms, 20 frames per second. GIF frame times are
# whole centiseconds, so k/240 s must be one for the film to play in real time.
DEFAULT_EVERY = 12


class Recorder:
    """Collects frames of one physics client and writes them as an animated GIF."""

    def __init__(self, p, client: int, path: str, *, every: int = DEFAULT_EVERY,
                 size: tuple[int, int] = FRAME_SIZE, physics_rate: float = 240.0):
        from capc.files import check_output_path

        if every < 1:
            raise ValueError("record every k-th step needs k >= 1")
        check_output_path(path, "recording", example="run.gif")
        self._p, self._client, self.path = p, client, path
        self.every, self.size = every, size
        self._frame_ms = max(20, round(100 * every / physics_rate) * 10)
        self._tick = 0
        self.frames: list = []
        width, height = size
        self._view = p.computeViewMatrixFromYawPitchRoll(
            CAMERA_TARGET, CAMERA_DISTANCE, CAMERA_YAW, CAMERA_PITCH, 0, 2, physicsClientId=client)
        self._projection = p.computeProjectionMatrixFOV(
            55, width / height, 0.05, 3.0, physicsClientId=client)

    def capture(self, force: bool = False) -> None:
        """Called once per physics step; keeps every `every`-th frame."""
        self._tick += 1
        if not force and self._tick % self.every:
            return
        if len(self.frames) >= MAX_FRAMES:
            # Keep memory bounded: drop every other frame and record half as often.
            self.frames = self.frames[::2]
            self.every *= 2
            self._frame_ms *= 2
        self.frames.append(self._render())

    def _render(self):
        from PIL import Image

        width, height = self.size
        _, _, rgba, _, _ = self._p.getCameraImage(
            width, height, self._view, self._projection, renderer=self._p.ER_TINY_RENDERER,
            physicsClientId=self._client)
        import numpy as np

        pixels = np.reshape(np.asarray(rgba, dtype=np.uint8), (height, width, 4))[:, :, :3]
        return Image.fromarray(pixels, "RGB")

    def save(self) -> str:
        """Write the GIF (at least one frame: the current view) and return its path."""
        if not self.frames:
            self.frames.append(self._render())
        from capc.files import output_errors

        first, rest = self.frames[0], self.frames[1:]
        # format given: the film is a GIF whatever the file is called (`--record run` too)
        with output_errors(self.path, "recording"):
            first.save(self.path, format="GIF", save_all=True, append_images=rest, duration=self._frame_ms,
                       loop=0, optimize=False)
        return self.path

