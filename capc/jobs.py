"""Running many independent jobs: in local worker processes, or on a Ray cluster.

A job is a module-level function named `"module:function"` and a plain-data payload; the
function returns plain data. `run_jobs` hands every result (or failure) to `on_result` in the
calling process as soon as it arrives, so a caller can write it into the one audit store while
the rest still run. Used by `capc eval`, `capc proptest --workers/--ray`, `capc audit recheck
--workers/--ray` and the soak (`make soak WORKERS=N`).

Local workers (`workers=N`, the default): N processes of this interpreter (spawned, so they
share no state with the caller), each taking one job at a time over a pipe. A worker that
dies (killed, out of memory, a crash in native code) loses only the job it was running: that
job is run again once on a fresh worker, and if it kills that one too it is reported as
failed with the exit code; the other workers carry on. `workers=0` runs the jobs in this
process, one after another (for debugging; a crash there ends the caller).

Ray (`ray_address=...`, `pip install 'capc[ray]'`): each job is a Ray task with
`max_retries=1`, so Ray itself reruns a task whose worker died once and then reports it;
`"local"` starts a private instance on this machine, anything else is passed to `ray.init`
(`"auto"`, `ray://host:10001`). Workers need capc importable: on a cluster, install capc on
every node (or ship it with a runtime environment).

Ctrl-C in the caller stops every worker and re-raises KeyboardInterrupt: results already
handed to `on_result` are kept, the jobs that were running are lost and simply not reported.
"""

from __future__ import annotations

import importlib
import os
import signal
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from capc import codes

E_RAY_MISSING = codes.E260

Job = tuple[str, Any]          # (key, payload)


@dataclass
class JobResult:
    key: str
    ok: bool
    value: Any = None
    error: str | None = None
    attempts: int = 1


def resolve(function: str) -> Callable[[Any], Any]:
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_jobs(function: str, jobs: Iterable[Job], *, workers: int | None = None,
             ray_address: str | None = None, on_result: Callable[[JobResult], None] | None = None,
             env: dict[str, str] | None = None) -> list[JobResult]:
    """Run every job; the results in the order they finished (each also passed to on_result)."""
    jobs = list(jobs)
    out: list[JobResult] = []

    def collect(result: JobResult) -> None:
        out.append(result)
        if on_result is not None:
            on_result(result)

    if ray_address is not None:
        _run_ray(function, jobs, ray_address, collect, env or {})
    elif workers == 0:
        fn = resolve(function)
        for key, payload in jobs:
            try:
                collect(JobResult(key, True, fn(payload)))
            except Exception as exc:  # noqa: BLE001 - a job's failure is a result, not the caller's
                collect(JobResult(key, False, error=f"{type(exc).__name__}: {exc}"))
    else:
        _run_local(function, jobs, workers or default_workers(), collect, env or {})
    return out


# --- local worker processes ------------------------------------------------------------------

def _worker_main(conn, function: str, env: dict[str, str]) -> None:
    """A worker: run jobs from the pipe until told to stop (None) or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    os.environ.update(env)
    fn = resolve(function)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, payload = message
        try:
            reply = (key, True, fn(payload), None)
        except Exception as exc:  # noqa: BLE001 - reported to the parent as the job's failure
            reply = (key, False, None, f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send((key, False, None, f"the result could not be sent back: {type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, context, function: str, env: dict[str, str]):
        parent, child = context.Pipe()
        self.conn = parent
        self.process = context.Process(target=_worker_main, args=(child, function, env), daemon=True)
        self.process.start()
        child.close()
        self.job: tuple[str, Any, int] | None = None    # key, payload, attempt

    def give(self, key: str, payload: Any, attempt: int) -> None:
        self.job = (key, payload, attempt)
        self.conn.send((key, payload))

    def stop(self, wait: float = 2.0) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


MAX_ATTEMPTS = 2   # a job whose worker dies is run once more, then reported


def _run_local(function: str, jobs: list[Job], count: int, collect, env: dict[str, str]) -> None:
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")
    queue: deque[tuple[str, Any, int]] = deque((key, payload, 1) for key, payload in jobs)
    pool = [_Worker(context, function, env) for _ in range(min(count, len(jobs)))]
    try:
        while queue or any(w.job for w in pool):
            for worker in pool:
                if worker.job is None and queue:
                    worker.give(*queue.popleft())
            busy = [w for w in pool if w.job is not None]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for index, worker in enumerate(pool):
                if worker.job is None:
                    continue
                if worker.conn in ready or worker.conn.poll():
                    try:
                        key, ok, value, error = worker.conn.recv()
                    except (EOFError, OSError):
                        pool[index] = _replace(worker, context, function, env, queue, collect)
                        continue
                    collect(JobResult(key, ok, value, error, worker.job[2]))
                    worker.job = None
                elif worker.process.sentinel in ready:
                    pool[index] = _replace(worker, context, function, env, queue, collect)
    finally:
        for worker in pool:
            worker.stop(wait=0.5 if worker.job else 2.0)


def _replace(worker: _Worker, context, function: str, env, queue: deque, collect) -> _Worker:
    """The worker died with a job: run it again (once) on a fresh worker, else report it."""
    worker.process.join(1.0)
    code = worker.process.exitcode
    key, payload, attempt = worker.job
    worker.job = None
    worker.stop(wait=0.1)
    if attempt < MAX_ATTEMPTS:
        queue.appendleft((key, payload, attempt + 1))
    else:
        collect(JobResult(key, False, error=f"the worker running it died {attempt} times "
                                            f"(last exit code {code})", attempts=attempt))
    return _Worker(context, function, env)


# --- Ray -------------------------------------------------------------------------------------

def _call(function: str, payload: Any, env: dict[str, str]) -> Any:
    os.environ.update(env)
    return resolve(function)(payload)


def ray_init(address: str):
    """Connect to Ray (or start a private local instance for "local")."""
    try:
        import ray
    except ImportError:
        from capc.diagnostics import InputError
        raise InputError("--ray needs Ray, which is not installed", code=E_RAY_MISSING,
                         hint="pip install 'capc[ray]'") from None
    if not ray.is_initialized():
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False)
    return ray


def _run_ray(function: str, jobs: list[Job], address: str, collect, env: dict[str, str]) -> None:
    ray = ray_init(address)
    task = ray.remote(max_retries=MAX_ATTEMPTS - 1, retry_exceptions=False)(_call)
    pending = {task.remote(function, payload, env): key for key, payload in jobs}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                key = pending.pop(ref)
                try:
                    collect(JobResult(key, True, ray.get(ref)))
                except ray.exceptions.RayTaskError as exc:     # the job raised: no retry
                    cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                    collect(JobResult(key, False, error=f"{type(cause).__name__}: {cause}"))
                except ray.exceptions.RayError as exc:         # its worker died, twice
                    collect(JobResult(key, False, error=f"the worker running it died {MAX_ATTEMPTS} "
                                                        f"times ({type(exc).__name__})",
                                      attempts=MAX_ATTEMPTS))
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
