"""Hierarchical generation: from the model's top-level code to one complete, checkable program.

Code as Policies lets generated code call functions nobody wrote yet, and answers them with
more generated code. capc does the same, but every piece goes through the front end before it
is used, and the whole program (policy plus every definition) is verified together:

1. The reply is compiled (`compile_source`). `Program.undefined` lists the calls nobody defines.
2. Sub-LMP calls whose query is a constant (`parse_obj_name('the leftmost block', ...)`) are
   answered now: the model writes the code, it becomes a helper `def` whose parameters are the
   variables the call passes in its context (`f'objects = {objects}'` passes `objects`), and the
   call in the policy is replaced by a call of the helper. The answer is then checked and
   verified in place like any other code. Sub-LMP answers may not move the robot.
3. Each undefined function gets a definition from the function prompt, depth-first: a
   definition is compiled alone first, so the functions *it* needs are known before it is
   accepted. Depth is limited (`max_depth`, 4 by default); a definition that needs itself,
   directly or through others, is rejected (E610), as is one nested too deep (E611).
4. The final program is compiled with `helpers=` (each definition in its own file, so a
   diagnostic points into the definition that is wrong) and handed back for verification.
   Each part keeps its origin ("in make_circle, generated for line 2"), which the diagnostics
   located in it carry as a note.

Answers are kept for the whole compile session (`cache`, shared by the repair attempts): a
prompt the model has answered is not sent again word for word after a repair.

Sub-LMP calls whose query is only known at run time are answered by `RuntimeSubLMP` during
execution, with the same checks.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from capc import codes
from capc.compiler import ir
from capc.compiler.profiles import get_profile
from capc.diagnostics import CompileError, Span
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.prompts import prompt_builder as pb
from capc.prompts.provider import Provider, Reply, Request

DEFAULT_MAX_DEPTH = 4
E_CYCLE = codes.E610
E_DEPTH = codes.E611
E_NOT_A_DEFINITION = codes.E612
E_SUB_LMP_MOVES = codes.E613
E_SUB_LMP_RUNTIME = codes.E614


@dataclass(frozen=True)
class Exchange:
    """One request to the model and its reply (kept for the audit store)."""

    request: Request
    reply: Reply

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request.to_json(), "meta": dict(self.request.meta),
                "reply": self.reply.to_json()}


@dataclass
class Generated:
    """A complete program: the policy (sub-LMP calls answered) plus its helper definitions."""

    source: str                                  # the policy as compiled
    file: str
    helpers: dict[str, tuple[str, str]]          # name -> (definition source, file)
    program: ir.Program
    origins: dict[str, str] = field(default_factory=dict)   # helper file -> where it came from
    session: str = ""   # the earlier instructions' variables compiled before the policy (capc.prompts.session)

    def parts(self) -> list[dict[str, str]]:
        """Each generated part with its listing and origin (for --json and the audit)."""
        return [{"name": name, "file": file, "origin": self.origins.get(file, ""), "source": text}
                for name, (text, file) in self.helpers.items()]

    def sources(self) -> dict[str, str]:
        """file -> text, for rendering diagnostics of any part."""
        out = {file: text for text, file in self.helpers.values()}
        out[self.file] = self.source
        return out

    def bundle(self) -> str:
        """One self-contained policy file: the session's variables (when there are any: the
        values the policy was verified with), the definitions, then the policy."""
        from capc.compiler.frontend import SESSION_FILE

        parts = [f"# {SESSION_FILE}: variables of the earlier instructions\n{self.session.rstrip()}\n"] \
            if self.session.strip() else []
        parts += [f"# {file}: written by the model, checked by capc\n{text.rstrip()}\n"
                  for text, file in self.helpers.values()]
        parts.append(self.source.rstrip() + "\n")
        return "\n\n".join(parts)


def locate(diagnostic: Any, origins: Mapping[str, str]) -> Any:
    """A diagnostic located in a generated part carries the part's origin as its first note
    ("in make_circle, generated for line 2"): the line numbers are the part's own."""
    span = getattr(diagnostic, "span", None)
    origin = origins.get(span.file) if span is not None else None
    if not origin or origin in diagnostic.notes:
        return diagnostic
    return dataclasses.replace(diagnostic, notes=(origin,) + tuple(diagnostic.notes))


def span_offsets(source: str, span: Span) -> tuple[int, int]:
    """Character offsets of a span (1-based lines and columns, end exclusive)."""
    starts = [0]
    for line in source.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    return starts[span.line - 1] + span.col - 1, starts[span.end_line - 1] + span.end_col - 1


def span_text(source: str, span: Span) -> str:
    start, end = span_offsets(source, span)
    return source[start:end]


