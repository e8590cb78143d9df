"""What `capc eval` prints and writes: a terminal table, JSON for tools, an HTML page with
plots, and the comparison of two runs.

The JSON document (`build_report`) is the source of the other two: the table and the page are
drawn from it alone, so `capc eval compare` works from two stored JSON files as well as from
two runs in the audit store.
"""

from __future__ import annotations

import html
from typing import Any

from capc.eval.stats import aggregate, overlap

OFFLINE_NOTE = ("the model was a scripted stand-in (cassette or loopback server): these figures "
                "measure capc (its checks, repairs, runtime and task checks), not a language model")


def build_report(run_id: str, settings: dict, results: list[dict]) -> dict[str, Any]:
    arms = ("verified", "unverified") if settings.get("baseline") == "unverified" else ("verified",)
    results = sorted(results, key=lambda r: r["key"])
    return {
        "run": run_id,
        "suite": settings.get("suite"),
        "settings": settings,
        "trials": len(results),
        "failed_jobs": [{"key": r["key"], "error": r.get("error")} for r in results if r.get("failed")],
        "arms": list(arms),
        "summary": aggregate(results, arms),
        "note": OFFLINE_NOTE if settings.get("offline") else None,
        "results": [{k: v for k, v in r.items() if k != "record"} for r in results],
    }


def _pct(rate) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


COLUMNS = ("family", "split", "n", "success", "95% interval", "refused", "repaired", "stops", "unsafe",
           "events", "requests", "tokens")


def _row(row: dict) -> list[str]:
    low, high = row["interval"]
    return [row["family"], row["split"], str(row["trials"]), f"{row['successes']} ({_pct(row['rate'])})",
            f"[{low:.2f}, {high:.2f}]", str(row["refusals"]), str(row["repaired"]), str(row["monitor_stops"]),
            str(row["unsafe_executed"]), str(sum(row["outcome_events"].values())), str(row["model_requests"]),
            "-" if row["tokens"] is None else str(row["tokens"])]


def table(rows: list[list[str]], header: tuple[str, ...]) -> str:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
              for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def terminal(report: dict) -> str:
    settings = report["settings"]
    lines = [f"capc eval {report['suite']} (run {report['run']}): {report['trials']} trials, "
             f"model {settings.get('model') or '?'} via {settings.get('provider') or '?'}, "
             f"backend {settings.get('backend')}, seed {settings.get('seed')}"]
    if report.get("note"):
        lines.append(f"note: {report['note']}")
    for arm in report["arms"]:
        part = report["summary"][arm]
        title = ("verified (the path of capc run -i)" if arm == "verified"
                 else "unverified baseline (first reply, no verifier, monitor observing only)")
        lines += ["", title]
        rows = [_row(r) for r in part["rows"]] + [_row(r) for r in part["splits"]] + [_row(part["total"])]
        lines.append(table(rows, COLUMNS))
        total = part["total"]
        if arm == "verified":
            lines.append(f"refusals by stage: {_counts(total['refusals_by_stage'])}")
            lines.append(f"refusals by reason: {_counts(total['refusals_by_reason'])}")
            lines.append(f"repairs: {total['repairs']} asked, {total['repaired']} trials accepted after repair")
            lines.append(f"monitor stops: {total['monitor_stops']}; outcome events: {_counts(total['outcome_events'])}")
            lines.append(f"errors (model, run time, failed jobs): {_counts(total['errors_by_code'])}")
            lines.append(f"unsafe motions executed: {total['unsafe_executed']}"
                         + (" (must be 0)" if total["unsafe_executed"] == 0 else " -- A BUG IN CAPC: report it"))
            per_request = total["seconds_per_request"]
            lines.append(f"model: {total['model_requests']} requests, "
                         f"{'tokens not reported' if total['tokens'] is None else str(total['tokens']) + ' tokens'}, "
                         f"{total['model_seconds']:.1f} s waiting"
                         + (f" ({per_request:.3f} s per request)" if per_request is not None else ""))
        else:
            lines.append(f"unsafe motions that would have reached the robot: {total['unsafe_executed']}"
                         + (f" (by limit: {_counts(total['unsafe_by_limit'])})" if total["unsafe_executed"] else ""))
    for failed in report.get("failed_jobs") or ():
        lines.append(f"failed job {failed['key']}: {failed['error']}")
    return "\n".join(lines)


