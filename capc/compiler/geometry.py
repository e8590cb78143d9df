"""Regions of the cell: axis-aligned boxes and vertical cylinders.

Plain floats only. The verifier turns them into Z3 constraints, the monitor evaluates them
on set-points, the simulator draws them: each of those reads these objects, none re-declares
a bound.
"""

from __future__ import annotations

from capc.frozen import frozen


@frozen
class Interval:
    low: float
    high: float

    def contains(self, value: float, margin: float = 0.0) -> bool:
        return self.low + margin <= value <= self.high - margin

    def shrink(self, by: float) -> "Interval":
        return Interval(self.low + by, self.high - by)


@frozen
class Box:
    """Axis-aligned box in metres, in the robot base frame."""

    x: Interval
    y: Interval
    z: Interval

    @staticmethod
    def of(x: tuple[float, float], y: tuple[float, float], z: tuple[float, float]) -> "Box":
        return Box(Interval(*x), Interval(*y), Interval(*z))

    @property
    def axes(self) -> tuple[Interval, Interval, Interval]:
        return (self.x, self.y, self.z)

    def contains(self, point, margin: float = 0.0) -> bool:
        return all(axis.contains(float(v), margin) for axis, v in zip(self.axes, point))

    def shrink(self, by: float) -> "Box":
        return Box(self.x.shrink(by), self.y.shrink(by), self.z.shrink(by))

    def to_json(self) -> dict:
        return {"x": [self.x.low, self.x.high], "y": [self.y.low, self.y.high],
                "z": [self.z.low, self.z.high]}


@frozen
class Cylinder:
    """Vertical cylinder: a disc of `radius` around (cx, cy), between z.low and z.high."""

    cx: float
    cy: float
    radius: float
    z: Interval

    def contains(self, point, margin: float = 0.0) -> bool:
        x, y, z = (float(v) for v in point)
        r = self.radius - margin
        return r > 0 and (x - self.cx) ** 2 + (y - self.cy) ** 2 <= r * r and self.z.contains(z, margin)

    def to_json(self) -> dict:
        return {"center": [self.cx, self.cy], "radius": self.radius, "z": [self.z.low, self.z.high]}


Region = Box | Cylinder