def call_signature(call: ir.UndefinedCall) -> str:
    """What a call implies about the missing function: `make_circle(arg1, radius, center)`."""
    params = [f"arg{i + 1}" for i in range(call.n_args)] + list(call.keywords)
    return f"{call.name}({', '.join(params)})"


_BINDING = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\s*=\s*$")


def context_bindings(context: Any, source: str) -> list[tuple[str, str]]:
    """Variables a sub-LMP call hands over in its context f-string, CaP style:
    `f'objects = {objects}'` -> [("objects", "objects")], `f'pts = {pts * 2}'` -> [("pts", "pts * 2")].
    `context` is an f-string node of the syntax tree or of the IR (both have `parts`)."""
    if not hasattr(context, "parts"):
        return []
    out: list[tuple[str, str]] = []
    previous = ""
    for part in context.parts:
        if isinstance(part, str):
            previous = part
            continue
        match = _BINDING.search(previous.split("\n")[-1].split(",")[-1].split(";")[-1])
        if match and match.group(1) not in {n for n, _ in out}:
            out.append((match.group(1), span_text(source, part.value.span)))
        previous = ""
    return out


def _argument(call: Any, index: int, name: str) -> Any:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.name == name), None)


def compile_text(source: str, file: str, *, profile: str, limits: ResourceLimits,
                 helpers: Mapping[str, tuple[str, str]] | None = None, session: str = "") -> ir.Program:
    from capc.compiler.frontend import compile_source
    return compile_source(source, file, profile=profile, limits=limits, helpers=dict(helpers or {}),
                          session=session)


def moving_calls(node: Any, profile: str = "tabletop") -> list[ir.Call]:
    prof = get_profile(profile)
    return [n for n in ir.walk(node) if isinstance(n, ir.Call) and n.kind == ir.CALL_API
            and (prim := prof.primitive(n.callee)) is not None and prim.moves]


