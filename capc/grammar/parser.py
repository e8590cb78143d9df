"""Policy source -> `capc.grammar.ast.Module`, or a `CompileError` that says what and where.

One LALR parser per process (built on first use, its analysis cached on disk by lark), with
the AST built *during* parsing by an inline transformer (no lark tree is ever materialised).

Hostile input is expected. Before lark sees a character we refuse oversized sources (E401)
and NUL bytes (E005); while lexing, every identifier is NFKC-normalised the way Python does
and refused if it is a forbidden keyword (E010-E024), a dunder (E022) or a dangerous builtin
(E023); the indentation post-lexer refuses bracket or block nesting beyond the depth budget
(E402) on the token stream, and the tree builder refuses any node deeper than the budget, so
no later recursive pass can hit Python's recursion limit.

The parser object is shared; the little state a parse needs is thread-local
(capc.grammar.state).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import fields, is_dataclass, replace
from typing import Any, Iterator

from capc import codes
from capc.diagnostics import CompileError, Span
from capc.grammar import ast
from capc.grammar.state import _state
from capc.grammar.subset import (
    FORBIDDEN_BUILTINS, FORBIDDEN_KEYWORDS, PYTHON_KEYWORDS, forbidden_builtin_error,
    forbidden_keyword_error,
)
from capc.limits import DEFAULT_LIMITS, ResourceLimits

GRAMMAR_PATH = os.path.join(os.path.dirname(__file__), "policy.lark")

_OPEN = {"LPAR": "(", "LSQB": "[", "LBRACE": "{"}
_CLOSE = {"RPAR": "LPAR", "RSQB": "LSQB", "RBRACE": "LBRACE"}
_REFUSED = frozenset({"BITOP", "TILDE"})


def token_span(tok: Any) -> Span:
    return Span(_state.file, tok.line, tok.column, tok.end_line, tok.end_column)


# --- lexing: identifiers ---------------------------------------------------------------

def _check_name(tok):
    name = str(tok)
    if not name.isascii():
        # Python compares identifiers after NFKC normalisation, so `ｅｘｅｃ` *is* `exec`.
        normal = unicodedata.normalize("NFKC", name)
        if normal in PYTHON_KEYWORDS:
            raise CompileError(codes.E006, f"identifier '{name}' spells the keyword '{normal}' in other "
                               "characters", token_span(tok), kind="syntax",
                               hint="write keywords and names in plain ASCII")
        if normal != name:
            tok = tok.update(value=normal)
            name = normal
    if name in FORBIDDEN_KEYWORDS:
        raise forbidden_keyword_error(name, token_span(tok))
    if name.startswith("__") or name.endswith("__"):
        raise CompileError(codes.E022, f"dunder name '{name}' is not allowed", token_span(tok),
                           kind="subset",
                           hint="names with leading or trailing '__' reach Python internals; "
                                "pick another name")
    if name in FORBIDDEN_BUILTINS:
        raise forbidden_builtin_error(name, token_span(tok))
    return tok


def _refuse_bitwise(tok):
    raise CompileError(codes.E040, f"bitwise operator '{tok}' is not supported", token_span(tok),
                       kind="subset",
                       hint="use 'and', 'or' and 'not' for conditions and '-' to negate numbers")


# --- the indentation post-lexer ----------------------------------------------------------

class BlockIndenter:
    """Turns the whitespace after each _NEWLINE into _INDENT/_DEDENT tokens (newlines inside
    brackets are dropped), and enforces the nesting budget on brackets and blocks. Written
    here rather than taken from lark.indenter so that unbalanced brackets and tab widths
    produce our own located errors."""

    # BITOP/TILDE are in no rule: the lexer still produces them, so that `process` refuses
    # them by name. (A second lexer callback would not do: lark 1.3 chains user callbacks
    # with a late-bound loop variable, which silently disables the NAME callback.) The lexer
    # is lark's basic one, which lexes every terminal everywhere; `always_accept` only matters
    # to the contextual lexer and says what this class relies on should that ever change.
    always_accept = ("_NEWLINE", "BITOP", "TILDE")
    tab_len = 8

    def process(self, stream: Iterator[Any]) -> Iterator[Any]:
        max_depth = _state.limits.max_ast_depth
        brackets: list[Any] = []
        indents = [0]
        token = None
        previous = None
        for token in stream:
            kind = token.type
            if kind == "_NEWLINE":
                if brackets:
                    continue
                yield token
                indent_str = token.rsplit("\n", 1)[1]
                indent = 0
                for ch in indent_str:
                    indent = (indent // self.tab_len + 1) * self.tab_len if ch == "\t" else indent + 1
                if previous == "COLON" and indent <= indents[-1]:
                    raise CompileError(codes.E003, "expected an indented block",
                                       Span(_state.file, token.end_line, 1, token.end_line, indent + 2),
                                       kind="syntax",
                                       hint="indent the body of the statement that ends with ':'")
                previous = kind
                if indent > indents[-1]:
                    indents.append(indent)
                    if len(indents) > max_depth:
                        raise CompileError(codes.E402, f"blocks nested more than {max_depth} deep",
                                           Span(_state.file, token.end_line, 1, token.end_line, indent + 1),
                                           kind="limit", hint="flatten the code with a helper def")
                    yield token.new_borrow_pos("_INDENT", indent_str, token)
                else:
                    while indent < indents[-1]:
                        indents.pop()
                        yield token.new_borrow_pos("_DEDENT", indent_str, token)
                    if indent != indents[-1]:
                        raise CompileError(codes.E003, "unindent does not match any outer indentation level",
                                           Span(_state.file, token.end_line, indent + 1, token.end_line, indent + 2),
                                           kind="syntax",
                                           hint="indent the line like the block it belongs to")
                continue
            if kind in _REFUSED:
                _refuse_bitwise(token)
            if kind in _OPEN:
                brackets.append(token)
                if len(brackets) > max_depth:
                    raise CompileError(codes.E402, f"brackets nested more than {max_depth} deep",
                                       token_span(token), kind="limit",
                                       hint="compute the value in several steps")
            elif kind in _CLOSE:
                if not brackets or brackets[-1].type != _CLOSE[kind]:
                    opener = f" (it closes nothing: '{_OPEN[brackets[-1].type]}' at line " \
                             f"{brackets[-1].line} is still open)" if brackets else ""
                    raise CompileError(codes.E001, f"unmatched '{token}'{opener}", token_span(token),
                                       kind="syntax", hint="balance the brackets")
                brackets.pop()
            previous = kind
            yield token
        if brackets:
            opener = brackets[-1]
            raise CompileError(codes.E004, f"'{opener}' was never closed", token_span(opener),
                               kind="syntax", hint="add the closing bracket")
        while len(indents) > 1:
            indents.pop()
            yield token.new_borrow_pos("_DEDENT", "", token)


# --- the parser singleton ----------------------------------------------------------------

_LARK = None

# How the parser is built. lark's basic lexer works the way Python's tokenizer does: one
# scanner for the whole grammar, keywords are always keywords, the longest token wins. (The
# contextual lexer, used before, compiled a scanner per parser state on first use, ~15 ms of
# every process, and read the invalid `for x inj_names()` as `for x in j_names()`.)
_LARK_OPTIONS = {"parser": "lalr", "lexer": "basic", "start": ["module", "fstring_field"],
                 "maybe_placeholders": True, "propagate_positions": False}


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "capc")


def _cache_file(grammar: str, directory: str) -> str:
    """The cache file of this grammar text, these options, this lark and this Python: a
    file's name says what it holds, so an edited policy.lark (or a second checkout with
    another grammar) gets its own file instead of rebuilding the other's over and over."""
    import hashlib
    import sys

    import lark

    key = "\0".join([grammar, repr(sorted(_LARK_OPTIONS.items())), lark.__version__,
                      "%d.%d" % sys.version_info[:2]])
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return os.path.join(directory, f"policy-grammar-{digest}.lark-cache")


