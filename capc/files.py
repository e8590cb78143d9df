"""Reading the user's YAML/JSON files (scenes, limits) with positions kept for errors, and
checking the files and folders capc is asked to write.

YAML is a superset of JSON, so one reader serves both. We compose the YAML node graph
ourselves instead of calling `yaml.safe_load` so that every value keeps the line and column
it came from: a bad value in a limits file is then reported as `limits.yaml:4:12: ...`.

An output path the user names (`--record out.gif`, `-o policy.py`, `--plot cex.png`, `--out
DIR`) is checked before any work is done (`check_output_path`, `check_output_dir`), and the
write itself runs under `output_errors`, so a missing directory, a path that is a directory,
a read-only place or a full disk is an input error (exit 2, one line), never a crash.
"""

from __future__ import annotations

import errno
import os
import re
from contextlib import contextmanager
from typing import Iterator
from dataclasses import dataclass, field
from typing import Any

from capc import codes
from capc.diagnostics import InputError

# A document larger than this is not a scene or a limits file; refusing it early keeps a
# hostile file from costing memory or time.
MAX_DOCUMENT_BYTES = 1_000_000
# Scene and limits files are a few kB. PyYAML composes ~100 kB/s, so this bound is also a
# time bound: a hostile 1 MB YAML file would hold `capc check --scene` for ~10 s.
MAX_YAML_BYTES = 32_768
# Values one scene/limits document may hold once aliases are expanded: nine nested aliases
# of nine items each ("billion laughs") are 9**9 paths from 400 bytes.
MAX_DOCUMENT_VALUES = 20_000
# How deep collections may nest. PyYAML's scanner slows down sharply with the depth of flow
# collections (1,000 nested `[` cost it 0.7 s), so flow nesting is measured before it composes.
MAX_NESTING = 50
_EXPONENT_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")

Path = tuple[str | int, ...]


@dataclass
class Document:
    """Plain data (dicts, lists, scalars) plus where each part of it was written."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def error(self, path: Path, message: str, hint: str | None = None) -> InputError:
        """An InputError located at `path` (or at its nearest located parent)."""
        probe = tuple(path)
        while probe not in self.positions and probe:
            probe = probe[:-1]
        line, col = self.positions.get(probe, (None, None))
        where = ".".join(str(p) for p in path) or "document"
        return InputError(f"{where}: {message}", file=self.file, line=line, col=col, hint=hint)


def read_text(path: str, what: str) -> str:
    """Read a user file as UTF-8; any failure becomes one clear InputError."""
    try:
        size = os.path.getsize(path)
    except OSError:
        raise InputError(f"{what} file not found: {path}", file=path) from None
    if os.path.isdir(path):
        raise InputError(f"{what} path is a directory, not a file: {path}", file=path)
    if size > MAX_DOCUMENT_BYTES:
        raise InputError(f"{what} file is too large ({size} bytes, at most {MAX_DOCUMENT_BYTES})",
                         file=path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read {what} file {path}: {exc.strerror or exc}", file=path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{what} file is not UTF-8 text (byte {exc.start})", file=path,
                         line=line) from None


E_OUTPUT = codes.E206   # an output file or folder cannot be written


def user_dir(kind: str, *names: str) -> str:
    """capc's folder of `kind` ("cache" or "state") under the XDG base directories
    (`$XDG_CACHE_HOME/capc`, default `~/.cache/capc`; `$XDG_STATE_HOME/capc`, default
    `~/.local/state/capc`), joined with `names`. Not created here."""
    variable, default = {"cache": ("XDG_CACHE_HOME", (".cache",)),
                         "state": ("XDG_STATE_HOME", (".local", "state"))}[kind]
    base = os.environ.get(variable) or os.path.join(os.path.expanduser("~"), *default)
    return os.path.join(base, "capc", *names)

_REASONS = {
    errno.ENOENT: "its directory does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EISDIR: "it is a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.ENAMETOOLONG: "the name is too long",
}
# errno values that can only be about the machine, not about capc (a missing file could be a
# bug: capc's own data): the CLI reports these as input errors even where no check caught them.
ENVIRONMENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT})


def os_reason(exc: OSError) -> str:
    """A few words for an OSError, without the errno number."""
    return _REASONS.get(exc.errno, exc.strerror or str(exc))


def output_error(path: str, what: str, reason: str, *, code: str = E_OUTPUT,
                 hint: str | None = None) -> InputError:
    return InputError(f"cannot write the {what} {path}: {reason}", code=code, hint=hint)


def check_output_path(path: str, what: str, *, code: str = E_OUTPUT, example: str = "out") -> str:
    """`path` if a file can be written there; else the InputError saying why, before any work
    (a ten-second simulation should not end in "directory does not exist")."""
    if os.path.isdir(path):
        raise output_error(path, what, "it is a directory", code=code,
                           hint=f"name a file inside it, e.g. {os.path.join(path, example)}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(directory):
        raise output_error(path, what, f"the directory {directory} does not exist", code=code,
                           hint=f"create it first with mkdir -p {directory}, or name a file in an existing directory")
    if not os.path.isdir(directory):
        raise output_error(path, what, f"{directory} is a file, not a directory", code=code)
    if not os.access(directory, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise output_error(path, what, "permission denied", code=code)
    return path


def check_output_dir(path: str, what: str, *, code: str = E_OUTPUT) -> str:
    """Create the folder `path` (and its parents) if needed; an InputError if it cannot be
    created or written into."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise output_error(path, what, "it is a file, not a directory", code=code)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise output_error(path, what, os_reason(exc), code=code) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise output_error(path, what, "permission denied", code=code)
    return path


