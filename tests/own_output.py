"""Run `capc` in a subprocess and record what capc itself wrote to stdout and stderr.

The recording wraps `sys.stdout` and `sys.stderr` (every `print`, every `.write`); the
process's real output (its file descriptors 1 and 2, as the parent reads them) must be
exactly that. Anything else came from a library writing to the descriptors directly: the
"pybullet build time" banner PyBullet's C code prints on import was such a line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RECORDING_MAIN = r"""
import json, sys
from capc import cli

class Recording:
    def __init__(self, inner):
        self.inner, self.seen = inner, []
    def write(self, text):
        self.seen.append(text)
        return self.inner.write(text)
    def __getattr__(self, name):
        return getattr(self.inner, name)

out, err = Recording(sys.stdout), Recording(sys.stderr)
sys.stdout, sys.stderr = out, err
try:
    code = cli.main(sys.argv[2:])
finally:
    sys.stdout, sys.stderr = out.inner, err.inner
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump({"stdout": "".join(out.seen), "stderr": "".join(err.seen)}, handle)
sys.exit(code)
"""


def run_recorded(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300):
    """(the finished process, {"stdout": what capc wrote, "stderr": ...})."""
    record = Path(cwd) / ".capc-output.json"
    env = dict(os.environ if env is None else env, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _RECORDING_MAIN, str(record), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)
    return proc, json.loads(record.read_text(encoding="utf-8"))
