"""The process guard: the last line of defence around a process that checks or runs policies.

Every budget that the front end, interpreter and verifier enforce is counted by capc's own code;
if one of those counts is wrong, the policy could still ask the machine for unbounded memory or
time. The guard bounds the whole process from outside, with mechanisms the policy cannot reach:

* memory: `resource.setrlimit(RLIMIT_AS)` lowers the soft address-space limit to what the
  process has mapped already plus `ResourceLimits.max_memory_mb`, so an allocation past it
  fails with `MemoryError` instead of swapping the machine to death (counting from what is
  mapped keeps room for the threads of a long-lived caller: a test runner that has loaded Ray
  or a simulator maps gigabytes, and a fixed cap below that made every new thread's stack,
  an HTTP server's handler among them, fail); `protect` turns that `MemoryError` into a located `CapcError`
  (E481). Only the soft limit is lowered, never the hard one, so a caller (a test, a long-lived
  server) can raise it again.
* wall clock: a `SIGALRM` timer (`setitimer(ITIMER_REAL)`) raises `WallClockExceeded` (E480)
  in the main thread once `max_wall_seconds` have passed.

Both are configurable: from `ResourceLimits`, and for the CLI from the environment
(`CAPC_MAX_MEMORY_MB`, `CAPC_MAX_WALL_SECONDS`; `0` switches that guard off). This module
depends only on `capc.limits` and `capc.diagnostics`, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
from typing import Iterator, Mapping

from capc import codes
from capc.diagnostics import CompileError
from capc.frozen import frozen
from capc.limits import DEFAULT_LIMITS, ResourceLimits

MEMORY_ENV = "CAPC_MAX_MEMORY_MB"
WALL_ENV = "CAPC_MAX_WALL_SECONDS"
_MB = 1024 * 1024


class WallClockExceeded(CompileError):
    """The process ran longer than the wall-clock budget (the alarm fired)."""

    def __init__(self, seconds: float):
        super().__init__(
            codes.E480, f"wall-clock budget of {seconds:g} s exhausted; the process was stopped",
            kind="limit",
            hint=f"a policy must finish well within the budget; raise it with {WALL_ENV} "
                 "or ResourceLimits.max_wall_seconds only if the task really needs it")


class MemoryExceeded(CompileError):
    """An allocation failed under the address-space cap."""

    def __init__(self, megabytes: int | None):
        cap = f"{megabytes} MB " if megabytes else ""
        super().__init__(
            codes.E481, f"memory cap {cap}reached; the allocation was refused and the process stopped",
            kind="limit",
            hint=f"policies must not build huge data; raise the cap with {MEMORY_ENV} "
                 "or ResourceLimits.max_memory_mb only if the task really needs it")


@frozen
class GuardSettings:
    """What the guard will enforce; `None` means that guard is off."""

    memory_mb: int | None
    wall_seconds: float | None

    @staticmethod
    def from_limits(limits: ResourceLimits = DEFAULT_LIMITS,
                    environ: Mapping[str, str] | None = None) -> "GuardSettings":
        """The limits' values, overridden by the environment (the CLI's configuration knob)."""
        env = os.environ if environ is None else environ
        memory: int | None = limits.max_memory_mb
        wall: float | None = limits.max_wall_seconds
        if env.get(MEMORY_ENV, "").strip():
            memory = int(_env_number(env, MEMORY_ENV))
        if env.get(WALL_ENV, "").strip():
            wall = _env_number(env, WALL_ENV)
        return GuardSettings(memory if memory and memory > 0 else None,
                             wall if wall and wall > 0 else None)


def _env_number(env: Mapping[str, str], key: str) -> float:
    from capc.diagnostics import InputError

    text = env[key].strip()
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{key}={text!r} is not a number", code=codes.E205,
                         hint="give megabytes / seconds as a number; 0 switches the guard off") from None
    if value < 0:
        raise InputError(f"{key}={text!r} is negative", code=codes.E205,
                         hint="give a positive number; 0 switches the guard off")
    return value


def mapped_mb() -> int:
    """The address space this process has mapped now, in MB (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize() // _MB


def memory_cap_mb() -> int | None:
    """The soft address-space limit in force, in MB (None when unlimited)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft // _MB


def apply_memory_cap(megabytes: int) -> int:
    """Lower the soft RLIMIT_AS to `megabytes` (never above the hard limit, never raising a
    tighter cap already in force). Returns the cap now in force, in MB."""
    if megabytes <= 0:
        raise ValueError("memory cap must be positive")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = megabytes * _MB
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY:
        wanted = min(wanted, soft)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    return wanted // _MB


@contextlib.contextmanager
def memory_cap(megabytes: int | None) -> Iterator[int | None]:
    """Let the block map at most `megabytes` more than the process holds now, then restore the
    previous soft limit. `None` leaves the limit alone."""
    if megabytes is None:
        yield memory_cap_mb()
        return
    previous = resource.getrlimit(resource.RLIMIT_AS)
    in_force = apply_memory_cap(mapped_mb() + megabytes)
    try:
        yield in_force
    finally:
        resource.setrlimit(resource.RLIMIT_AS, previous)


class _AlarmRang(BaseException):
    """Raised by the SIGALRM handler. A BaseException on purpose: code inside the block that
    catches `Exception` or `CapcError` (a solver fallback, a policy-error handler) must not
    swallow the stop. `wall_clock_alarm` turns it into `WallClockExceeded` at its boundary."""


# If something swallows the alarm anyway (a bare `except:`), it rings again this often.
_REARM_SECONDS = 0.5


@contextlib.contextmanager
def wall_clock_alarm(seconds: float | None) -> Iterator[bool]:
    """Raise `WallClockExceeded` out of the block once `seconds` have passed. Yields whether
    the alarm is armed: signals only reach the main thread, so elsewhere (or with `None`) it
    is not, and the in-process budgets (interpreter, solver) are all there is."""
    armed = (seconds is not None and threading.current_thread() is threading.main_thread()
             # an alarm already pending (pytest-timeout, an embedding server) bounds the
             # process already; one process has one ITIMER_REAL, so leave it to its owner
             and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not armed:
        yield False
        return

    def on_alarm(_signum, _frame):
        raise _AlarmRang()

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REARM_SECONDS)
    try:
        yield True
    except _AlarmRang:
        signal.setitimer(signal.ITIMER_REAL, 0)  # no second ring while we report the first
        raise WallClockExceeded(seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)


# Numerical libraries start a thread per core at import, each reserving address space (a
# stack, BLAS buffers): on a many-core machine that alone can exceed the cap, although the
# memory is never used. Policies compute on a handful of points, so one thread is enough.
# Setting these only matters before numpy is first imported, which the CLI guarantees (command
# modules import numpy inside `run`); a value the user set is kept.
NATIVE_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_native_threads(environ: dict | None = None) -> None:
    env = os.environ if environ is None else environ
    for key in NATIVE_THREAD_VARIABLES:
        env.setdefault(key, "1")


@contextlib.contextmanager
def protect(settings: GuardSettings | None = None, *, memory: bool = True,
            wall_clock: bool = True) -> Iterator[GuardSettings]:
    """Run the block under the memory cap and the wall-clock alarm of `settings` (default: from
    DEFAULT_LIMITS and the environment). A `MemoryError` inside becomes `MemoryExceeded`.

    `memory=False` / `wall_clock=False` switch one guard off for this block (an interactive
    shell wants the memory cap but no alarm)."""
    settings = settings or GuardSettings.from_limits()
    cap = settings.memory_mb if memory else None
    if cap is not None:
        limit_native_threads()
    wall = settings.wall_seconds if wall_clock else None
    with memory_cap(cap) as in_force, wall_clock_alarm(wall):
        try:
            yield settings
        except MemoryError:
            raise MemoryExceeded(in_force) from None