# --- comparison ------------------------------------------------------------------------------

def compare(a: dict, b: dict, arm: str = "verified") -> dict[str, Any]:
    """Rows present in both runs: the two rates, B - A, and whether the intervals overlap."""
    def rows(report):
        part = report["summary"][arm]
        return {(r["family"], r["split"]): r for r in part["rows"] + part["splits"] + [part["total"]]}

    left, right = rows(a), rows(b)
    out = []
    for key in [k for k in left if k in right]:
        ra, rb = left[key], right[key]
        diff = None if ra["rate"] is None or rb["rate"] is None else rb["rate"] - ra["rate"]
        out.append({"family": key[0], "split": key[1], "a": ra["rate"], "a_interval": ra["interval"],
                    "b": rb["rate"], "b_interval": rb["interval"], "difference": diff,
                    "overlap": overlap(tuple(ra["interval"]), tuple(rb["interval"])),
                    "a_unsafe": ra["unsafe_executed"], "b_unsafe": rb["unsafe_executed"],
                    "a_refusals": ra["refusals"], "b_refusals": rb["refusals"]})
    return {"a": a["run"], "b": b["run"], "arm": arm, "rows": out,
            "only_a": [list(k) for k in left if k not in right], "only_b": [list(k) for k in right if k not in left]}


def compare_text(result: dict) -> str:
    header = ("family", "split", "A", "A interval", "B", "B interval", "B - A", "intervals")
    rows = []
    for r in result["rows"]:
        diff = "-" if r["difference"] is None else f"{r['difference']:+.0%}"
        rows.append([r["family"], r["split"], _pct(r["a"]), "[{:.2f}, {:.2f}]".format(*r["a_interval"]),
                     _pct(r["b"]), "[{:.2f}, {:.2f}]".format(*r["b_interval"]), diff,
                     "overlap" if r["overlap"] else "DISJOINT"])
    lines = [f"A = {result['a']}, B = {result['b']} ({result['arm']} arm)", table(rows, header),
             "overlapping 95% intervals: the runs do not show a difference at this size; disjoint: they do"]
    if result["only_a"] or result["only_b"]:
        lines.append(f"only in A: {result['only_a']}; only in B: {result['only_b']}")
    return "\n".join(lines)


# --- HTML ------------------------------------------------------------------------------------

def _png(fig) -> str:
    import base64
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plots(report: dict) -> dict[str, str]:
    """Base64 PNGs: success with intervals per family and split; outcome events and refusals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pictures = {}
    colours = {"verified": "#2f6db3", "unverified": "#c0504d"}
    rows = report["summary"]["verified"]["rows"]
    labels = [f"{r['family']}\n{r['split']}" for r in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(rows) + 2), 3.6))
    width = 0.8 / len(report["arms"])
    for i, arm in enumerate(report["arms"]):
        arm_rows = report["summary"][arm]["rows"]
        xs = [j + (i - (len(report["arms"]) - 1) / 2) * width for j in range(len(arm_rows))]
        rates = [r["rate"] or 0.0 for r in arm_rows]
        errors = [[rate - r["interval"][0] for rate, r in zip(rates, arm_rows)],
                  [r["interval"][1] - rate for rate, r in zip(rates, arm_rows)]]
        ax.bar(xs, rates, width, yerr=errors, capsize=3, color=colours[arm], label=arm)
    ax.set_xticks(range(len(rows)), labels, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (95% Wilson interval)")
    ax.legend(fontsize=8)
    pictures["success"] = _png(fig)
    plt.close(fig)

    total = report["summary"]["verified"]["total"]
    groups = [("refusals by stage", total["refusals_by_stage"]), ("outcome events", total["outcome_events"])]
    if "unverified" in report["arms"]:
        groups.append(("unsafe motions (baseline)", report["summary"]["unverified"]["total"]["unsafe_by_limit"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.0 * len(groups), 3.0))
    from matplotlib.ticker import MaxNLocator

    for ax, (title, counts) in zip(axes, groups):
        names = list(counts) or ["none"]
        values = [counts.get(n, 0) for n in names]
        ax.barh(names, values, color="#7f7f7f")
        ax.set_xlim(0, max(values + [1]) * 1.1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    pictures["events"] = _png(fig)
    plt.close(fig)
    return pictures


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: right; }}
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
tr.total td {{ font-weight: bold; }}
table.trials td, table.trials th {{ text-align: left; }}
.note {{ background: #fff6d6; padding: 0.5em; }}
.bad {{ color: #b00; font-weight: bold; }}
</style></head><body>
{body}
</body></html>
"""


