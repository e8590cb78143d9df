"""Spans, located errors and their rustc/Elm-style rendering.

Everything that can go wrong with user input ends up as one of two exceptions:

* `CompileError`: the policy itself is wrong (syntax, subset, types, safety). Exit code 1.
* `InputError`: a file the user gave us is missing or malformed (scene, limits, cassette).
  Exit code 2.

Both carry a `Diagnostic` so that the CLI, `--json`, the audit store and the repair prompt
all print the same facts. This module depends on nothing else in capc on purpose: every
layer may raise these.
"""

from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Any

from capc import codes


@dataclass(frozen=True)
class Span:
    """A region of one source file; lines and columns are 1-based, the end is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def point(file: str, line: int, col: int) -> "Span":
        return Span(file, line, col, line, col + 1)

    def cover(self, other: "Span") -> "Span":
        """The smallest span that holds both (same file assumed)."""
        start = min((self.line, self.col), (other.line, other.col))
        end = max((self.end_line, self.end_col), (other.end_line, other.end_col))
        return Span(self.file, start[0], start[1], end[0], end[1])


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `code` is stable (tests and users grep for it); `message` says why,
    `hint` says what to do instead, `counterexample` is a JSON-able dict when a solver
    produced one."""

    code: str
    message: str
    span: Span | None = None
    kind: str = "error"  # error | syntax | subset | type | safety | input | limit | warning
    hint: str | None = None
    counterexample: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "kind": self.kind,
            "file": self.span.file if self.span else None,
            "line": self.span.line if self.span else None,
            "col": self.span.col if self.span else None,
            "end_line": self.span.end_line if self.span else None,
            "end_col": self.span.end_col if self.span else None,
            "hint": self.hint,
            "notes": list(self.notes),
            "counterexample": self.counterexample,
        }


class CapcError(Exception):
    """Base of the errors that reach users as a diagnostic rather than a traceback."""

    exit_code = 1

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic

    @property
    def code(self) -> str:
        return self.diagnostic.code

    @property
    def span(self) -> Span | None:
        return self.diagnostic.span


class CompileError(CapcError):
    """The policy is outside the language, ill-typed, or too big to check."""

    exit_code = 1

    def __init__(self, code: str, message: str, span: Span | None = None, *,
                 kind: str = "error", hint: str | None = None,
                 notes: tuple[str, ...] = ()):
        super().__init__(Diagnostic(code, message, span, kind, hint, None, tuple(notes)))