def build_lark(grammar: str, cache_dir: str | None):
    """A parser for `grammar`, its LALR tables loaded from `cache_dir` when they are there
    (about 20 ms instead of about 0.2 s to build them), built and written there otherwise.

    lark writes the cache file in place, so processes take a lock next to it: a shared one
    to read, an exclusive one to build and write. No process ever reads half a file, and
    concurrent first runs build the tables once. A cache directory that cannot be written
    is still read (someone may have filled it); without one (or with `cache_dir=None`) the
    tables are built in memory, every time. lark also checks the hash stored in the file
    and rebuilds a stale or corrupt one."""
    from lark import Lark

    from capc.grammar.builder import AstBuilder

    def make(cache: str | bool):
        return Lark(grammar, **_LARK_OPTIONS, postlex=BlockIndenter(), transformer=AstBuilder(),
                    lexer_callbacks={"NAME": _check_name}, cache=cache)

    if cache_dir is None:
        return make(False)
    path = _cache_file(grammar, cache_dir)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        lock = open(path + ".lock", "a")
    except OSError:  # a read-only cache: use what is there, write nothing
        return make(path if os.path.exists(path) else False)
    with lock:
        # Shared to read a complete file (a writer holds the exclusive lock until it is);
        # exclusive to build and write one. Not an atomic upgrade: lark loads the file if
        # another process wrote it in between.
        if _flock(lock, exclusive=False) and not os.path.exists(path):
            _flock(lock, exclusive=True)
        return make(path)


