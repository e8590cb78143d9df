"""Every error code capc reports, once: the code, the layer that raises it, and what it means
in one line. Raising sites use these constants (a misspelt one fails at import, a misspelt
string would not); docs/errors.md, the user's catalogue with the details and hints, is checked
against this table by tests/test_error_codes.py.

A `Code` is a `str` ("E501"), so it prints, compares and goes into JSON as the code itself.
"""

from __future__ import annotations


class Code(str):
    """An error code with its layer and its one-line meaning."""

    layer: str
    meaning: str

    def __new__(cls, code: str, layer: str, meaning: str) -> "Code":
        self = super().__new__(cls, code)
        self.layer, self.meaning = layer, meaning
        return self

    def __getnewargs__(self) -> tuple[str, str, str]:
        # diagnostics cross process boundaries (capc.jobs' workers): pickle needs all three
        return str(self), self.layer, self.meaning


ALL: dict[str, Code] = {}


def _code(code: str, layer: str, meaning: str) -> Code:
    if code in ALL:
        raise ValueError(f"error code {code} is declared twice")
    ALL[code] = Code(code, layer, meaning)
    return ALL[code]


# --- syntax (the parser) ---------------------------------------------------------------------
E001 = _code("E001", "syntax", "unexpected token")
E002 = _code("E002", "syntax", "a character that cannot start any token")
E003 = _code("E003", "syntax", "indentation: unexpected indent or unindent, missing block")
E004 = _code("E004", "syntax", "unexpected end of file, unterminated string, bracket never closed")
E005 = _code("E005", "syntax", "NUL byte in the source")
E006 = _code("E006", "syntax", "an identifier that spells a keyword in other Unicode characters")
E007 = _code("E007", "syntax", "invalid assignment target")
E008 = _code("E008", "syntax", "return outside a def, break/continue outside a loop")
E009 = _code("E009", "syntax", "def not at the top level (nested or inside if/for)")
E036 = _code("E036", "syntax", "a variable annotation without a value (x: int)")
E039 = _code("E039", "syntax", "duplicate parameter, or a parameter without default after one with a default")
E044 = _code("E044", "syntax", "positional argument after a keyword argument")

# --- outside the language subset (the parser, the lowering) ----------------------------------
E010 = _code("E010", "subset", "import / from ... import")
E011 = _code("E011", "subset", "attribute not on the allow-list")
E012 = _code("E012", "subset", "class")
E013 = _code("E013", "subset", "with")
E014 = _code("E014", "subset", "try / except / finally")
E015 = _code("E015", "subset", "global / nonlocal")
E016 = _code("E016", "subset", "yield")
E017 = _code("E017", "subset", "async / await")
E018 = _code("E018", "subset", "decorators")
E019 = _code("E019", "subset", "del")
E020 = _code("E020", "subset", "the walrus operator :=")
E021 = _code("E021", "subset", "star-arguments and unpacking")
E022 = _code("E022", "subset",
             "any dunder name (leading or trailing __), anywhere, including inside f-strings")
E023 = _code("E023", "subset", "a dangerous builtin named anywhere")
E024 = _code("E024", "subset", "assert / raise")
E025 = _code("E025", "subset", "recursion: a def that calls itself directly or through other defs")
E026 = _code("E026", "subset", "str.format")
E027 = _code("E027", "subset", "defaults on lambda parameters")
E028 = _code("E028", "subset", "a def defined twice, or a def named like an API function or builtin")
E029 = _code("E029", "subset", "an f-string the language does not take")
E030 = _code("E030", "subset", "call to a function nobody defines")
E032 = _code("E032", "subset", "a def reads a module variable that is not a constant")
E033 = _code("E033", "subset", "a Python builtin that is not part of the language")
E034 = _code("E034", "subset", "a robot API function used as a value instead of being called")
E038 = _code("E038", "subset", "else on a for/while loop")
E040 = _code("E040", "subset", "bitwise operators")
E041 = _code("E041", "subset", "set displays {a, b}")
E043 = _code("E043", "subset", "Ellipsis (...)")
E045 = _code("E045", "subset", "a helper file (from the LLM layer) that contains statements besides defs")
E046 = _code("E046", "subset", "a helper source that does not define the name it was supplied for")

