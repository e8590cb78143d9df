"""The audit store and its reports: storage (`store`), pictures (`plot`), exports (`export`) and
re-verification of stored records (`recheck`).

It sits above the safety case (`capc.safety`), never inside it: the verifier and the monitor
decide, this package keeps and shows what they decided. Nothing in `capc.safety` imports it.
"""
