"""`--json` as a contract (docs/api.md): what every command prints with `--json`.

Each command's object is described by a versioned JSON Schema shipped in `capc/schemas/`
(`SCHEMAS`); every object starts with `json_version` and has every key of its schema
whatever the outcome (null where a stage did not run). An input error (a missing policy, a
malformed scene, a store that cannot be opened) is printed on stdout as the same object: every
key null but `json_version`, the error (`verdict: "error"` and the diagnostic in `diagnostics`
for the commands that give a verdict, `error` for the others) and the file it was about; the
one-line error still goes to stderr, and the exit code is 2 as without `--json`.

`emit` is the one place commands print their JSON. When the environment names a file in
`CAPC_CHECK_JSON` (the test suite does, for every test: tests/conftest.py), each object is
validated against its schema before it is printed and every violation is appended to that
file, so the suite checks every `--json` output it produces.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

JSON_VERSION = 1
ENV_CHECK = "CAPC_CHECK_JSON"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
# `capc COMMAND [ACTION]` -> its schema file in capc/schemas/
SCHEMAS = {"check": "check", "run": "run", "compile": "compile", "compile session": "compile-session", "proptest": "proptest",
           "eval": "eval", "eval compare": "eval-compare", "audit list": "audit-list",
           "audit show": "audit-show", "audit stats": "audit-stats", "audit recheck": "audit-recheck"}
_cache: dict[str, dict] = {}


def schema(command: str = "check") -> dict[str, Any]:
    """The JSON Schema of `capc COMMAND --json` ("check", "run", "audit list", ...)."""
    if command not in SCHEMAS:
        raise KeyError(f"no --json schema for {command!r}; commands with one: {', '.join(SCHEMAS)}")
    name = SCHEMAS[command]
    if name not in _cache:
        _cache[name] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    return _cache[name]


def validator(command: str):
    """A jsonschema validator of `command`'s schema that resolves references between capc's
    schemas (they share the diagnostic of check.schema.json). Needs `jsonschema`."""
    import jsonschema
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in (schema(c) for c in SCHEMAS))
    return jsonschema.Draft202012Validator(schema(command), registry=registry)


def command_of(args: Any) -> str | None:
    """The schema key of a parsed command line ("audit list", "eval compare", "run", ...)."""
    command = getattr(args, "command", None)
    if command == "audit":
        return f"audit {getattr(args, 'audit_command', '')}"
    if command == "eval" and (getattr(args, "target", None) or [None])[0] == "compare":
        return "eval compare"
    return command


def versioned(data: dict[str, Any]) -> dict[str, Any]:
    return {"json_version": JSON_VERSION, **{k: v for k, v in data.items() if k != "json_version"}}


def emit(command: str, data: dict[str, Any], **dumps: Any) -> None:
    """Print `command`'s JSON object (json_version first), checked when CAPC_CHECK_JSON asks."""
    print(dumped(command, versioned(data), **dumps))


def dumped(command: str, data: dict[str, Any], **dumps: Any) -> str:
    """`json.dumps(data)`, checked against `command`'s schema when CAPC_CHECK_JSON asks."""
    text = json.dumps(data, **dumps)
    if os.environ.get(ENV_CHECK):
        _check(command, json.loads(text))
    return text


def error_object(command: str, diagnostic: Any, file: str | None = None) -> dict[str, Any]:
    """`command`'s object for an input error: every key of its schema, null but the error."""
    props = schema(command)["properties"]
    out: dict[str, Any] = dict.fromkeys(schema(command)["required"])
    out["json_version"] = JSON_VERSION
    error = diagnostic.to_json()
    if "verdict" in props:
        out["verdict"] = "error"
    if "diagnostics" in props:
        out["diagnostics"] = [error]
    if "error" in props:
        out["error"] = error
    for key in ("file", "policy", "instruction"):
        if key in props and file is not None and out.get(key) is None:
            out[key] = file
            break
    if command == "check":   # its keys that are never null
        out["any_scene"] = False
    return out


def emit_error(args: Any, diagnostic: Any) -> bool:
    """Print the error object when `args` asked for --json; True if it did."""
    command = command_of(args)
    if not getattr(args, "json", False) or command not in SCHEMAS:
        return False
    file = getattr(args, "policy", None) or getattr(args, "instruction", None)
    emit(command, error_object(command, diagnostic, file if isinstance(file, str) else None))
    return True


def _check(command: str, data: Any) -> None:
    errors = sorted(validator(command).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    line = {"command": command, "test": os.environ.get("PYTEST_CURRENT_TEST"),
            "errors": [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in errors[:10]]}
    with open(os.environ[ENV_CHECK], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    print(f"capc: --json output of `{command}` violates its schema: {line['errors'][0]}", file=sys.stderr)