# --- types (the type checker) ----------------------------------------------------------------
E100 = _code("E100", "types", "an argument of the wrong type")
E101 = _code("E101", "types", "wrong number of arguments")
E102 = _code("E102", "types", "unknown keyword argument")
E103 = _code("E103", "types", "operator not defined for its operand types")
E104 = _code("E104", "types",
             "shape mismatch: an xyz where an xy is required, or arrays that do not broadcast")
E105 = _code("E105", "types", "calling something that is not a function")
E106 = _code("E106", "types", "a method or array property that exists, but not for this receiver")
E107 = _code("E107", "types",
             "bad subscript: wrong index type, constant index out of range, item assignment into a tuple")
E108 = _code("E108", "types", "unpacking into the wrong number of names")
E109 = _code("E109", "types", "iterating over something that is not iterable")
E110 = _code("E110", "types", "a keyword argument given twice")
E111 = _code("E111", "types", "assigning to a name that is an API function, builtin, def or np")
E120 = _code("E120", "types", "name not defined")
E121 = _code("E121", "types", "name used before it is assigned")

# --- resource limits of the front end --------------------------------------------------------
E401 = _code("E401", "limits", "source larger than the budget")
E402 = _code("E402", "limits", "brackets, blocks, elif chains or expressions nested deeper than the budget")
E403 = _code("E403", "limits", "integer literal beyond the integer budget, float literal that overflows")
E404 = _code("E404", "limits", "** of constants whose result exceeds the integer budget")
E405 = _code("E405", "limits", "string literal longer than the sequence budget")

# --- files (input and output) ----------------------------------------------------------------
E206 = _code("E206", "files", "an output file or folder cannot be written")

# --- the safety verifier ---------------------------------------------------------------------
E300 = _code("E300", "verifier", "a safety finding read back from the audit store without its code")
E301 = _code("E301", "verifier", "a waypoint of the call leaves the workspace")
E302 = _code("E302", "verifier",
             "the straight segment to a waypoint enters a keep-out zone (grown by the margin)")
E303 = _code("E303", "verifier", "a requested speed is not positive or above max_speed")
E304 = _code("E304", "verifier",
             "reserved: acceleration is enforced by construction and checked by the monitor")
E305 = _code("E305", "verifier", "not decided before run time")
E306 = _code("E306", "verifier",
             "the policy fails on some path (index out of range, unknown object, division by zero)")
E307 = _code("E307", "verifier",
             "the verification budget (Z3 resource units, executor steps or 256 paths) ran out")
E308 = _code("E308", "verifier", "scene mode: the policy names an object the scene does not have")
E309 = _code("E309", "verifier",
             "a wall-clock ceiling stopped the verification: this report depends on the machine")
E310 = _code("E310", "verifier", "a call breaks a rule of the limits file's rules: section")

# --- task headers ----------------------------------------------------------------------------
E230 = _code("E230", "tasks", "the task header is malformed")

# --- the run: interpreter budgets, run-time errors, the monitor ------------------------------
E420 = _code("E420", "runtime", "step budget exhausted")
E421 = _code("E421", "runtime", "loop budget exhausted")
E422 = _code("E422", "runtime", "calls of user defs and lambdas nested too deeply")
E423 = _code("E423", "runtime", "a sequence, string, dict or array would be too long")
E424 = _code("E424", "runtime", "an integer result would exceed the integer budget")
E425 = _code("E425", "runtime", "wall-clock budget exhausted")
E426 = _code("E426", "runtime", "the IR holds a node the interpreter does not know")
E501 = _code("E501", "runtime", "the policy failed: division by zero, bad index, missing key, bad call")
E502 = _code("E502", "runtime", "a robot primitive called with arguments it cannot bind or plan")
E503 = _code("E503", "runtime", "a primitive named an object that is not in the scene")
E504 = _code("E504", "runtime", "the profile declares a primitive the runtime has no implementation for")
E505 = _code("E505", "runtime",
             "a sub-LMP (parse_position, ...) was called and the run has no language model (sub_lmp)")
E506 = _code("E506", "runtime", "a function nobody defined was called at run time")
E507 = _code("E507", "runtime", "the backend starts in another world than the one the verdict is about")
E510 = _code("E510", "runtime", "a target or set-point outside the workspace")
E511 = _code("E511", "runtime", "a segment or set-point inside a keep-out zone")
E512 = _code("E512", "runtime",
             "a requested speed not in (0, max_speed], or a set-point faster than max_speed")
