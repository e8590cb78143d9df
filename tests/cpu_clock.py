"""CPU-time bounds for tests that guard against work a budget should have cut short.

A test never bounds wall-clock time: on a machine shared with other jobs the wall clock
measures the run queue, not capc (tests/test_no_wall_clock.py enforces this). What such a
test checks first is deterministic (the budget's own code, location, step count); the CPU
bound only catches a budget that stopped the work far too late. Each bound is at least ten
times the CPU time measured on the development machine, noted beside it.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def cpu_at_most(seconds: float, clock=time.process_time) -> Iterator[None]:
    """Fail if the block used more than `seconds` of CPU time (this process, all threads)."""
    start = clock()
    yield
    used = clock() - start
    assert used < seconds, f"used {used:.2f} s of CPU, bound {seconds:g} s"
