"""What a process imports on its way to an answer.

Issue 2: `capc check` answers in under 0.3 s, so heavy modules are imported only where they
are used (numpy alone is about 65 ms, z3 30 ms, openai 0.4 s). Each test starts a fresh
interpreter (this one has imported everything long ago) and reads its `sys.modules` at the
end. Nothing here is timed: the figures are bench/check_process.py's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NEVER_ON_CHECK = ("numpy", "openai", "pybullet", "matplotlib", "shapely", "mcap", "zstandard")


def _run(code: str, tmp_path: Path) -> dict:
    """Run `code` in a fresh interpreter; it leaves its answer in `result` (a dict). Returns
    that dict with the names of every imported top-level module under 'modules'."""
    script = (f"import json, sys\nresult = {{}}\n{code}\n"
              "result['modules'] = sorted({m.split('.')[0] for m in sys.modules})\n"
              "print(json.dumps(result))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), CAPC_AUDIT_DB=str(tmp_path / "audit.db"))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    answer["modules"] = set(answer["modules"])
    return answer


def _check(policy: str, tmp_path: Path) -> dict:
    scene = str(EXAMPLES / f"{policy}.scene.yaml")
    return _run("import contextlib, io\nfrom capc.cli import main\n"
                "with contextlib.redirect_stdout(io.StringIO()):\n"
                f"    result['code'] = main(['check', {str(EXAMPLES / policy)!r} + '.py', '--scene', {scene!r}])",
                tmp_path)


def test_cli_and_check_command_import_nothing_heavy(tmp_path):
    modules = _run("import capc.cli, capc.commands.check\ncapc.cli.build_parser()", tmp_path)["modules"]
    assert not modules & {*NEVER_ON_CHECK, "z3", "lark", "yaml"}


def test_front_end_imports_neither_numpy_nor_z3(tmp_path):
    source = EXAMPLES / "closest_block_to_bowl.py"  # np.linalg.norm, arrays, a lambda key
    modules = _run("from capc.compiler.frontend import compile_source\n"
                   f"compile_source(open({str(source)!r}).read())", tmp_path)["modules"]
    assert "lark" in modules
    assert not modules & {*NEVER_ON_CHECK, "z3"}


def test_check_without_arrays_proves_without_numpy(tmp_path):
    answer = _check("stack_all_blocks", tmp_path)  # objects by name only: no array anywhere
    assert answer["code"] == 0
    assert "z3" in answer["modules"]
    assert not answer["modules"] & set(NEVER_ON_CHECK)


def test_check_with_arrays_imports_numpy_when_the_first_array_is_made(tmp_path):
    answer = _check("closest_block_to_bowl", tmp_path)
    assert answer["code"] == 0
    assert "numpy" in answer["modules"]
    assert not answer["modules"] & {"openai", "pybullet", "matplotlib"}


def test_lazy_numpy_type_checks_do_not_import_numpy_and_stay_right_once_it_is(tmp_path):
    answer = _run(
        "from capc.lazy_numpy import np, np_functions\n"
        "kept = (np.ndarray, np.floating)  # captured before numpy is loaded, as a table would\n"
        "result['before'] = [isinstance(v, kept) for v in ([1.0], 2.0, 'x')]\n"
        "result['loaded_by_checks'] = 'numpy' in sys.modules\n"
        "result['norm'] = np_functions.linalg.norm([3.0, 4.0])\n"
        "import numpy\n"
        "result['real'] = np.ndarray is numpy.ndarray and np.bool_ is numpy.bool_\n"
        "result['after'] = [isinstance(numpy.zeros(2), kept), isinstance(numpy.float64(1), kept),\n"
        "                   isinstance([1.0], kept), issubclass(numpy.float32, kept[1])]",
        tmp_path)
    assert answer["before"] == [False, False, False] and answer["loaded_by_checks"] is False
    assert answer["norm"] == 5.0
    assert answer["real"] is True
    assert answer["after"] == [True, True, False, True]


def test_a_run_imports_mcap_only_to_write_one(tmp_path):
    """The timeline is collected and stored on every run; the MCAP writer (mcap, zstandard)
    only comes with --record-mcap."""
    policy = str(EXAMPLES / "put_block_in_bowl.py")
    run = ("import contextlib, io\nfrom capc.cli import main\n"
           "with contextlib.redirect_stdout(io.StringIO()):\n"
           "    result['code'] = main(['run', {policy!r}{more}])")
    plain = _run(run.format(policy=policy, more=""), tmp_path)
    assert plain["code"] == 0 and not plain["modules"] & {"mcap", "zstandard", "pybullet", "matplotlib"}
    out = str(tmp_path / "run.mcap")
    recorded = _run(run.format(policy=policy, more=f", '--record-mcap', {out!r}"), tmp_path)
    assert recorded["code"] == 0 and "mcap" in recorded["modules"]
