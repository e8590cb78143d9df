"""Nothing in capc hands text to Python's own compiler.

CaP ran model-written code with `exec`; capc's whole point is that a policy is parsed by our
grammar, checked, and run by our interpreter. These tests read the AST of every module of the
package (not the libraries it uses: lark's and numpy's code is not ours) and fail on:

* a reference to `exec`, `eval`, `compile`, `__import__`, `execfile` (called or aliased),
  or anything reached through the `builtins` module (`builtins.exec`; `getattr(builtins,
  "eval")`-style indirections are caught by the ban on using the builtins module at all);
* `importlib.import_module` outside the allow-list (the CLI dispatcher loads its own command
  modules from a fixed tuple);
* imports of modules whose job is running code or raw memory (`code`, `codeop`, `runpy`,
  `ctypes`, `marshal`, `pickle`);
* in the interpreter path (the modules that evaluate a policy: the interpreter, the runtime and
  the verifier's symbolic executor), `.format(...)` / `.format_map`
  on anything but a string literal we wrote: `str.format` on policy text is a field-access
  escape (`'{0.__class__}'.format(x)`); f-strings are evaluated with the builtin `format(value,
  spec)` on a value instead.

Each allow-listed site names its file, the call and why it is safe.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "capc"

RUNS_CODE = {"exec", "eval", "compile", "__import__", "execfile"}
FORBIDDEN_MODULES = {"code", "codeop", "runpy", "ctypes", "marshal", "pickle"}

# (file relative to capc/, dotted callee) -> why this site is safe. Counted, not located by
# line, so edits elsewhere in the file do not break the test; a second such call in the same
# file must be justified again.
ALLOWED_CALLS: dict[tuple[str, str], str] = {
    # The dispatcher imports `capc.commands.<name>` for each name of the fixed COMMANDS tuple;
    # no user text reaches the module name.
    ("cli.py", "importlib.import_module"): "command modules from the fixed COMMANDS tuple",
    # `capc.check` & co. are looked up in the one fixed module capc.api on first use (a constant
    # name: no user text reaches it), so that `import capc` imports nothing else.
    ("__init__.py", "importlib.import_module"): "the library facade, the constant 'capc.api'",
    # The prompt builder loads `capc.prompts.fewshot.<lmp>` where lmp is one of the fixed LMP
    # names (policy, function, the four sub-LMPs of the registry), never model or user text.
    ("prompts/prompt_builder.py", "importlib.import_module"): "few-shot module of a fixed LMP name",
    # The job executor resolves "module:function" names written by its callers in code
    # (capc.eval.trial:run_trial, capc.testing.sharded:*, capc.audit.recheck:recheck_job, the
    # tests' and bench's job functions); no flag, file or model reply names a job function.
    ("jobs.py", "importlib.import_module"): "job functions named by capc's own callers",
}

# The modules that evaluate a policy or its values: the interpreter and the runtime around
# it, and the verifier's symbolic executor (it evaluates constant parts concretely).
INTERPRETER_PATH = (
    *(f"compiler/interpreter/{name}.py"
      for name in ("__init__", "values", "budgets", "tables", "expressions", "statements", "calls")),
    "safety/symbolic.py",
    "safety/symlib.py",
    "safety/symvalues.py",
    "safety/monitor.py",
    "runtime/execute.py",
    "runtime/kinematic.py",
    "runtime/motion.py",
)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, _dotted(node.func)


def _suspicious_calls(path: Path) -> Counter:
    """What -> count, for references that run code or import by name:

    * the builtins `exec`, `eval`, `compile`, `__import__`, `execfile` by name, called or not
      (`e = eval` is as bad as `eval(...)`);
    * anything reached through the `builtins` module (`builtins.eval`);
    * an attribute named `exec` or `__import__` on anything;
    * `import_module` under any receiver.

    Methods that merely share a name with a builtin are other functions and are not flagged:
    `re.compile` (regex), `model.eval` (Z3 model evaluation), `self.eval` (the verifier's own
    symbolic evaluator)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in RUNS_CODE and isinstance(node.ctx, ast.Load):
            found[node.id] += 1
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node) or f"?.{node.attr}"
            if dotted.split(".")[0] == "builtins" or node.attr in {"exec", "__import__"} \
                    or node.attr == "import_module":
                found[dotted] += 1
    return found


def test_the_scan_sees_the_whole_package():
    names = {str(p.relative_to(PACKAGE)) for p in _modules()}
    assert "cli.py" in names and "compiler/ir.py" in names
    assert len(names) >= 15


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_call_runs_python_code(path: Path):
    rel = str(path.relative_to(PACKAGE))
    bad = []
    for dotted, count in _suspicious_calls(path).items():
        if (rel, dotted) in ALLOWED_CALLS:
            continue
        bad.append(f"{rel}: {dotted}(...) x{count}")
    assert not bad, "calls that run or import code by name:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_for_running_code_or_raw_memory(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not (imported & FORBIDDEN_MODULES), f"{path.name} imports {imported & FORBIDDEN_MODULES}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_builtin_lookup_by_name(path: Path):
    """`getattr(builtins, 'ev' + 'al')`, `__builtins__['exec']`, `vars(builtins)`: any use of
    the builtins module or dict as a value is a way to reach exec without naming it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "__builtins__":
            bad.append(f"line {node.lineno}: __builtins__")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            if "builtins" in names:
                bad.append(f"line {node.lineno}: imports builtins")
    assert not bad, f"{path.name}: " + ", ".join(bad)


def _format_on_non_literal(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node, _ in _calls(tree):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"format", "format_map"}:
            receiver = func.value
            if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
                bad.append(f"line {node.lineno}: {ast.unparse(node)[:80]}")
    return bad


@pytest.mark.parametrize("rel", INTERPRETER_PATH)
def test_interpreter_path_never_formats_policy_text(rel: str):
    path = PACKAGE / rel
    if not path.exists():
        pytest.skip(f"{rel} is not written yet")
    bad = _format_on_non_literal(path)
    assert not bad, f"{rel}: str.format on a non-literal receiver:\n" + "\n".join(bad)


def test_the_detectors_detect():
    """The scans above would catch the spellings they claim to (a scan that cannot fail is
    no test)."""
    import tempfile

    hostile = (
        "import builtins, importlib\n"
        "exec('x')\n"
        "builtins.eval('1')\n"
        "f = compile('1', 'f', 'eval')\n"
        "__import__('os')\n"
        "importlib.import_module(name)\n"
        "(lambda: 0)().exec('y')\n"
        "e = eval\n"
        "m = re.compile('x'); v = model.eval(t); w = self.eval(n)\n"
        "text.format(x)\n"
        "'{}'.format(x)\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.py"
        path.write_text(hostile)
        calls = _suspicious_calls(path)
        assert calls == Counter({"exec": 1, "builtins.eval": 1, "compile": 1, "__import__": 1,
                                 "importlib.import_module": 1, "?.exec": 1, "eval": 1})
        assert _format_on_non_literal(path) == ["line 10: text.format(x)"]
