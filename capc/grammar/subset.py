"""What is outside the policy language, and what to say when a program uses it.

The grammar defines the language; this module names what a language model is most likely
to write that is *not* in it, so that the error carries a specific code and a hint instead
of a bare "unexpected token". Keywords here are caught on the token stream (they are plain
identifiers to our grammar), before any tree is built.
"""

from __future__ import annotations

import keyword

from capc import codes
from capc.diagnostics import CompileError, Span

PYTHON_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

# keyword -> (code, what it is, why it is out / what to do instead)
FORBIDDEN_KEYWORDS: dict[str, tuple[str, str, str]] = {
    "import": (codes.E010, "import is not allowed",
               "the robot API and numpy (as np) are already available; nothing else can be imported"),
    "from": (codes.E010, "import is not allowed",
             "the robot API and numpy (as np) are already available; nothing else can be imported"),
    "class": (codes.E012, "class definitions are not allowed",
              "use dicts, lists or tuples for data and top-level defs for behaviour"),
    "with": (codes.E013, "'with' statements are not allowed",
             "policies do not open files or manage resources"),
    "try": (codes.E014, "try/except is not allowed",
            "errors stop the policy; check conditions with 'if' before acting"),
    "except": (codes.E014, "try/except is not allowed",
               "errors stop the policy; check conditions with 'if' before acting"),
    "finally": (codes.E014, "try/except is not allowed",
                "errors stop the policy; check conditions with 'if' before acting"),
    "global": (codes.E015, "'global' is not allowed",
               "pass values to helper functions as arguments and return results"),
    "nonlocal": (codes.E015, "'nonlocal' is not allowed",
                 "pass values to helper functions as arguments and return results"),
    "yield": (codes.E016, "generators ('yield') are not allowed",
              "build and return a list instead"),
    "async": (codes.E017, "async code is not allowed", "policies run step by step; write plain calls"),
    "await": (codes.E017, "async code is not allowed", "policies run step by step; write plain calls"),
    "del": (codes.E019, "'del' is not allowed",
            "assign a new value, or build a new list without the element"),
    "assert": (codes.E024, "'assert' is not allowed",
               "check the condition with 'if' and say() what is wrong"),
    "raise": (codes.E024, "'raise' is not allowed",
              "check the condition with 'if' and say() what is wrong, then stop with 'return'"),
}

# Builtins that reach the interpreter, the file system, or Python's object model. They are
# refused wherever the name appears, not only when called (`f = eval` is as bad as `eval()`).
FORBIDDEN_BUILTINS: dict[str, str] = {
    "exec": "runs arbitrary code", "eval": "runs arbitrary code", "compile": "builds code objects",
    "open": "opens files", "input": "reads from the terminal", "breakpoint": "enters a debugger",
    "help": "starts the interactive help", "exit": "ends the process", "quit": "ends the process",
    "getattr": "reads arbitrary attributes", "setattr": "writes arbitrary attributes",
    "delattr": "deletes attributes", "hasattr": "probes arbitrary attributes",
    "vars": "exposes namespaces", "dir": "exposes namespaces", "globals": "exposes namespaces",
    "locals": "exposes namespaces", "type": "reaches the object model", "object": "reaches the object model",
    "super": "reaches the object model", "classmethod": "reaches the object model",
    "staticmethod": "reaches the object model", "property": "reaches the object model",
    "memoryview": "reaches raw memory", "id": "exposes memory addresses",
    "isinstance": "is not needed: the checker knows every value's type",
    "issubclass": "reaches the object model", "callable": "reaches the object model",
    "iter": "exposes iterator objects", "next": "exposes iterator objects",
    "bytes": "is not part of the language", "bytearray": "is not part of the language",
    "importlib": "imports modules", "os": "reaches the operating system", "sys": "reaches the interpreter",
    "subprocess": "runs programs", "builtins": "reaches every builtin",
}


def forbidden_keyword_error(name: str, span: Span) -> CompileError:
    code, message, hint = FORBIDDEN_KEYWORDS[name]
    return CompileError(code, message, span, kind="subset", hint=hint)


def forbidden_builtin_error(name: str, span: Span) -> CompileError:
    return CompileError(codes.E023, f"'{name}' is not allowed: it {FORBIDDEN_BUILTINS[name]}", span,
                        kind="subset",
                        hint="policies may call the robot API, numpy (np.*) and a few safe builtins "
                             "(len, range, zip, enumerate, sorted, min, max, abs, sum, round, ...)")
