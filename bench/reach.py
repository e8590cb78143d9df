"""The Panda's reach in the sim against the reach the cell declares (issue 12).

    .venv/bin/python bench/reach.py [--step 0.0025]

For heights over the workspace's z range and directions from the base across the table, walks
the horizontal radius in and out until the sim's IK (from the rest pose, within the joint
limits: SimBackend.reach_error) puts the TCP within 2 mm of the point, and prints the nearest
and farthest radius reached next to the cell's declared ones (TabletopCell.reach_min and
reach_max about reach_centre: the runtime stops before a segment leaving them, E526).
"declared inside" must say yes on every line: a point the cell calls reachable that the sim's
arm misses is a disagreement between the backends.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

HEIGHTS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
DIRECTIONS = (0, 10, 20, 30, 40)   # degrees from -y (straight ahead) towards +x; the arm is symmetric
REACHED = 0.002                    # m


def main(argv: list[str] | None = None) -> int:
    from capc.compiler.profiles import get_profile
    from capc.runtime.sim import SimBackend

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=0.0025, help="radius step (m)")
    args = parser.parse_args(argv)
    cell = get_profile().cell
    cx, cy, cz = cell.reach_centre
    ok = True
    print("z (m)   nearest reached (m)   farthest reached (m)   declared near/far (m)   declared inside")
    with SimBackend() as sim:
        for z in HEIGHTS:
            near, far = [], []
            for degrees in DIRECTIONS:
                a = math.radians(degrees)
                ux, uy = math.sin(a), -math.cos(a)
                r = 0.1
                while r < 0.5 and sim.reach_error((ux * r, uy * r, z)) > REACHED:
                    r += args.step
                near.append(r)
                r = 0.95
                while r > 0.5 and sim.reach_error((ux * r, uy * r, z)) > REACHED:
                    r -= args.step
                far.append(r)
            dz = z - cz
            # Horizontal radius of each declared sphere at this height (the base axis is the
            # centre's: cx = cy = 0 in the tabletop cell).
            d_near = math.sqrt(max(0.0, cell.reach_min ** 2 - dz * dz))
            d_far = math.sqrt(max(0.0, cell.reach_max ** 2 - dz * dz))
            inside = d_near >= max(near) and d_far <= min(far) and (cx, cy) == (0.0, 0.0)
            ok &= inside
            print(f"{z:5.2f}   {min(near):.4f}-{max(near):.4f}         {min(far):.4f}-{max(far):.4f}"
                  f"          {d_near:.4f} / {d_far:.4f}        {'yes' if inside else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
