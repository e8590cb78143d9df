"""The safety spec, the Z3 verifier, counterexamples, the runtime monitor, the audit store."""