@contextmanager
def output_errors(path: str, what: str, *, code: str = E_OUTPUT) -> Iterator[None]:
    """Writing `path` inside this block: an OSError (disk full, permissions changed under us)
    becomes the one-line input error."""
    try:
        yield
    except BrokenPipeError:   # stdout's reader went away (`| head`): not a write error
        raise
    except OSError as exc:
        raise output_error(path, what, os_reason(exc), code=code) from None


def load_document(path: str, what: str) -> Document:
    return parse_document(read_text(path, what), path, what)


def parse_document(text: str, file: str, what: str) -> Document:
    import yaml  # PyYAML: imported here so `capc check` without files never pays for it

    if "\x00" in text:
        raise InputError(f"{what} file contains a NUL byte", file=file,
                         line=text[: text.index("\x00")].count("\n") + 1)
    if len(text) > MAX_YAML_BYTES:
        raise InputError(f"{what} file is too large ({len(text)} characters, at most "
                         f"{MAX_YAML_BYTES})", file=file,
                         hint=f"a {what} file holds a few objects or limits: a few kB")
    _refuse_deep_flow_nesting(text, file, what)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "malformed"
        raise InputError(f"malformed {what} file: {reason}", file=file,
                         line=mark.line + 1 if mark else None,
                         col=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed {what} file: {exc}", file=file) from None
    except RecursionError:
        raise InputError(f"{what} file is nested too deeply", file=file) from None
    doc = Document(file, None)
    if node is None:
        doc.data = {}
        return doc
    doc.data = _convert(node, (), doc, depth=0)
    return doc


def _refuse_deep_flow_nesting(text: str, file: str, what: str) -> None:
    """Refuse, with the position of the first bracket too many, flow collections (`[`, `{`)
    nested deeper than MAX_NESTING, before PyYAML reads them. Quoted scalars and comments are
    skipped; a bracket inside a plain scalar (`name: a[1]`) is counted, which can only refuse
    a file earlier than the composer would, never let a deeper one through."""
    depth = 0
    quote = ""
    line, col = 1, 0
    previous = "\n"
    comment = False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col, comment = line + 1, 0, False
            previous = ch
            continue
        if comment:
            continue
        if quote:
            if ch == quote and not (quote == '"' and previous == "\\"):
                quote = ""
            previous = "" if previous == "\\" and ch == "\\" else ch
            continue
        if ch in "'\"" and previous in " \t\n[{,:":  # a quote inside a plain scalar starts nothing
            quote = ch
        elif ch == "#" and previous in " \t\n":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise InputError(f"{what} file is nested too deeply (more than {MAX_NESTING} levels of "
                                 f"[ ] or {{ }})", file=file, line=line, col=col)
        elif ch in "]}":
            depth = max(0, depth - 1)
        previous = ch


def _convert(node: Any, path: Path, doc: Document, depth: int) -> Any:
    import yaml

    if depth > MAX_NESTING:
        raise doc.error(path, "nested too deeply")
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if len(doc.positions) > MAX_DOCUMENT_VALUES:  # one position per value converted so far
        raise doc.error(path, f"more than {MAX_DOCUMENT_VALUES} values (YAML aliases count "
                              "once per use)", hint="write the values out; do not nest aliases")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError("keys must be plain strings", file=doc.file,
                                 line=key_node.start_mark.line + 1, col=key_node.start_mark.column + 1)
            key = key_node.value
            if key in out:
                raise InputError(f"duplicate key '{key}'", file=doc.file,
                                 line=key_node.start_mark.line + 1, col=key_node.start_mark.column + 1)
            out[key] = _convert(value_node, path + (key,), doc, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), doc, depth + 1) for i, item in enumerate(node.value)]
    # YAML 1.1 resolves `1e-05` and `2.5e5` (JSON's exponent forms: no dot or no sign) to
    # strings; JSON files are accepted as they are, so a plain scalar in that form is a number.
    if node.style is None and node.tag.endswith(":str") and _EXPONENT_NUMBER.fullmatch(node.value):
        return float(node.value)
    # Scalars: let the safe constructor resolve int/float/bool/null/str by tag.
    try:
        return yaml.SafeLoader(stream="").construct_object(node, deep=True)
    except Exception as exc:  # a bad timestamp or similar tag-resolution error
        raise doc.error(path, f"cannot read value: {exc}") from None


def expect_number(doc: Document, path: Path, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise doc.error(path, f"expected a number, got {value!r}")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise doc.error(path, f"expected a finite number, got {value!r}")
    return number


def expect_interval(doc: Document, path: Path, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise doc.error(path, f"expected [low, high], got {value!r}")
    low = expect_number(doc, path + (0,), value[0])
    high = expect_number(doc, path + (1,), value[1])
    if low > high:
        raise doc.error(path, f"interval is empty: {low} > {high}")
    return low, high


def expect_keys(doc: Document, path: Path, value: Any, allowed: set[str], required: set[str] = frozenset()) -> dict:
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping, got {type(value).__name__}")
    for key in value:
        if key not in allowed:
            raise doc.error(path + (key,), f"unknown key '{key}'",
                            hint="allowed: " + ", ".join(sorted(allowed)))
    for key in required:
        if key not in value:
            raise doc.error(path, f"missing key '{key}'")
    return value
