"""The runtime monitor: per-command checks (speed request, workspace, exact segment vs
keep-out zones) and per-set-point checks by finite differences, with the stated tolerance."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from capc.safety.monitor import POSITION_TOLERANCE, RATE_TOLERANCE, Monitor, segment_enters
from capc.safety.spec import default_spec, parse_spec

DT = 1 / 240
ZONES = parse_spec("""
keep_out:
  - {name: camera mount, box: {x: [0.1, 0.2], y: [-0.6, -0.4], z: [0.0, 0.3]}}
  - {name: fixture, cylinder: {center: [-0.1, -0.5], radius: 0.05, z: [0.0, 0.1]}}
""")
HOME = (0.0, -0.5, 0.2)


def test_waypoint_inside_is_accepted():
    assert Monitor(default_spec()).check_waypoint(HOME, (0.25, -0.7, 0.05), 0.1) is None
    assert Monitor(default_spec()).check_waypoint(HOME, (0.3, -0.8, 0.0), None) is None  # on the boundary


@pytest.mark.parametrize("target, axis_text, excess", [
    ((0.35, -0.5, 0.1), "x = 0.35 is above 0.3 by 0.05 m", 0.05),
    ((0.0, -0.9, 0.1), "y = -0.9 is below -0.8 by 0.1 m", 0.1),
    ((0.0, -0.5, -0.02), "z = -0.02 is below 0 by 0.02 m", 0.02),
    # just past the edge: significant digits, never "above 0.3 by 0.0000 m"
    ((0.300002, -0.5, 0.1), "x = 0.300002 is above 0.3 by 2e-06 m", 2e-6),
])
def test_waypoint_outside_workspace(target, axis_text, excess):
    v = Monitor(default_spec()).check_waypoint(HOME, target, None)
    assert v.limit == "workspace" and v.point == target
    assert axis_text in v.message and v.excess == pytest.approx(excess)


@pytest.mark.parametrize("speed, fragment", [
    (0.3, "exceeds max_speed 0.25"), (-0.1, "must be positive"), (0.0, "must be positive"),
    (float("nan"), "must be positive"), ("fast", "not a number"), (True, "not a number"),
])
def test_speed_requests(speed, fragment):
    v = Monitor(default_spec()).check_waypoint(HOME, HOME, speed)
    assert v.limit == "speed" and fragment in v.message


def test_speed_request_excess_and_tolerance():
    monitor = Monitor(default_spec())
    assert monitor.check_waypoint(HOME, HOME, 0.25 * (1 + RATE_TOLERANCE / 2)) is None
    assert monitor.check_waypoint(HOME, HOME, 0.3).excess == pytest.approx(0.05)


def test_segment_through_box_zone_with_endpoints_outside():
    """Both ends are outside the zone; only the exact segment check sees the crossing."""
    monitor = Monitor(ZONES)
    v = monitor.check_waypoint((0.05, -0.5, 0.1), (0.25, -0.5, 0.1), None)
    assert (v.limit, v.zone, v.name) == ("keep_out", "camera mount", "keep_out:camera mount")
    assert v.point == pytest.approx((0.1, -0.5, 0.1)) and v.excess == pytest.approx(0.1)
    assert monitor.check_waypoint((0.05, -0.5, 0.1), (0.05, -0.7, 0.1), None) is None


def test_segment_through_cylinder_and_over_it():
    monitor = Monitor(ZONES)
    v = monitor.check_waypoint((-0.2, -0.5, 0.05), (0.0, -0.5, 0.05), None)
    assert (v.limit, v.zone) == ("keep_out", "fixture") and v.excess == pytest.approx(0.1)
    assert v.point == pytest.approx((-0.15, -0.5, 0.05))
    assert monitor.check_waypoint((-0.2, -0.5, 0.15), (0.0, -0.5, 0.15), None) is None  # above it
    assert monitor.check_waypoint((-0.2, -0.56, 0.05), (0.0, -0.56, 0.05), None) is None  # beside it
    # descending diagonally through its top face; both ends outside
    v = monitor.check_waypoint((-0.1, -0.45, 0.15), (-0.1, -0.6, 0.0), None)
    assert v.point == pytest.approx((-0.1, -0.5, 0.1))
    assert v.excess == pytest.approx(math.hypot(0.05, 0.05))
    # a target inside the zone is reported at the target
    assert monitor.check_waypoint(HOME, (-0.1, -0.5, 0.05), None).point == (-0.1, -0.5, 0.05)


@settings(max_examples=300, deadline=None)
@given(a=st.tuples(st.floats(-0.3, 0.3), st.floats(-0.8, -0.2), st.floats(0, 0.3)),
       b=st.tuples(st.floats(-0.3, 0.3), st.floats(-0.8, -0.2), st.floats(0, 0.3)))
def test_segment_check_agrees_with_dense_sampling(a, b):
    """Exact intersection never misses what 2,001 samples along the segment find, and what it
    reports as inside for longer than two sample spacings, the samples find too."""
    length = float(np.linalg.norm(np.subtract(b, a)))
    for zone in ZONES.keep_out:
        hit = segment_enters(zone, a, b)
        ts = np.linspace(0, 1, 2001)
        pts = np.asarray(a)[None, :] + ts[:, None] * (np.asarray(b) - np.asarray(a))[None, :]
        sampled = any(zone.region.contains(p, POSITION_TOLERANCE) for p in pts)
        if sampled:
            assert hit is not None
        if hit is not None and hit[1] > 2 * length / 2000 + 1e-9:
            assert sampled
            assert zone.region.contains(hit[0], -1e-9)  # the entry point lies on the zone


def test_setpoint_speed_and_accel_by_finite_differences():
    monitor = Monitor(default_spec())
    step = 0.25 * DT
    # accelerating too hard: from rest straight to full speed in one tick
    v = monitor.check_setpoint(HOME, (HOME[0] + step, HOME[1], HOME[2]), DT)
    assert v.limit == "accel" and v.excess == pytest.approx(0.25 / DT - 2.0)
    # a run that ramps properly, then one tick too fast
    monitor = Monitor(default_spec())
    xs = np.cumsum(np.minimum(np.arange(1, 40) * 2.0 * DT * 0.999, 0.25)) * DT
    points = np.array([[HOME[0] + x, HOME[1], HOME[2]] for x in xs])
    assert monitor.check_setpoints(HOME, points, DT) is None
    jump = points[-1] + np.array([0.3 * DT, 0, 0])
    v = monitor.check_setpoint(points[-1], jump, DT)
    assert v.limit == "speed" and v.excess == pytest.approx(0.05)


def test_setpoints_report_first_bad_index_and_keep_state():
    monitor = Monitor(default_spec())
    points = np.array([[0.0, -0.5, 0.2 - 0.0001 * k] for k in range(1, 4)] + [[0.0, -0.5, -0.001]])
    monitor.velocity = np.array([0.0, 0.0, -0.0001 / DT])
    index, v = monitor.check_setpoints(HOME, points, DT)
    assert index == 3 and v.limit in ("workspace", "speed")
    assert monitor.setpoints_checked == 3


def test_setpoint_in_zone_and_tolerance_on_workspace_edge():
    monitor = Monitor(ZONES)
    assert monitor.check_point((0.15, -0.5, 0.1)).name == "keep_out:camera mount"
    assert monitor.check_point((0.3 + POSITION_TOLERANCE / 2, -0.5, 0.1)) is None
    assert monitor.check_point((0.3 + 2 * POSITION_TOLERANCE, -0.5, 0.1)).limit == "workspace"
    assert monitor.check_point((math.nan, -0.5, 0.1)).limit == "workspace"
