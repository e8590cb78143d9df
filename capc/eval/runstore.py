"""Eval runs in the audit store: a header record per run, one record per trial, resume.

A run is named `RUN` (`<suite>-<UTC time>-<4 hex>`). Its header (kind `eval-run`) keeps what
is needed to run it again: the suite file and name, trials per template, seed, backend,
baseline and the model settings (never a key). Each trial is one record of kind `eval`,
written by the calling process as the trial's result arrives, in one transaction: an
interrupted run holds exactly the trials that finished. `--resume RUN` regenerates the same
trials from the header and runs only those without a record (a trial whose job failed is run
again; the newest record of a key counts).
"""

from __future__ import annotations

import datetime as _dt
import secrets
from typing import Any

from capc import codes
from capc.diagnostics import InputError

E_RUN = codes.E251
HEADER_KIND, TRIAL_KIND = "eval-run", "eval"


def new_run_id(suite: str) -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{suite}-{stamp}-{secrets.token_hex(2)}"


def write_header(store, run_id: str, settings: dict[str, Any]) -> int:
    return store.add({"kind": HEADER_KIND, "params": {"eval_run": run_id, **settings},
                      "eval_run": run_id})


def find_header(store, run_id: str) -> dict:
    for summary in store.query(kind=HEADER_KIND, grep=run_id):
        record = store.get(summary["id"])
        if (record.get("params") or {}).get("eval_run") == run_id:
            return record["params"]
    raise InputError(f"no eval run named {run_id!r} in {store.path}", code=E_RUN,
                     hint="`capc audit list --kind eval-run` shows the runs; pass --audit-db if "
                          "the run was stored elsewhere")


def write_trial(store, run_id: str, record: dict) -> int:
    record = dict(record)
    record["params"] = {**(record.get("params") or {}), "eval_run": run_id}
    record["eval"] = {**(record.get("eval") or {}), "eval_run": run_id}
    return store.add(record)


def failed_trial(trial: dict, error: str, attempts: int) -> dict:
    """The record of a trial whose job failed (it counts as a failed trial)."""
    result = {"key": trial["key"], "family": trial["family"], "kind": trial["kind"], "split": trial["split"],
              "expect": trial["expect"], "instruction": trial["instruction"], "tasks": trial["tasks"],
              "failed": True, "error": error, "attempts": attempts,
              "verified": {"success": False, "error": {"code": None, "message": error}}}
    return {"kind": TRIAL_KIND, "instruction": trial["instruction"], "verdict": "error",
            "scene": trial["scene"], "diagnostics": [{"code": None, "message": error}],
            "params": {"trial": trial["key"], "family": trial["family"], "split": trial["split"]},
            "eval": result}


def trial_results(store, run_id: str) -> dict[str, dict]:
    """The newest result per trial key of a run."""
    out: dict[str, tuple[int, dict]] = {}
    for summary in store.query(kind=TRIAL_KIND, grep=run_id):
        record = store.get(summary["id"])
        extra = (record.get("extra") or {}).get("eval") or {}
        if extra.get("eval_run") != run_id:
            continue
        key = extra.get("key")
        if key is not None and (key not in out or out[key][0] < record["id"]):
            out[key] = (record["id"], {**extra, "record_id": record["id"]})
    return {key: value for key, (_, value) in out.items()}
