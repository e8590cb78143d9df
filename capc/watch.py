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
import time
from typing import Callable

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


def watch(paths: list[str], check_once: Callable[[], int], *, count: int = 0, say: Callable[[str], None],
          poll: float = POLL_SECONDS) -> int:
    """Call `check_once` (one check, printed; returns its exit code) now and after every save
    of one of `paths`; `say` tells the user what is watched. Stops after `count` checks (0:
    never) with the last exit code; Ctrl-C raises KeyboardInterrupt as usual."""
    last, checks, code = None, 0, 0
    while True:
        now = stamp(paths)
        if now != last:
            last = now   # the stamp from before the check: a save during it is seen next poll
            code = check_once()
            checks += 1
            say(f"-- check {checks} done; watching {', '.join(paths)} (Ctrl-C to stop)")
            if count and checks >= count:
                return code
        time.sleep(poll)