E513 = _code("E513", "runtime", "a set-point accelerating beyond max_accel")
E514 = _code("E514", "runtime", "a malformed command (a target that is not three finite numbers)")
E515 = _code("E515", "runtime", "a command, set-point or gripper action that breaks a rule of the limits file")
E520 = _code("E520", "runtime", "observed outcome: a grasp closed on nothing where the plan meant to take an object")
E521 = _code("E521", "runtime", "observed outcome: a grasp took another object than the one meant")
E522 = _code("E522", "runtime", "observed outcome: a held object left the gripper before the plan let it go")
E523 = _code("E523", "runtime", "observed outcome: a released object came to rest away from where the plan put it")
E524 = _code("E524", "runtime", "observed outcome: an object no step of the plan moved was disturbed")
E525 = _code("E525", "runtime", "predicted outcome: the next segment would run the gripper or the held object into an object")
E526 = _code("E526", "runtime", "observed outcome: the arm ended a call away from where it was sent (out of its reach)")
E530 = _code("E530", "runtime", "robot controller unreachable at --robot-ip, or it refused the connection")
E531 = _code("E531", "runtime", "the connection to the robot was lost mid-run")
E532 = _code("E532", "runtime", "the robot's controller aborted the motion (reflex, limit, safety function)")
E533 = _code("E533", "runtime", "the measured tool position strayed farther than the margin from its set-point")
E534 = _code("E534", "runtime", "Ctrl-C during the run: the robot was stopped first")
E535 = _code("E535", "runtime", "the arm is not at capc's start pose when the run begins")

# --- the process guard -----------------------------------------------------------------------
E205 = _code("E205", "guard", "CAPC_MAX_MEMORY_MB / CAPC_MAX_WALL_SECONDS is not a non-negative number")
E480 = _code("E480", "guard", "the process ran past the wall-clock budget")
E481 = _code("E481", "guard", "an allocation failed under the address-space cap")

# --- the audit store -------------------------------------------------------------------------
E200 = _code("E200", "audit",
             "--since cannot be read (use 2026-11-25, 2026-11-25T10:00, today, yesterday, 30m, 2h, 7d)")
E290 = _code("E290", "audit", "the audit store cannot be used")
E291 = _code("E291", "audit", "recheck needs the front end and the verifier, and this build lacks one of them")
E292 = _code("E292", "audit", "no record with that id (capc audit list shows the ids)")
E293 = _code("E293", "audit", "the --plot picture or the export file cannot be written")
E294 = _code("E294", "audit", "recheck was given neither ids nor --all")
E295 = _code("E295", "audit", "the record holds no run timeline to write as MCAP (not a run, or stored before timelines)")

# --- benchmarks and jobs (capc eval, capc.jobs) ---------------------------------------------
E250 = _code("E250", "jobs", "a suite file is malformed, or names neither a file nor a shipped suite")
E251 = _code("E251", "jobs", "--resume/compare names no eval run of this suite, or a file that is no eval report")
E260 = _code("E260", "jobs", "--ray was given and Ray is not installed (pip install 'capc[ray]')")

# --- the LLM layer ---------------------------------------------------------------------------
E600 = _code("E600", "llm", "the language model could not be used (the base of E601-E608)")
E601 = _code("E601", "llm", "cannot connect to the endpoint")
E602 = _code("E602", "llm", "no answer within --timeout")
E603 = _code("E603", "llm", "the endpoint answered an HTTP error")
E604 = _code("E604", "llm", "the body is not a chat completion")
E605 = _code("E605", "llm", "the reply was cut off by the token limit")
E606 = _code("E606", "llm", "provider misconfigured")
E607 = _code("E607", "llm", "replay: the cassette has no reply for this request")
E608 = _code("E608", "llm", "a cassette line is not a cassette entry")
E610 = _code("E610", "llm", "generated definitions call each other in a cycle (make_a -> make_b -> make_a)")
E611 = _code("E611", "llm", "a generated definition would be nested deeper than --max-depth")
E612 = _code("E612", "llm", "the reply to a function prompt is not exactly one def of the asked name")
E613 = _code("E613", "llm", "a sub-LMP answer (compile time or run time) would move the robot")
E614 = _code("E614", "llm", "a run-time sub-LMP answer failed")