def _flock(handle, *, exclusive: bool) -> bool:
    """Take an advisory lock on `handle`; False where there are none (platform or file
    system), and then lark goes on alone, as it would without capc's lock."""
    try:
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    except (ImportError, OSError):
        return False
    return True


def get_lark():
    """The process-wide parser (lark's grammar analysis is cached on disk between runs)."""
    global _LARK, _DRIVER
    if _LARK is None:
        from capc.grammar.lalr import driver_for

        with open(GRAMMAR_PATH, encoding="utf-8") as handle:
            grammar = handle.read()
        _LARK = build_lark(grammar, _cache_dir())
        _DRIVER = driver_for(_LARK)
    return _LARK


_DRIVER = None  # capc.grammar.lalr's loop over _LARK's tables (None: lark's own parse)


# --- entry points ----------------------------------------------------------------------

def check_source_text(source: str, file: str, limits: ResourceLimits) -> None:
    """The checks that must happen before lark sees one character."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > limits.max_source_bytes:
        raise CompileError(codes.E401, f"policy is {size} bytes; at most {limits.max_source_bytes} are "
                           "accepted", Span.point(file, 1, 1), kind="limit",
                           hint="a policy is a short program; move data into the scene file")
    nul = source.find("\x00")
    if nul >= 0:
        line = source.count("\n", 0, nul) + 1
        col = nul - (source.rfind("\n", 0, nul) + 1) + 1
        raise CompileError(codes.E005, "source contains a NUL byte", Span.point(file, line, col),
                           kind="syntax", hint="remove the NUL character")


def normalize_newlines(source: str) -> str:
    """What Python does before tokenizing: drop a leading byte-order mark, read CRLF and a
    bare CR as line breaks (a bare CR must not hide a statement from line-based tools and
    still be code to us), end with a newline. Lines are those of `diagnostics.source_lines`
    (CR and LF only: a form feed or U+0085 is not a line break here)."""
    if source.startswith("\ufeff"):
        source = source[1:]
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    return source if source.endswith("\n") else source + "\n"


def parse(source: str, file: str = "<policy>", *, limits: ResourceLimits = DEFAULT_LIMITS) -> ast.Module:
    """Parse a whole policy file."""
    check_source_text(source, file, limits)
    text = normalize_newlines(source)
    body = _run(text, "module", file, limits)
    return ast.Module(file, source, body)


def parse_expression_at(text: str, line: int, col: int) -> ast.Expr:
    """Parse the expression of an f-string field that starts at (line, col) of the current
    file; the spans of the result point into that file."""
    outer = _state.file, _state.limits
    try:
        expr = _run(text, "fstring_field", *outer)
    except CompileError as exc:
        d = exc.diagnostic
        span = shift(d.span, line - 1, col - 1) if d.span is not None else None
        raise CompileError(d.code, d.message, span, kind=d.kind, hint=d.hint, notes=d.notes) from None
    finally:
        _state.file, _state.limits = outer
    return shift(expr, line - 1, col - 1)


def _run(text: str, start: str, file: str, limits: ResourceLimits) -> Any:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    _state.file, _state.limits = file, limits
    _state.parse_field = parse_expression_at
    try:
        lark = get_lark()
        return _DRIVER.parse(text, start) if _DRIVER is not None else lark.parse(text, start=start)
    except UnexpectedCharacters as exc:
        raise _character_error(text, exc) from None
    except UnexpectedToken as exc:
        raise _token_error(exc) from None
    except UnexpectedEOF as exc:  # pragma: no cover - LALR reports $END as a token
        raise CompileError(codes.E004, "unexpected end of file", Span.point(file, exc.line or 1, 1),
                           kind="syntax") from None


def _character_error(text: str, exc: Any) -> CompileError:
    char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
    span = Span.point(_state.file, exc.line, exc.column)
    if char in "'\"":
        rest = text[exc.pos_in_stream:].split("\n", 1)[0]
        span = Span(_state.file, exc.line, exc.column, exc.line, exc.column + max(1, len(rest)))
        return CompileError(codes.E004, "unterminated string literal", span, kind="syntax",
                            hint=f"close the string with {char}")
    if char == "\\":
        return CompileError(codes.E002, "a backslash is only allowed at the end of a line (line continuation)",
                            span, kind="syntax")
    if char == "!":
        return CompileError(codes.E002, "unexpected '!'", span, kind="syntax",
                            hint="write 'not x' for negation and '!=' for inequality")
    shown = repr(char) if char.isprintable() and char.strip() else f"U+{ord(char):04X}" if char else "end"
    return CompileError(codes.E002, f"unexpected character {shown}", span, kind="syntax",
                        hint="policies are plain Python: check for a stray character")


_TOKEN_WORDS = {
    "_NEWLINE": "end of line", "$END": "end of file", "_INDENT": "indent", "_DEDENT": "dedent",
    "NAME": "name", "NUMBER": "number", "STRING": "string", "LONG_STRING": "string",
    "COLON": "':'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'",
    "RBRACE": "'}'", "COMMA": "','", "EQUAL": "'='", "DOT": "'.'",
}


def _describe_expected(expected: set[str]) -> str:
    words = sorted({_TOKEN_WORDS.get(name, _lark_terminal_text(name)) for name in expected})
    if len(words) > 6:
        words = words[:6] + ["..."]
    return ", ".join(words)


def _lark_terminal_text(name: str) -> str:
    lark = get_lark()
    for term in lark.terminals:
        if term.name == name and term.pattern.type == "str":
            return repr(term.pattern.value)
    return name.lower()


def _token_error(exc: Any) -> CompileError:
    tok = exc.token
    kind = tok.type
    expected = set(exc.expected or ())
    if kind == "$END":
        return CompileError(codes.E004, "unexpected end of file", Span.point(_state.file, max(1, tok.line or 1), 1),
                            kind="syntax", hint="the last statement is incomplete")
    span = token_span(tok)
    if kind == "_INDENT":
        return CompileError(codes.E003, "unexpected indent", span, kind="syntax",
                            hint="only the body of if/for/while/def is indented")
    if "_INDENT" in expected:
        return CompileError(codes.E003, "expected an indented block", span, kind="syntax",
                            hint="indent the body of the statement that ends with ':'")
    if kind == "_DEDENT":
        return CompileError(codes.E003, "unexpected dedent", span, kind="syntax")
    what = "end of line" if kind == "_NEWLINE" else f"'{tok}'"
    if kind == "_NEWLINE":
        span = Span.point(_state.file, tok.line, tok.column)
    return CompileError(codes.E001, f"unexpected {what}", span, kind="syntax",
                        hint=f"expected {_describe_expected(expected)}" if expected else None)


# --- spans inside f-strings --------------------------------------------------------------

_FIELDS_CACHE: dict[type, tuple[str, ...]] = {}


def shift(node: Any, dline: int, dcol: int) -> Any:
    """The same tree with every span moved: line 1 of the fragment starts at column 1+dcol
    of line 1+dline of the file; later lines keep their columns."""
    if isinstance(node, Span):
        def move(line: int, col: int) -> tuple[int, int]:
            return (line + dline, col + dcol) if line == 1 else (line + dline, col)
        line, col = move(node.line, node.col)
        end_line, end_col = move(node.end_line, node.end_col)
        return Span(node.file, line, col, end_line, end_col)
    if isinstance(node, tuple):
        return tuple(shift(item, dline, dcol) for item in node)
    if is_dataclass(node) and not isinstance(node, type):
        names = _FIELDS_CACHE.get(type(node))
        if names is None:
            names = tuple(f.name for f in fields(node) if f.name != "depth")
            _FIELDS_CACHE[type(node)] = names
        changes = {name: shift(getattr(node, name), dline, dcol) for name in names}
        return replace(node, **changes)
    return node