class InputError(CapcError):
    """A file or argument the user supplied is unusable (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 col: int | None = None, code: str = codes.E200, hint: str | None = None):
        span = Span.point(file, line, col or 1) if file and line else None
        super().__init__(Diagnostic(code, message, span, "input", hint))
        self.file = file

    def one_line(self) -> str:
        d = self.diagnostic
        where = self.file or ""
        if d.span is not None:
            where = f"{d.span.file}:{d.span.line}:{d.span.col}"
        text = f"{where}: {d.message}" if where else d.message
        if d.hint:
            text += f" ({d.hint})"
        return f"error[{d.code}]: {text}"


# Longest run of non-blank characters `render` prints whole. Messages are never cut (a long
# explanation is read to its end), but one "word" this long is a quoted name or value from a
# hostile policy (a 12,000-character identifier made a 12 kB error line): its middle is left
# out and counted. The diagnostic itself (JSON, audit store) keeps everything.
MAX_RENDERED_WORD = 80

# Counterexample keys for the machinery, not for people: `call_index` counts robot-API calls
# from 0 (the span already says which line); JSON and the audit store keep them.
INTERNAL_COUNTEREXAMPLE_KEYS = frozenset({"call_index"})


def fold_long_words(text: str, limit: int = MAX_RENDERED_WORD) -> str:
    """`text` with every run of more than `limit` non-blank characters shortened in the
    middle, saying how much was left out; everything else exactly as it was."""
    import re

    def fold(match: "re.Match[str]") -> str:
        word = match.group(0)
        keep = limit // 2
        return f"{word[:keep]}…({len(word) - 2 * keep:,} characters)…{word[-keep:]}"

    return re.sub(rf"\S{{{limit + 1},}}", fold, text)


def render(diagnostic: Diagnostic, source: str | None = None, *, color: bool = False) -> str:
    """Render a diagnostic the way rustc does: header, location, the source line, a caret
    under the span, then the hint and any counterexample in words."""

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    level = "warning" if diagnostic.kind == "warning" else "error"
    message = fold_long_words(diagnostic.message)
    out = [paint(f"{level}[{diagnostic.code}]", "1;31" if level == "error" else "1;33")
           + paint(f": {message}", "1")]
    span = diagnostic.span
    if span is not None:
        gutter = " " * len(str(span.end_line))
        out.append(f"{gutter}--> {span.file}:{span.line}:{span.col}")
        lines = source_lines(source) if source is not None else []
        if 1 <= span.line <= len(lines):
            text = lines[span.line - 1]
            # Very long lines (hostile input) are cut around the caret so the message stays readable.
            start = 0
            if len(text) > 160:
                start = max(0, span.col - 60)
                text = ("…" if start else "") + text[start:start + 120] + "…"
            text = text.replace("\t", " ").replace("\f", " ")
            shift = 1 if start else 0   # the "…" in front
            first = span.col - 1 - start + shift
            last = span.end_col - 1 - start + shift if span.end_line == span.line else len(text)
            # Columns count characters; the terminal shows full-width ones (ｅｘｅｃ) two cells wide.
            pad = _cells(text[:max(0, first)])
            width = max(1, min(_cells(text[max(0, first):max(first, last)]), 120))
            out.append(f"{gutter} |")
            out.append(f"{span.line} | {text}")
            out.append(f"{gutter} | {' ' * max(0, pad)}{paint('^' * width, '1;31')}")
    for note in diagnostic.notes:
        out.append(f"  = note: {note}")
    if diagnostic.counterexample:
        out.extend("  = " + line for line in describe_counterexample(diagnostic.counterexample))
    if diagnostic.hint:
        out.append(f"  = help: {diagnostic.hint}")
    return "\n".join(out)


def source_lines(source: str) -> list[str]:
    """The lines of a policy as the parser counts them: CRLF, CR and LF break lines; form
    feeds, NEL (U+0085) and U+2028 do not (`str.splitlines` would split at them and show a
    hostile policy's error under the wrong line)."""
    return source.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def listing_lines(source: str) -> list[str]:
    """The lines to number in a listing of a policy: `source_lines` without the empty line
    after a final newline (a file that ends with a newline has no extra last line)."""
    lines = source_lines(source)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def _cells(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def describe_counterexample(cex: dict[str, Any]) -> list[str]:
    """The counterexample in words. Keys are those the verifier writes (see
    capc.safety.counterexample); unknown keys are listed as they are."""
    lines = ["counterexample:"]
    objects = cex.get("objects") or {}
    if objects:
        lines.append("  world: " + ", ".join(
            f"{name} at ({', '.join(f'{v:.3f}' for v in pos)})" for name, pos in objects.items()))
    variables = cex.get("variables") or {}
    if variables:
        lines.append("  values on the path: " + ", ".join(f"{k} = {v}" for k, v in variables.items()))
    if "target" in cex and cex["target"] is not None:
        lines.append("  offending target: (" + ", ".join(f"{v:.3f}" for v in cex["target"]) + ")")
    if cex.get("segment"):
        a, b = cex["segment"]
        lines.append("  offending segment: (" + ", ".join(f"{v:.3f}" for v in a) + ") -> ("
                     + ", ".join(f"{v:.3f}" for v in b) + ")")
    if cex.get("limit"):
        excess = cex.get("excess")
        lines.append(f"  breaks: {cex['limit']}" + (f" by {excess:.4g}" if isinstance(excess, (int, float)) else ""))
    if cex.get("replayed") is not None:
        lines.append("  replayed concretely: " + ("confirmed" if cex["replayed"] else "NOT confirmed"))
    for key, value in cex.items():
        if key not in {"objects", "variables", "target", "segment", "limit", "excess", "replayed"} \
                and key not in INTERNAL_COUNTEREXAMPLE_KEYS:
            lines.append(f"  {key}: {value}")
    return lines
