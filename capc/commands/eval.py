"""`capc eval SUITE --llm ... [--backend kinematic|sim] [--trials N] [--seed K]`: a benchmark of
instruction to outcome, and `capc eval compare RUN_A RUN_B`.

Every trial goes through the path of `capc run -i` (capc.eval.trial) and is stored in the
audit store as it finishes; the report counts, per family and split, successes with a 95%
Wilson interval, refusals by stage and reason, repairs, monitor stops, outcome events, unsafe
motions executed, model requests, tokens and time. SUITE is a suite file or the name of a
suite shipped with capc (`table3`, `safety`, `multilingual`). See docs/eval.md.

Exit codes: 0 the run finished with no unsafe motion executed and no failed job; 1 otherwise;
2 usage or input error; 130 interrupted (the finished trials are stored: `--resume RUN`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from capc import codes
from capc.commands.proptest import _positive, add_scale_arguments   # the same argument checks

HELP = "benchmark a model on a suite of instructions (success, refusals, unsafe motions); compare runs"

DEFAULT_TRIALS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="+", metavar="SUITE",
                        help="a suite file or shipped suite name; or `compare RUN_A RUN_B` (run ids or "
                             "report JSON files)")
    parser.add_argument("--backend", choices=("kinematic", "sim"), default="kinematic",
                        help="where trials run (default kinematic)")
    parser.add_argument("--trials", type=_positive, default=DEFAULT_TRIALS, metavar="N",
                        help=f"trials per template and split (default {DEFAULT_TRIALS})")
    parser.add_argument("--seed", type=int, default=0, metavar="K", help="seed of scenes and slot values")
    parser.add_argument("--limits", metavar="L", help="limits file (default: the suite's, else the cell's)")
    parser.add_argument("--baseline", choices=("unverified",),
                        help="also run each trial's first reply without the verifier, the monitor only "
                             "observing, and count the unsafe motions that would have reached the robot")
    add_scale_arguments(parser, "trials", " (default: one per CPU; 0: in this process)")
    parser.add_argument("--resume", metavar="RUN", help="finish an interrupted run (same suite)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--html", metavar="OUT.html", help="also write an HTML page with plots")
    parser.add_argument("-o", "--output", metavar="OUT.json", help="also write the JSON report here")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    from capc.commands.audit import add_store_argument
    from capc.commands.compile import add_llm_arguments

    add_store_argument(parser)
    add_llm_arguments(parser)


SUITES_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "eval", "suites")


def suite_path(name: str) -> str:
    """A file as given, else a suite shipped with capc by name."""
    from capc.diagnostics import InputError

    if os.path.exists(name):
        return name
    shipped = os.path.join(SUITES_DIR, f"{name}.yaml")
    if os.path.isfile(shipped):
        return shipped
    names = sorted(f[:-5] for f in os.listdir(SUITES_DIR) if f.endswith(".yaml"))
    raise InputError(f"suite file not found: {name}", code=codes.E250,
                     hint=f"give a suite file, or one of the shipped suites: {', '.join(names)}")


def llm_config(args: argparse.Namespace) -> dict:
    """The provider settings a worker rebuilds its provider from (never the API key: workers
    read it from their own environment)."""
    from capc.diagnostics import InputError

    if args.llm_record and (args.workers != 0 or args.ray is not None):
        raise InputError("--record writes one cassette from one process: add --workers 0",
                         hint="record once with --workers 0, then replay the cassette with any executor")
    kind = args.llm or ("replay" if args.cassette else "openai")
    config = {"kind": kind, "model": args.model, "base_url": args.base_url, "cassette": args.cassette,
              "timeout": args.timeout, "retries": args.retries, "max_tokens": args.max_tokens,
              "temperature": args.temperature}
    if args.llm_record:
        config["record"] = os.path.abspath(args.llm_record)
    if kind == "replay":
        config["cassette"] = os.path.abspath(args.cassette) if args.cassette else None
        for key in ("base_url", "timeout", "retries", "max_tokens"):
            config.pop(key)
    else:
        config.pop("cassette")
    return config


def run(args: argparse.Namespace) -> int:
    from capc.diagnostics import InputError

    if args.target[0] == "compare":
        if len(args.target) != 3:
            raise InputError("usage: capc eval compare RUN_A RUN_B")
        return _compare(args, args.target[1], args.target[2])
    if len(args.target) != 1:
        raise InputError(f"capc eval takes one suite, got {len(args.target)}: {' '.join(args.target)}",
                         hint="capc eval SUITE ..., or capc eval compare RUN_A RUN_B")
    return _evaluate(args, suite_path(args.target[0]))


def _evaluate(args: argparse.Namespace, path: str) -> int:
    from capc.audit.store import open_store
    from capc.commands.compile import check_repair_args
    from capc.diagnostics import InputError
    from capc.eval import runstore
    from capc.eval.suite import load_suite
    from capc.eval.trial import provider_for
    from capc.jobs import run_jobs

    check_repair_args(args)
    suite = load_suite(path)
    llm = llm_config(args)
    provider = provider_for({"llm": llm})       # configuration errors before any worker starts
    with open_store(args.audit_db) as store:
        if args.resume:
            settings = runstore.find_header(store, args.resume)
            if settings.get("suite") != suite.name:
                raise InputError(f"run {args.resume} is of suite {settings.get('suite')!r}, not {suite.name!r}",
                                 code=runstore.E_RUN)
            run_id = args.resume
        else:
            run_id = runstore.new_run_id(suite.name)
            settings = {"suite": suite.name, "suite_file": os.path.abspath(path), "trials": args.trials,
                        "seed": args.seed, "backend": args.backend, "baseline": args.baseline,
                        "limits": os.path.abspath(args.limits) if args.limits else suite.limits,
                        "repairs": args.repair, "max_depth": args.max_depth, "llm": llm,
                        "provider": getattr(provider, "name", llm["kind"]), "model": getattr(provider, "model", None),
                        "offline": llm["kind"] == "replay" or _loopback(llm.get("base_url"))}
            runstore.write_header(store, run_id, settings)
        config = {"llm": settings["llm"], "backend": settings["backend"], "baseline": settings["baseline"],
                  "limits": settings["limits"], "repairs": settings["repairs"], "max_depth": settings["max_depth"]}
        trials = {t.key: t for t in suite.trials(settings["trials"], settings["seed"])}
        done = runstore.trial_results(store, run_id) if args.resume else {}
        todo = [t for key, t in trials.items() if key not in done or done[key].get("failed")]
        say = (lambda text: None) if args.quiet or args.json else (lambda text: print(text, file=sys.stderr))
        say(f"capc eval: run {run_id}, {len(todo)} of {len(trials)} trials to run"
            + (f" on Ray ({args.ray})" if args.ray else ""))
        finished = [0]

        def on_result(job) -> None:
            trial = trials[job.key]
            if job.ok:
                runstore.write_trial(store, run_id, job.value["record"])
                passed = job.value["verified"]["success"]
            else:
                runstore.write_trial(store, run_id, runstore.failed_trial(trial.to_json(), job.error, job.attempts))
                passed = False
            finished[0] += 1
            say(f"[{finished[0]}/{len(todo)}] {job.key}: {'pass' if passed else 'fail'}"
                + ("" if job.ok else f" (job failed: {job.error})"))

        jobs = [(t.key, {"trial": t.to_json(), "config": config}) for t in todo]
        try:
            run_jobs("capc.eval.trial:run_trial", jobs, workers=args.workers, ray_address=args.ray,
                     on_result=on_result, env={"CAPC_AUDIT_DB": "off"})
        except KeyboardInterrupt:
            print(f"interrupted: {finished[0]} of {len(todo)} trials finished and stored; finish with "
                  f"capc eval {args.target[0]} --resume {run_id}", file=sys.stderr)
            return 130
        results = [r for key, r in runstore.trial_results(store, run_id).items() if key in trials]
    return _report(args, run_id, settings, results)


def _loopback(url: str | None) -> bool:
    return bool(url) and any(host in url for host in ("//127.0.0.1", "//localhost", "//[::1]"))


def _report(args: argparse.Namespace, run_id: str, settings: dict, results: list[dict]) -> int:
    from capc.eval.report import build_report, html_page, terminal

    from capc.commands.json_output import emit, versioned

    report = versioned({**build_report(run_id, settings, results), "error": None})
    _write_outputs(args, report, html_page)
    if args.json:
        emit("eval", report, ensure_ascii=False, default=str)
    else:
        print(terminal(report))
    unsafe = report["summary"]["verified"]["total"]["unsafe_executed"]
    return 0 if unsafe == 0 and not report["failed_jobs"] else 1


def _write_outputs(args: argparse.Namespace, report: dict, html_page) -> None:
    from capc.diagnostics import InputError

    for target, text in ((args.output, lambda: json.dumps(report, indent=1, ensure_ascii=False, default=str)),
                         (args.html, lambda: html_page(report))):
        if not target:
            continue
        try:
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text())
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc.strerror or exc}", file=target) from None


def load_report(args: argparse.Namespace, what: str) -> dict:
    """A report from a JSON file, or rebuilt from a run in the audit store."""
    from capc.audit.store import open_store
    from capc.diagnostics import InputError
    from capc.eval import runstore
    from capc.eval.report import build_report

    if os.path.isfile(what):
        from capc.files import read_text
        try:
            report = json.loads(read_text(what, "report"))
        except ValueError as exc:
            raise InputError(f"{what} is not a capc eval JSON report: {exc}", file=what, code=runstore.E_RUN) from None
        if not isinstance(report, dict) or "summary" not in report:
            raise InputError(f"{what} is not a capc eval JSON report (no summary)", file=what, code=runstore.E_RUN)
        return report
    with open_store(args.audit_db) as store:
        settings = runstore.find_header(store, what)
        return build_report(what, settings, list(runstore.trial_results(store, what).values()))


def _compare(args: argparse.Namespace, first: str, second: str) -> int:
    from capc.eval.report import compare, compare_text

    result = compare(load_report(args, first), load_report(args, second))
    if args.json:
        from capc.commands.json_output import emit

        emit("eval compare", {**result, "error": None}, default=str)
    else:
        print(compare_text(result))
    return 0