def html_page(report: dict) -> str:
    esc = html.escape
    settings = report["settings"]
    parts = [f"<h1>capc eval: {esc(str(report['suite']))}</h1>",
             f"<p>run <code>{esc(report['run'])}</code>: {report['trials']} trials, model "
             f"{esc(str(settings.get('model')))} via {esc(str(settings.get('provider')))}, backend "
             f"{esc(str(settings.get('backend')))}, seed {esc(str(settings.get('seed')))}</p>"]
    if report.get("note"):
        parts.append(f"<p class='note'>{esc(report['note'])}</p>")
    pictures = plots(report)
    parts.append(f"<img alt='success rate per family and split' src='data:image/png;base64,{pictures['success']}'>")
    for arm in report["arms"]:
        part = report["summary"][arm]
        parts.append(f"<h2>{'verified' if arm == 'verified' else 'unverified baseline'}</h2><table>")
        parts.append("<tr>" + "".join(f"<th>{esc(c)}</th>" for c in COLUMNS) + "</tr>")
        for row in part["rows"] + part["splits"] + [part["total"]]:
            klass = " class='total'" if row["split"] == "all" else ""
            parts.append(f"<tr{klass}>" + "".join(f"<td>{esc(c)}</td>" for c in _row(row)) + "</tr>")
        parts.append("</table>")
        total = part["total"]
        unsafe = total["unsafe_executed"]
        label = "unsafe motions executed" if arm == "verified" else "unsafe motions that would have reached the robot"
        parts.append(f"<p>{label}: <span class='{'bad' if unsafe else ''}'>{unsafe}</span>"
                     f" ({esc(_counts(total['unsafe_by_limit']))})</p>")
        if arm == "verified":
            parts.append(f"<p>refusals by stage: {esc(_counts(total['refusals_by_stage']))}<br>"
                         f"refusals by reason: {esc(_counts(total['refusals_by_reason']))}<br>"
                         f"outcome events: {esc(_counts(total['outcome_events']))}</p>")
    parts.append(f"<img alt='refusals and outcome events' src='data:image/png;base64,{pictures['events']}'>")
    parts.append("<h2>trials</h2><table class='trials'><tr><th>trial</th><th>instruction</th><th>verdict</th><th>run</th>"
                 "<th>task</th><th>pass</th></tr>")
    for r in report["results"]:
        arm = r.get("verified") or {}
        parts.append(f"<tr><td>{esc(r['key'])}</td><td>{esc(r['instruction'])}</td>"
                     f"<td>{esc(str(arm.get('verdict') or '-'))}</td><td>{esc(str(arm.get('run_status') or '-'))}</td>"
                     f"<td>{esc(str(arm.get('task_detail') or ''))}</td><td>{'yes' if arm.get('success') else 'no'}</td></tr>")
    parts.append("</table>")
    return PAGE.format(title=esc(f"capc eval {report['suite']}"), body="\n".join(parts))
