"""Motion profiles: the set-points respect max_speed and max_accel by finite differences,
start and end at rest, and land exactly on the target."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from capc.runtime.motion import MIN_LENGTH, segment_setpoints, tick_count
from capc.safety.monitor import Monitor
from capc.safety.spec import default_spec

SPEC = default_spec()
DT = 1.0 / SPEC.control_rate

coord = st.tuples(st.floats(-0.3, 0.3), st.floats(-0.8, -0.2), st.floats(0.0, 0.3))


def finite_differences(start, points, dt):
    path = np.vstack((np.asarray(start, dtype=float)[None, :], points))
    v = np.diff(path, axis=0) / dt
    a = np.diff(np.vstack((np.zeros((1, 3)), v, np.zeros((1, 3)))), axis=0) / dt
    return np.linalg.norm(v, axis=1), np.linalg.norm(a, axis=1)


@settings(max_examples=300, deadline=None)
@given(start=coord, target=coord, speed=st.floats(0.001, 0.25), accel=st.floats(0.05, 5.0))
def test_profile_respects_limits_exactly(start, target, speed, accel):
    points = segment_setpoints(start, target, speed, accel, DT)
    if np.linalg.norm(np.subtract(target, start)) < MIN_LENGTH:
        assert len(points) == 0
        return
    speeds, accels = finite_differences(start, points, DT)
    assert speeds.max() <= speed          # no tolerance needed: the profile is derated
    assert accels.max() <= accel
    assert np.array_equal(points[-1], np.asarray(target, dtype=float))
    assert np.array_equal(points[-2], points[-1])  # the hold tick: at rest at the end
    # straight line: every point on the segment, in order
    d = np.asarray(target) - np.asarray(start)
    t = (points - np.asarray(start)) @ d / (d @ d)
    assert np.all(np.diff(t) >= -1e-12) and t[0] > 0
    assert np.allclose(np.asarray(start) + t[:, None] * d[None, :], points, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(waypoints=st.lists(coord, min_size=2, max_size=6), speed=st.floats(0.01, 0.25))
def test_chained_segments_pass_the_monitor(waypoints, speed):
    """Across segments in different directions the acceleration stays within the limit,
    as the monitor (with its own state) sees it."""
    monitor = Monitor(SPEC)
    current = waypoints[0]
    for target in waypoints[1:]:
        assert monitor.check_waypoint(current, target, speed) is None
        points = segment_setpoints(current, target, speed, SPEC.max_accel, DT)
        assert monitor.check_setpoints(current, points, DT) is None
        if len(points):
            current = tuple(points[-1])


def test_duration_close_to_continuous_trapezoid():
    # 0.4 m at 0.25 m/s, 2 m/s^2: cruise phase; continuous time L/V + V/a = 1.725 s
    n = tick_count(0.4, 0.25, 2.0, DT)
    assert abs(n * DT - 1.725) < 0.02
    # short move: triangle, 2*sqrt(L/a)
    n = tick_count(0.005, 0.25, 2.0, DT)
    assert abs(n * DT - 2 * math.sqrt(0.005 / 2.0)) < 0.02


@pytest.mark.parametrize("speed", [1e-9, 1e-300, 5e-324])
def test_absurdly_slow_segments_are_counted_not_built(speed):
    """A tick count is an estimate past 10**9 (the exact walk could not end) and building
    more set-points than allowed is refused before anything is allocated."""
    n = tick_count(0.1, speed, 2.0, DT)
    assert n > 10 ** 9
    with pytest.raises(ValueError, match="ticks"):
        segment_setpoints((0.0, -0.5, 0.2), (0.0, -0.5, 0.1), speed, 2.0, DT)


def test_tiny_segment_reaches_target():
    points = segment_setpoints((0.0, -0.5, 0.1), (0.0, -0.5, 0.1 + 1e-7), 0.25, 2.0, DT)
    assert len(points) == 2 and points[-1][2] == 0.1 + 1e-7


def test_long_slow_segment_has_no_drift():
    """112,647 ticks at 1 mm/s: a running sum of the profile drifts by ~1e-12 m, enough for
    the second differences to exceed a 0.05 m/s^2 limit; the closed form does not."""
    start, target = (0.0, -0.8, 0.0), (0.05, -1 / 3, 0.0)
    points = segment_setpoints(start, target, 0.001, 0.05, DT)
    speeds, accels = finite_differences(start, points, DT)
    assert len(points) > 100_000 and speeds.max() <= 0.001 and accels.max() <= 0.05