@dataclass
class Generator:
    """Turns the model's code for one instruction into a `Generated` program, asking the model
    for every missing piece. One Generator per attempt; `exchanges` keeps every model call."""

    provider: Provider
    objects: Sequence[str]
    spec: Any = None
    profile: str = "tabletop"
    limits: ResourceLimits = DEFAULT_LIMITS
    max_depth: int = DEFAULT_MAX_DEPTH
    attempt: int = 0
    definition_repairs: int = 1   # times a refused definition goes back to the function prompt
    exchanges: list[Exchange] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)   # every file seen, for rendering
    origins: dict[str, str] = field(default_factory=dict)   # helper file -> where it came from
    cache: dict[Request, Reply] = field(default_factory=dict)  # the compile session's answers
    session: str = ""   # earlier queries' variables (capc.prompts.session), compiled before the policy
    # program -> {(line, col): query}: the queries run-time sub-LMP calls of the policy ask in
    # the verified world (capc.prompts.pipeline.foresee_queries); None: nothing is foreseen
    foresee: Any = None

    def ask(self, prompt: pb.Prompt, round_: int = 0) -> Reply:
        request = prompt.request(self.provider.model, attempt=self.attempt,
                                 temperature=getattr(self.provider, "temperature", 0.0))
        if round_:
            request.meta["round"] = round_
        if request in self.cache:   # asked before in this session: the same answer, not a new request
            return self.cache[request]
        reply = self.provider.complete(request)
        self.cache[request] = reply
        exchange = Exchange(request, reply)
        self.exchanges.append(exchange)
        return reply

    def _compile(self, source: str, file: str, helpers=None) -> ir.Program:
        self.sources[file] = source
        session = self.session if file == "<policy>" else ""
        if session:
            self.sources["<session>"] = session
        return compile_text(source, file, profile=self.profile, limits=self.limits, helpers=helpers,
                            session=session)

    # -- the whole program ------------------------------------------------------------

    def build(self, code: str, file: str = "<policy>") -> Generated:
        helpers: dict[str, tuple[str, str]] = {}
        code, sub_helpers = self._answer_sub_lmps(code, file)
        helpers.update(sub_helpers)
        program = self._compile(code, file, helpers)
        # Depth-first definitions of everything still missing; a definition may need more.
        foreseen_rounds = 0
        for _round in range(self.max_depth * 16 + 1):
            missing = [u for u in program.undefined if u.name not in helpers]
            if not missing and self.foresee is not None and file == "<policy>" \
                    and foreseen_rounds < MAX_FORESEEN:
                foreseen_rounds += 1
                code, more = self._answer_sub_lmps(code, file, foreseen=self.foresee(program))
                if more:   # asked now: compile again with their answers, and look further
                    helpers.update(more)
                    sub_helpers.update(more)
                    program = self._compile(code, file, helpers)
                    continue
                foreseen_rounds = MAX_FORESEEN
            if not missing:
                for name in sub_helpers:
                    self._refuse_moving_answer(program, name)
                return Generated(code, file, helpers, program,
                                 {f: self.origins[f] for _, f in helpers.values() if f in self.origins},
                                 self.session if file == "<policy>" else "")
            first: dict[str, ir.UndefinedCall] = {}
            for call in missing:
                first.setdefault(call.name, call)
            for name, call in first.items():
                if name not in helpers:
                    self._define(call, depth=1, path=(name,), helpers=helpers)
            program = self._compile(code, file, helpers)
        raise CompileError(E_DEPTH, "generating definitions did not converge", None, kind="llm")

    # -- compile-time sub-LMPs -----------------------------------------------------------

    def _refuse_moving_answer(self, program: ir.Program, name: str) -> None:
        """A sub-LMP answer only looks at the scene: neither it nor any function it calls
        (generated ones included) may move the robot."""
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen or current not in program.functions:
                continue
            seen.add(current)
            body = program.functions[current]
            moves = moving_calls(body, self.profile)
            if moves:
                raise CompileError(E_SUB_LMP_MOVES, f"the answer to {name.rsplit('_answer', 1)[0]}() moves "
                                                    f"the robot ({moves[0].callee}); sub-LMP answers may only "
                                                    f"look at the scene", moves[0].span,
                                   kind="safety", hint="move the robot in the policy, not in a parse_* answer")
            todo += [n.callee for n in ir.walk(body) if isinstance(n, ir.Call) and n.kind == ir.CALL_USER]

    def _answer_sub_lmps(self, code: str, file: str, foreseen: Mapping[tuple[int, int], str] | None = None
                         ) -> tuple[str, dict[str, tuple[str, str]]]:
        """Answer the constant-query sub-LMP calls of the policy; found on the syntax tree,
        before type checking, because the call's declared result (a name *or* a list of
        names, say) may only fit its use once the answer's own type is known.

        With `foreseen` ({(line, col): query}), answer instead the calls at those places whose
        query is only known at run time, for the query foreseen there: the call becomes
        `(ANSWER(...) if QUERY == 'foreseen query' else CALL)`, so the answer asked now runs
        (and is verified) exactly when the run asks that query, and any other query is still
        asked at run time (guarded)."""
        from capc.grammar import ast
        from capc.grammar.parser import parse

        self.sources[file] = code
        module = parse(code, file, limits=self.limits)
        own = {s.name for s in module.body if isinstance(s, ast.FunctionDef)}
        replacements: list[tuple[Span, str]] = []
        helpers: dict[str, tuple[str, str]] = {}
        taken = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", code))
        calls = [n for n in ir.walk(module.body) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id in pb.SUB_LMPS and n.func.id not in own]
        for call in calls:
            lmp = call.func.id
            query = _argument(call, 0, "query")
            constant = isinstance(query, ast.Constant) and isinstance(query.value, str)
            where = (call.span.line, call.span.col)
            if foreseen is not None:
                if constant or query is None or where not in foreseen or not _pure(query, own, self.profile):
                    continue
                asked = foreseen[where]
            elif not constant:
                continue  # known only at run time: RuntimeSubLMP answers it (or foresight, above)
            else:
                asked = query.value
            if any(_contains(span, call.span) for span, _ in replacements):
                continue  # nested inside a call we already replace
            bindings = context_bindings(_argument(call, 1, "context"), code)
            shape_pts = _argument(call, 2, "shape_pts")  # CaP: transform_shape_pts(query, shape_pts=pts)
            if shape_pts is not None and "shape_pts" not in {n for n, _ in bindings}:
                bindings.append(("shape_pts", span_text(code, shape_pts.span)))
            number = 1
            while f"{lmp}_answer_{number}" in taken:
                number += 1
            helper = f"{lmp}_answer_{number}"
            taken.add(helper)
            names = [n for n, _ in bindings]
            reply = self.ask(pb.sub_lmp_prompt(lmp, asked, self.objects, given=names,
                                               profile=self.profile, spec=self.spec))
            helper_file = f"<{lmp} answer {number}>"
            preface = "" if "objects" in names else "objects = get_obj_names()\n"
            text = (f"def {helper}({', '.join(names)}):\n"
                    + textwrap.indent(preface + reply.text.strip("\n") + "\nreturn ret_val", "    ") + "\n")
            helpers[helper] = (text, helper_file)
            self.sources[helper_file] = text
            self.origins[helper_file] = (f"in {helper}, the answer to {lmp}({asked!r}) asked for "
                                         f"line {call.span.line}")
            answered = f"{helper}({', '.join(t for _, t in bindings)})"
            if not constant:
                answered = f"({answered} if {span_text(code, query.span)} == {asked!r} else {span_text(code, call.span)})"
            replacements.append((call.span, answered))
        for span, text in sorted(replacements, key=lambda r: (r[0].line, r[0].col), reverse=True):
            start, end = span_offsets(code, span)
            code = code[:start] + text + code[end:]
        return code, helpers

    # -- missing functions -------------------------------------------------------------

    def _define(self, call: ir.UndefinedCall, depth: int, path: tuple[str, ...],
                helpers: dict[str, tuple[str, str]]) -> None:
        name = call.name
        chain = " -> ".join(path)
        if depth > self.max_depth:
            raise CompileError(E_DEPTH, f"{name}() would be a definition nested {depth} deep ({chain}); "
                                        f"the limit is {self.max_depth}", call.span, kind="llm",
                               hint="ask for a simpler policy, or raise --max-depth")
        caller = self.sources.get(call.span.file, "")
        lines = caller.split("\n")
        call_line = lines[call.span.line - 1].strip() if 0 < call.span.line <= len(lines) else name
        prompt = pb.function_prompt(call_signature(call), call_line, self.objects,
                                    profile=self.profile, spec=self.spec)
        file = f"<generated {name}>"
        caller_name = "" if call.span.file == "<policy>" else f" of {call.span.file}"
        self.origins[file] = f"in {name}, generated for line {call.span.line}{caller_name}"
        # A definition the front end refuses goes back to the function prompt with the reason
        # (the top-level repair could only avoid the helper, not fix it).
        for round_ in range(self.definition_repairs + 1):
            reply = self.ask(prompt, round_)
            text = reply.text.strip("\n") + "\n"
            try:
                alone = self._definition(name, text, file)
                break
            except CompileError as exc:
                if round_ == self.definition_repairs:
                    raise
                prompt = prompt.with_turns([("assistant", reply.text), ("user", definition_feedback(exc, text))])
        self._define_needed(alone, depth, path, helpers)
        helpers[name] = (text, file)

    def _definition(self, name: str, text: str, file: str) -> ir.Program:
        """Compile a reply to the function prompt alone; it must be one def of `name`."""
        alone = self._compile(text, file)
        defs = [s for s in alone.body if isinstance(s, ir.FunctionDef)]
        others = [s for s in alone.body if not isinstance(s, ir.FunctionDef)]
        if others or [d.name for d in defs] != [name]:
            where = others[0].span if others else (defs[0].span if defs else Span.point(file, 1, 1))
            found = ", ".join(d.name for d in defs) or "no def"
            raise CompileError(E_NOT_A_DEFINITION,
                               f"the model was asked for a definition of {name}() and answered with "
                               + ("statements outside a def" if others else f"{found}"), where, kind="llm",
                               hint=f"the answer must be exactly one `def {name}(...)`")
        return alone

    def _define_needed(self, alone: ir.Program, depth: int, path: tuple[str, ...],
                       helpers: dict[str, tuple[str, str]]) -> None:
        needed: dict[str, ir.UndefinedCall] = {}
        for dep in alone.undefined:
            needed.setdefault(dep.name, dep)
        for dep_name, dep in needed.items():
            if dep_name in path:
                cycle = " -> ".join(path[path.index(dep_name):] + (dep_name,))
                raise CompileError(E_CYCLE, f"recursive definitions: {cycle}", dep.span, kind="llm",
                                   hint="generated helpers may not call themselves, directly or through others")
            if dep_name in helpers:
                continue
            self._define(dep, depth + 1, path + (dep_name,), helpers)


