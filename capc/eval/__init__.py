"""`capc eval`: benchmark suites of instructions, run through the path of `capc run -i`.

suite.py     the suite file (templates, attribute slots, seen/unseen split, scene generator)
trial.py     one trial: instruction -> checked policy -> run -> task check (a job)
stats.py     counts and Wilson intervals per family and split
report.py    terminal table, JSON, HTML page with plots; comparison of two runs
runstore.py  eval runs in the audit store: one record per trial, resume

The executor that runs trials (and other independent jobs) in worker processes or on Ray is
`capc.jobs`.
"""
