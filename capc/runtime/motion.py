"""Motion generation: a straight segment becomes set-points of a trapezoidal velocity profile
at the control rate, sampled so that the finite differences the monitor computes never
exceed the limits.

The profile is built in discrete time, not sampled from a continuous one. With one set-point
per tick of `dt`, the velocity of tick k is v_k = (s_k - s_{k-1}) / dt along the segment.
We choose

    v_k = c * min(k * a * dt, V, (N + 1 - k) * a * dt),   k = 1..N,

with V the speed limit, a the acceleration limit and N the smallest tick count whose
unscaled profile covers the segment length L; the factor c = L / (dt * sum) <= 1 then makes
it cover L exactly. Every v_k <= V, every |v_k - v_{k-1}| <= a * dt (v_0 = 0), and the last
v_N <= a * dt, so one extra *hold* tick at the target (v = 0) brings the arm to rest within
the acceleration limit. Each segment therefore starts and ends at rest, and the acceleration
across two segments in different directions stays bounded. V and a are derated by 1e-6 so
that float rounding keeps the set-points strictly inside the monitor's tolerance.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

DERATE = 1.0 - 1e-6
MIN_LENGTH = 1e-12  # m: shorter moves are no moves (their length squared underflows anyway)
# Past this many ticks the count is only estimated (a tiny requested speed, 1e-300 m/s, asks
# for 10**300 ticks): no run can send that many, and the exact walk would never end. Callers
# check the count against their step budget before asking for the set-points.
EXACT_TICKS = 10 ** 9


def _ramp_sum(k: np.ndarray | int, r: float) -> np.ndarray:
    """sum_{j=1..k} min(j, r), in closed form (k may be an array)."""
    f = math.floor(r)
    k = np.asarray(k, dtype=float)
    return np.where(k <= f, k * (k + 1) / 2, f * (f + 1) / 2 + (k - f) * r)


def _cumulative(n: int, r: float) -> np.ndarray:
    """S(k) = sum_{j=1..k} min(j, n + 1 - j, r) for k = 1..n: the distance covered after k
    ticks in units of (a dt) dt. Closed form rather than a running sum: over 10^5 ticks a
    cumulative sum drifts by ~1e-12 m, which the second differences (divided by dt^2) turn
    into accelerations above the limit."""
    h = (n + 1) // 2  # for j <= h the ramp-up term j is the smaller one
    k = np.arange(1, n + 1)
    rising = _ramp_sum(np.minimum(k, h), r)
    falling = np.where(k > h, _ramp_sum(n - h, r) - _ramp_sum(np.maximum(n - k, 0), r), 0.0)
    return rising + falling


def _total(n: int, r: float) -> float:
    """S(n), in plain floats (tick_count calls it a few times per segment)."""
    f = math.floor(r)

    def ramp(k: int) -> float:  # _ramp_sum for one k
        return k * (k + 1) / 2 if k <= f else f * (f + 1) / 2 + (k - f) * r
    h = (n + 1) // 2
    return ramp(h) + ramp(n - h)


def tick_count(length: float, max_speed: float, max_accel: float, dt: float) -> int:
    """The smallest N whose unscaled discrete trapezoid covers `length`."""
    speed, accel = max_speed * DERATE, max_accel * DERATE
    if length <= 0:
        return 0
    step = accel * dt * dt          # distance unit of one velocity increment over one tick
    r = speed / (accel * dt)        # the speed cap in velocity increments
    # Continuous trapezoid (or triangle) duration as the first guess, then walk to the exact N.
    if length >= speed * speed / accel:
        duration = length / speed + speed / accel
    else:
        duration = 2 * math.sqrt(length / accel)
    estimate = duration / dt
    if not estimate < EXACT_TICKS:  # also catches inf
        return EXACT_TICKS + 1 if not math.isfinite(estimate) else max(EXACT_TICKS + 1, int(estimate))
    n = max(1, int(estimate) - 2)
    while _total(n, r) * step < length:
        n += 1
    while n > 1 and _total(n - 1, r) * step >= length:
        n -= 1
    return n


def segment_setpoints(start: Sequence[float], target: Sequence[float], max_speed: float,
                      max_accel: float, dt: float, max_ticks: int = 10 ** 6) -> np.ndarray:
    """Set-points (one per tick, shape (N + 1, 3)) moving from `start` (excluded: the arm is
    there already) to `target`, the last row repeated once as the hold tick. A segment
    shorter than MIN_LENGTH gives no set-points. Refuses (ValueError) a segment of more than
    `max_ticks` ticks before allocating anything: ask `tick_count` first."""
    if math.dist(start, target) < MIN_LENGTH:  # before any array is made: no-op moves are cheap
        return np.empty((0, 3))
    a = np.asarray(start, dtype=float)
    b = np.asarray(target, dtype=float)
    delta = b - a
    length = float(np.linalg.norm(delta))
    n = tick_count(length, max_speed, max_accel, dt)
    if n > max_ticks:
        raise ValueError(f"a segment of {n:,} ticks is longer than the {max_ticks:,} allowed")
    r = (max_speed * DERATE) / (max_accel * DERATE * dt)
    # Scaling the profile by c = length / covered <= 1 makes the fraction of the segment
    # done after k ticks simply S(k) / S(N).
    fraction = _cumulative(n, r) / _total(n, r)
    points = a[None, :] + fraction[:, None] * delta[None, :]
    points[-1] = b
    return np.vstack((points, b[None, :]))