MAX_FORESEEN = 8   # rounds of foresight per build: each answers the next run-time query reached


def _pure(expr: Any, own: set[str], profile: str) -> bool:
    """A query expression that can be evaluated twice (in the test of the foreseen answer and
    again in the run-time call it falls back to) without doing anything twice: it calls only
    the library and primitives that neither move nor ask a model, not the policy's own or
    generated functions."""
    from capc.grammar import ast

    prof = get_profile(profile)
    for node in ir.walk(expr):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                continue   # np.* or a method of a value: the library
            if not isinstance(node.func, ast.Name) or node.func.id in own:
                return False
            prim = prof.primitive(node.func.id)
            if prim is not None and (prim.moves or prim.kind == "sub_lmp"):
                return False
            if prim is None and not _is_builtin(node.func.id):
                return False
    return True


def _is_builtin(name: str) -> bool:
    from capc.compiler.library import BUILTINS
    return name in BUILTINS


def definition_feedback(error: CompileError, text: str) -> str:
    from capc.diagnostics import render
    return ("capc refused this definition:\n\n" + render(error.diagnostic, text)
            + "\n\nWrite the definition again. Answer with the def only.")


def _contains(outer: Span, inner: Span) -> bool:
    return (outer.line, outer.col) <= (inner.line, inner.col) and \
        (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col) and outer != inner
