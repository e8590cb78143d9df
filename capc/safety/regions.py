"""The limits file's regions: a box `{x, y, z}` and a vertical cylinder `{center, radius, z}`.

Read by the keep-out zones (capc.safety.spec) and by the rules' `avoid` regions
(capc.safety.rules), which may place a cylinder relative to an object (its centre then
defaults to the object's).
"""

from __future__ import annotations

from typing import Any

from capc.compiler.geometry import Box, Cylinder, Interval
from capc.files import Document, expect_interval, expect_keys, expect_number


def parse_box(doc: Document, path: tuple, value: Any) -> Box:
    expect_keys(doc, path, value, {"x", "y", "z"}, {"x", "y", "z"})
    x, y, z = (Interval(*expect_interval(doc, path + (axis,), value[axis])) for axis in "xyz")
    return Box(x, y, z)


def parse_cylinder(doc: Document, path: tuple, value: Any, relative: bool = False) -> Cylinder:
    """`relative`: the centre is an offset from an object's reference point, [0, 0] if left out."""
    required = {"radius", "z"} if relative else {"center", "radius", "z"}
    cyl = expect_keys(doc, path, value, {"center", "radius", "z"}, required)
    center = cyl.get("center", [0.0, 0.0])
    if not isinstance(center, list) or len(center) != 2:
        raise doc.error(path + ("center",), "center must be [x, y]")
    cx, cy = (expect_number(doc, path + ("center", i), v) for i, v in enumerate(center))
    radius = expect_number(doc, path + ("radius",), cyl["radius"])
    if radius <= 0:
        raise doc.error(path + ("radius",), "radius must be positive")
    z = Interval(*expect_interval(doc, path + ("z",), cyl["z"]))
    return Cylinder(cx, cy, radius, z)
