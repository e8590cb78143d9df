"""The front end in one call: policy source -> checked, typed IR.

    program = compile_source(text, "policy.py")

parses with the policy grammar (capc.grammar.parser), lowers and type-checks
(capc.compiler.lower + capc.compiler.typecheck) and returns an `ir.Program`, or raises
`CompileError` with a located diagnostic. Calls to functions nobody defines are not errors
here: they are listed in `Program.undefined` for the hierarchical generator (the `capc
check` command reports them as E030 unless asked not to).
"""

from __future__ import annotations

from typing import Mapping

from capc import codes
from capc.compiler import ir
from capc.compiler.profiles import get_profile
from capc.diagnostics import CompileError, InputError, Span
from capc.files import read_text
from capc.grammar.parser import parse
from capc.limits import DEFAULT_LIMITS, ResourceLimits


def compile_source(source: str, file: str = "<policy>", *, profile: str = "tabletop",
                   limits: ResourceLimits = DEFAULT_LIMITS,
                   helpers: Mapping[str, tuple[str, str]] | None = None, session: str = "") -> ir.Program:
    """Compile a policy. `helpers` maps a function name to (def source, file name): extra
    top-level defs (written by the LLM layer) compiled into the same program; their spans
    point into their own file. `session` is the variables of earlier queries of an
    interactive session, as assignments of constants (capc.prompts.session): they run first,
    so the policy sees them with their types and the verifier with their values; their spans
    point into the file SESSION_FILE."""
    from capc.compiler.lower import Lowerer
    from capc.grammar import ast

    module = parse(source, file, limits=limits)
    if session.strip():
        prelude = parse(session, SESSION_FILE, limits=limits)
        module = ast.Module(module.file, module.source, tuple(prelude.body) + tuple(module.body))
    helper_modules = []
    for name, (text, helper_file) in (helpers or {}).items():
        helper = parse(text, helper_file, limits=limits)
        defined = [s.name for s in helper.body if hasattr(s, "name")]
        if name not in defined:
            # Located in the helper's own file, so the repair prompt can point at it.
            where = helper.body[0].span if helper.body else Span.point(helper_file, 1, 1)
            raise CompileError(codes.E046, f"helper source for '{name}' does not define '{name}'",
                               where, kind="subset", hint="the helper text must contain 'def "
                               f"{name}(...)'")
        helper_modules.append(helper)
    return Lowerer(get_profile(profile), limits).program(module, helper_modules)


SESSION_FILE = "<session>"


def compile_file(path: str, *, profile: str = "tabletop", limits: ResourceLimits = DEFAULT_LIMITS,
                 helpers: Mapping[str, tuple[str, str]] | None = None) -> ir.Program:
    """Read a policy file (InputError when it cannot be read) and compile it."""
    source = read_text(path, "policy")
    return compile_source(source, path, profile=profile, limits=limits, helpers=helpers)


__all__ = ["compile_source", "compile_file", "CompileError", "InputError"]
