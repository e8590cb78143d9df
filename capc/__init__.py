"""capc: a verified policy compiler for robot code written by language models.

The library's interface is `capc.check`, `capc.compile`, `capc.compile_session`, `capc.run`,
`capc.load_scene`, `capc.load_limits`, `capc.Report`, `capc.RunResult` and `capc.json_schema`
(capc/api.py, docs/api.md). They are looked up on first use, so `import capc` (and every `capc` command)
still imports nothing but this file.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("Report", "RunResult", "check", "compile", "compile_session", "run", "load_scene", "load_limits", "json_schema")
__all__ = ["__version__", *_API]

def __getattr__(name: str) -> Any:
    if name in _API:
        # a facade over the top layer (capc/api.py sits beside the CLI): looked up by name on
        # first use, so that no layer that imports `capc` for its version depends on the API
        import importlib

        return getattr(importlib.import_module("capc.api"), name)
    raise AttributeError(f"module 'capc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
