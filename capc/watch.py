"""`capc check POLICY --watch`: check again each time the policy (or its scene or limits
file) is saved, in the same process.

The first check pays for the imports and the parser tables; every later one costs only the
check itself (docs/api.md has the figures of an in-process check), so an editor's save is
answered in the time of the verification. Files are polled (their size and modification time,
every POLL_SECONDS), which needs no extra package and works on every file system. Each check has
the wall-clock bound the `capc check` process has (capc.guard), and is recorded in the audit
store as any `capc check` is. Ctrl-C stops (exit 130); `--watch-count N` stops after N checks
and exits with the last verdict's code (for scripts and tests).
"""

from __future__ import annotations

import os
import sys
import time

POLL_SECONDS = 0.2


def stamp(paths: list[str]) -> tuple:
    """What changes when any of `paths` is saved (None for a file that is not there now)."""
    out = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            out.append(None)
            continue
        out.append((info.st_mtime_ns, info.st_size, info.st_ino))
    return tuple(out)


def watch(args, *, out=None, err=None, poll: float = POLL_SECONDS) -> int:
    from capc import guard
    from capc.commands.check import check_policy, print_input_error, print_result, record
    from capc.diagnostics import InputError

    out = out or sys.stdout
    err = err or sys.stderr
    fmt = args.format or ("json" if args.json else "text")
    paths = [p for p in (args.policy, args.scene, args.limits) if p]
    last, checks, code = None, 0, 0
    while True:
        now = stamp(paths)
        if now != last:
            last = now
            try:
                with guard.wall_clock_alarm(guard.GuardSettings.from_limits().wall_seconds):
                    result = check_policy(args.policy, scene_path=args.scene, limits_path=args.limits,
                                          any_scene=args.any_scene, allow_undefined=args.allow_undefined)
            except InputError as exc:
                if fmt == "text":
                    err.write(exc.one_line() + "\n")
                else:
                    print_input_error(args, exc, fmt, out=out, err=err)
                code = exc.exit_code
            else:
                record(result, getattr(args, "audit_db", None))
                print_result(result, fmt=fmt, out=out, err=err)
                code = result.exit_code
            checks += 1
            if fmt == "text":
                err.write(f"-- check {checks} done; watching {', '.join(paths)} (Ctrl-C to stop)\n")
            out.flush()
            err.flush()
            if args.watch_count and checks >= args.watch_count:
                return code
            # `last` is the stamp from before the check: a save during it is seen at the next poll
        time.sleep(poll)
