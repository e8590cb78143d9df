"""What one verification may spend, counted in units that do not depend on the machine.

A budget of wall-clock seconds made the report depend on the machine and its load: three
identical `capc check --any-scene` runs proved 378, 486 and 360 obligations, and a slower
machine could turn "accepted" into "guarded". So the budget is counted in work:

* Z3's resource counter (`rlimit`): every query may spend at most `solver_check_rlimit`
  units, all queries together `solver_rlimit`. Z3 counts the same units for the same query
  on every machine (it counts steps of its own procedures, not time).
* The symbolic executor's steps, all paths together (`verify_steps`), in the run's own cost
  units (capc/compiler/costs.py): the Python side of the work, which on most policies is the
  larger part.
* Paths (`max_paths` of `verify`).

The wall clock stays only as a ceiling of last resort (`solver_check_seconds` per query, as
Z3's timeout, since nlsat does not heed the resource limit in every loop; `solver_seconds` in
all), far above what the deterministic budget costs on an ordinary machine. A report that hit
it says so in its own words and code (E309), because that report, and only that one, depends
on the machine.
"""

from __future__ import annotations

import time

from capc.limits import ResourceLimits

# What ended the verification early (the report's `budget.ran_out`).
SOLVER = "solver resources"
STEPS = "executor steps"
PATHS = "paths"
WALL_CLOCK = "wall-clock ceiling"


class VerifyBudget:
    def __init__(self, limits: ResourceLimits, clock=time.monotonic):
        self.limits = limits
        self.clock = clock
        self.deadline = clock() + limits.solver_seconds
        self.rlimit_used = 0          # Z3 resource units spent by this verification
        self.steps_used = 0           # executor steps of the paths finished so far
        self.ran_out: str | None = None

    # --- the solver's share -------------------------------------------------------------

    def check_rlimit(self) -> int:
        """Resource units the next query may spend: 0 when the budget is gone."""
        if self.wall_clock_out():
            return 0
        left = self.limits.solver_rlimit - self.rlimit_used
        if left <= 0:
            self._out(SOLVER)
            return 0
        return min(self.limits.solver_check_rlimit, left)

    def query_timeout_ms(self) -> int:
        """Z3's timeout for the next query: the query's ceiling, within the verification's."""
        seconds = min(self.limits.solver_check_seconds, self.deadline - self.clock())
        return max(1, int(seconds * 1000))

    def query_timed_out(self) -> None:
        self._out(WALL_CLOCK)

    def spent(self, units: int) -> None:
        self.rlimit_used += units

    # --- the executor's share -----------------------------------------------------------

    def path_done(self, steps: int) -> None:
        self.steps_used += steps

    def exhausted(self, path_steps: int = 0) -> bool:
        """True once any part is spent (checked between paths and inside a path, with the
        steps the current path has taken so far)."""
        if self.ran_out is not None:
            return True
        if self.steps_used + path_steps > self.limits.verify_steps:
            self._out(STEPS)
        elif self.rlimit_used >= self.limits.solver_rlimit:
            self._out(SOLVER)
        else:
            self.wall_clock_out()
        return self.ran_out is not None

    def wall_clock_out(self) -> bool:
        if self.ran_out is None and self.clock() > self.deadline:
            self._out(WALL_CLOCK)
        return self.ran_out == WALL_CLOCK

    def out_of_paths(self) -> None:
        self._out(PATHS)

    def _out(self, what: str) -> None:
        if self.ran_out is None:   # the first part to run out is what the report names
            self.ran_out = what

    def describe(self) -> str:
        """The budget in words, for messages: what ran out and its size."""
        limits = self.limits
        return {SOLVER: f"{limits.solver_rlimit:,} Z3 resource units (solver_rlimit)",
                STEPS: f"{limits.verify_steps:,} executor steps (verify_steps)",
                WALL_CLOCK: f"a wall-clock ceiling ({limits.solver_check_seconds:g} s per query, "
                            f"{limits.solver_seconds:g} s in all): this machine was too slow or too "
                            f"busy, and this report depends on it",
                }.get(self.ran_out or "", "")

    def to_json(self) -> dict:
        return {"solver_rlimit": self.rlimit_used, "solver_rlimit_limit": self.limits.solver_rlimit,
                "steps": self.steps_used, "steps_limit": self.limits.verify_steps,
                "ran_out": self.ran_out}
