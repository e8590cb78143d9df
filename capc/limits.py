"""Resource limits for checking and running a policy: every policy is treated as hostile.

One object, read by the parser (source size, nesting depth), the type checker (integer
literal size), the interpreter (sequence length, loop iterations, call depth, wall clock,
integer size), the verifier (solver resources, executor steps, while-loop unrolling) and the
process guard (memory). Each has a safe default and can be changed from the CLI or from code; nothing
else in capc hard-codes one of these numbers.
"""

from __future__ import annotations

from dataclasses import replace

from capc.frozen import frozen


@frozen
class ResourceLimits:
    # A CaP policy is a few hundred bytes. The LALR front end checks ~15,000 short statements
    # per second, so this bound is also what keeps `capc check` on any input under a second.
    max_source_bytes: int = 16_384
    max_ast_depth: int = 64                # nesting of expressions and blocks
    max_int_bits: int = 64                 # integers beyond this are refused (10**10**10)
    max_sequence_length: int = 100_000     # elements in a list/str/array/range the policy builds
    max_loop_iterations: int = 100_000     # iterations of all loops in one run, together
    max_call_depth: int = 32               # nested calls of user defs / lambdas
    max_steps: int = 1_000_000             # interpreter steps in one run
    max_wall_seconds: float = 300.0        # wall clock for one run
    # The verifier's budget for one program, in units that are the same on every machine
    # (capc/safety/budget.py): Z3's resource counter per query and in all, and the symbolic
    # executor's steps over all paths. The wall clock is only a ceiling of last resort.
    solver_rlimit: int = 3_000_000         # Z3 resource units, all queries together
    solver_check_rlimit: int = 800_000     # Z3 resource units for one query (~0.5 s of nlsat here)
    verify_steps: int = 30_000             # executor steps, all paths together (~2 s here)
    # Wall-clock ceilings, 20-30 times what the budget above costs on an idle machine, so
    # that only a stall or a query Z3 does not meter (nlsat does not heed rlimit in every
    # loop) reaches them; a report that hits one says so (E309).
    solver_check_seconds: float = 10.0     # one query
    solver_seconds: float = 60.0           # the whole verification
    while_unroll: int = 16                 # while-loop unrolling bound in the verifier
    max_memory_mb: int = 1024              # address-space cap of a checking/running process

    def with_changes(self, **changes) -> "ResourceLimits":
        return replace(self, **changes)


DEFAULT_LIMITS = ResourceLimits()
