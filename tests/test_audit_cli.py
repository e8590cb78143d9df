"""`capc audit list|show|export|recheck|stats`, and the picture `--plot` draws."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from audit_samples import TARGET, accepted_record, guarded_compile_record, rejected_record
from capc.cli import main
from capc.audit.store import open_store
from capc.audit.plot import render

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "audit.db"
    with open_store(path) as store:
        store.add(rejected_record())           # 1
        store.add(accepted_record())           # 2
        store.add(guarded_compile_record())    # 3
    return path


def run_cli(capsys, *args):
    code = main(["audit", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def red_mask(png_path) -> np.ndarray:
    im = np.asarray(Image.open(png_path).convert("RGB")).astype(int)
    return (im[:, :, 0] > 200) & (im[:, :, 1] < 60) & (im[:, :, 2] < 60)


def test_show_a_rejected_record_prints_source_reason_and_counterexample(db, capsys):
    code, out, _ = run_cli(capsys, "--audit-db", db, "show", 1)
    assert code == 0
    assert "verdict: REJECTED" in out and "instruction: move the red block 50 cm to the right" in out
    # the offending line is marked, with carets under the call
    assert "> 3 | put_first_on_second('red block', [pos[0] + 0.5, pos[1]])" in out
    assert "  1 | # move the red block" in out
    assert "\n    | " + "^" * 56 + "\n" in out
    # the reason, rustc style, and the counterexample in words
    assert "error[E301]: put_first_on_second can move the arm out of the workspace" in out
    assert "--> far_right.py:3:1" in out and "help: clip the target" in out
    assert "red block at (0.120, -0.450, 0.020)" in out
    assert "offending target: (0.620, -0.450, 0.020)" in out
    assert "breaks: workspace x <= 0.2995 by 0.3205" in out
    assert "violated: put_first_on_second (lower to place) workspace at line 3:1" in out
    assert "obligations: 1 proved, 1 violated, 0 unknown" in out


def test_show_plot_writes_a_png_with_the_red_target_where_the_counterexample_puts_it(db, tmp_path, capsys):
    png = tmp_path / "cex.png"
    code, out, _ = run_cli(capsys, "--audit-db", db, "show", 1, "--plot", png)
    assert code == 0 and f"picture of the counterexample: {png}" in out
    assert png.stat().st_size > 20_000
    with open_store(db) as store:
        picture = render(store.get(1))          # same record, same transform as the file
    image = Image.open(png)
    assert image.size == (picture.frame.width_px, picture.frame.height_px)
    assert image.size[0] == 720 and 600 < image.size[1] < 1400
    red = red_mask(png)
    col, row = picture.frame.to_pixel(TARGET[0], TARGET[1])
    r, c = int(round(row)), int(round(col))
    assert red[r - 4:r + 5, c - 4:c + 5].sum() >= 40          # the red X sits on the target
    scol, srow = picture.frame.side_to_pixel(TARGET[0], TARGET[2])
    r, c = int(round(srow)), int(round(scol))
    assert red[r - 4:r + 5, c - 4:c + 5].sum() >= 40          # and in the side view at its height
    # nothing else is pure red: the red block and the blue bowl are not
    bcol, brow = picture.frame.to_pixel(-0.1, -0.6)
    assert red[int(brow) - 30:int(brow) + 30, int(bcol) - 30:int(bcol) + 30].sum() == 0
    rcol, rrow = picture.frame.to_pixel(0.12, -0.45 - 0.05)
    assert red[int(rrow) - 8:int(rrow) + 8, int(rcol) - 8:int(rcol) + 8].sum() == 0


def test_plot_of_a_target_elsewhere_moves_the_red_mark(db, tmp_path):
    with open_store(db) as store:
        record = store.get(1)
    cex = record["obligations"][1]["counterexample"]
    cex.update(target=[-0.25, -0.75, 0.1], segment=None)
    picture = render(record)
    path = tmp_path / "moved.png"
    path.write_bytes(picture.png)
    red = red_mask(path)
    col, row = picture.frame.to_pixel(-0.25, -0.75)
    assert red[int(row) - 4:int(row) + 5, int(col) - 4:int(col) + 5].sum() >= 40
    old_col, old_row = picture.frame.to_pixel(TARGET[0], TARGET[1])
    assert red[int(old_row) - 4:int(old_row) + 5, int(old_col) - 4:int(old_col) + 5].sum() == 0


def test_plot_without_counterexample_draws_the_scene(db, tmp_path, capsys):
    png = tmp_path / "scene.png"
    code, out, _ = run_cli(capsys, "--audit-db", db, "show", 2, "--plot", png)
    assert code == 0 and "no counterexample" in out
    assert red_mask(png).sum() == 0


def test_far_away_target_is_drawn_at_the_edge(db):
    with open_store(db) as store:
        record = store.get(1)
    record["obligations"][1]["counterexample"].update(target=[1e6, -0.5, 0.1], segment=None)
    picture = render(record)
    assert picture.off_view and picture.frame.width_px == 720 and picture.frame.height_px < 2000


def test_list_filters_and_json(db, capsys):
    code, out, _ = run_cli(capsys, "--audit-db", db, "list")
    assert code == 0 and out.splitlines()[0].split()[:4] == ["id", "time", "(UTC)", "kind"]
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["3", "2", "1"]
    code, out, _ = run_cli(capsys, "--audit-db", db, "list", "--rejected")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["1"]
    assert "E301: put_first_on_second can move" in out
    code, out, _ = run_cli(capsys, "list", "--guarded", "--json", "--audit-db", db)
    rows = json.loads(out)["records"]
    assert [r["id"] for r in rows] == [3] and rows[0]["verdict"] == "guarded"
    code, out, _ = run_cli(capsys, "--audit-db", db, "list", "--grep", "transform_shape", "--json")
    assert [r["id"] for r in json.loads(out)["records"]] == [3]
    code, out, _ = run_cli(capsys, "--audit-db", db, "list", "--since", "2h", "--json")
    assert len(json.loads(out)["records"]) == 3


def test_bad_arguments_are_input_errors(db, capsys):
    code, _, err = run_cli(capsys, "--audit-db", db, "show", 99)
    assert code == 2 and "no audit record #99" in err
    code, _, err = run_cli(capsys, "--audit-db", db, "list", "--since", "someday")
    assert code == 2 and "cannot read --since" in err
    code, _, err = run_cli(capsys, "--audit-db", db, "recheck")
    assert code == 2 and "IDs or --all" in err


def test_export_jsonl_round_trips(db, tmp_path, capsys):
    out_file = tmp_path / "all.jsonl"
    code, out, _ = run_cli(capsys, "--audit-db", db, "export", "-o", out_file)
    assert code == 0 and "exported 3 records" in out
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    with open_store(db) as store:
        assert records == [store.get(i) for i in (1, 2, 3)]
    code, out, _ = run_cli(capsys, "--audit-db", db, "export", "--rejected", "--format", "jsonl", "-o", "-")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1]


def test_export_html_is_self_contained(db, tmp_path, capsys):
    out_file = tmp_path / "audit.html"
    code, _, _ = run_cli(capsys, "--audit-db", db, "export", "-o", out_file)
    assert code == 0
    page = out_file.read_text()
    assert page.count("data:image/png;base64,") == 1           # the one record with a counterexample
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "default-src 'none'" in page
    assert "<mark>put_first_on_second(&#x27;red block&#x27;, [pos[0] + 0.5, pos[1]])</mark>" in page
    assert "offending target: (0.620, -0.450, 0.020)" in page


def test_stats_text_and_json(db, capsys):
    code, out, _ = run_cli(capsys, "--audit-db", db, "stats", "--check")
    assert code == 0 and "records: 3" in out and "every record intact" in out
    assert "by verdict: " in out and "rejected 1" in out
    code, out, _ = run_cli(capsys, "--audit-db", db, "stats", "--json")
    assert json.loads(out)["by_kind"] == {"check": 1, "compile": 1, "run": 1}


def test_recheck_lists_changed_verdicts(db, capsys, monkeypatch):
    """The recheck logic against a stand-in verifier: what changed is listed, each distinct
    program is compiled once, and the exit code says whether anything changed."""
    from capc.audit import recheck as audit_recheck
    compiled = []

    class Report:
        def __init__(self, verdict):
            self.verdict = verdict
        def diagnostics(self):
            from capc.diagnostics import Diagnostic
            return [Diagnostic("E303", "too fast")] if self.verdict != "accepted" else []

    def compile_source(source, file, **kw):
        compiled.append(source)
        return source

    def verify(program, spec, scene, **kw):
        if "transform_shape_pts" not in program:           # records 1, 2 carry their own spec
            assert spec.keep_out[0].name == "camera mount"
        assert scene is None or scene.get("red block") is not None
        return Report("rejected" if "transform_shape_pts" in program else "accepted")

    monkeypatch.setattr(audit_recheck, "_load_tools", lambda: (compile_source, verify))
    with open_store(db) as store:
        store.add(accepted_record())          # same program, same world as record 2
    code, out, _ = run_cli(capsys, "--audit-db", db, "recheck", "--all")
    assert code == 1
    assert "#1: rejected -> accepted" in out and "#3: guarded -> rejected  (E303: too fast)" in out
    assert "#2" not in out and "#4" not in out
    assert "rechecked 4 records (3 distinct programs verified" in out and "3 verdicts changed" not in out
    assert len(compiled) == 3
    code, out, _ = run_cli(capsys, "--audit-db", db, "recheck", "2", "--json")
    assert code == 0 and json.loads(out)["changed"] == []


def test_cli_subprocess_has_no_traceback(db):
    env = dict(os.environ, CAPC_AUDIT_DB=str(db))
    proc = subprocess.run([sys.executable, "-m", "capc", "audit", "show", "1"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0 and "error[E301]" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "capc", "audit", "--audit-db", str(db.parent / "nodir" / "x" / "y.db"),
                           "list"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0 and "no records" in proc.stdout


HOSTILE = {
    "instruction": "clear\x1b[2J\x1b]0;pwned\x07 the table </pre><script>alert(1)</script>",
    "source": "say('\x1b[31mred\x1b[0m')  # \u202egnp.exe\n</pre><img src=x onerror=alert(1)>\n",
}


def test_hostile_text_cannot_drive_the_terminal_or_the_page(tmp_path, capsys):
    db = tmp_path / "audit.db"
    with open_store(db) as store:
        store.add(rejected_record(**HOSTILE))
    for args in (["show", "1", "--attempts"], ["list"]):
        code, out, _ = run_cli(capsys, "--audit-db", db, *args)
        assert code == 0 and "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out
    page = tmp_path / "x.html"
    assert main(["audit", "--audit-db", str(db), "export", "-o", str(page)]) == 0
    html = page.read_text()
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_run_stopped_by_the_monitor_is_shown_and_drawn(tmp_path, capsys):
    db = tmp_path / "audit.db"
    event = {"limit": "keep_out:camera mount", "excess": 0.0, "point": [0.22, -0.28, 0.1],
             "message": "set-point enters keep-out zone 'camera mount'"}
    outcome = {"status": "stopped_by_monitor", "message": event["message"], "code": "E510",
               "line": 1, "steps": 40, "sim_time": 0.8, "backend": "kinematic",
               "monitor_events": [event], "final_positions": {"red block": [0.1, -0.45, 0.02]},
               "task": "in_place(red block, top right corner)",
               "task_result": {"done": False, "detail": "red block is 0.2 m away"}}
    with open_store(db) as store:
        store.add(accepted_record(run=outcome, obligations=[], verdict="guarded"))
    png = tmp_path / "stop.png"
    code, out, _ = run_cli(capsys, "--audit-db", db, "show", 1, "--plot", png)
    assert code == 0
    assert "run: status stopped_by_monitor, backend kinematic, steps 40" in out
    assert "E510 set-point enters keep-out zone 'camera mount' (line 1)" in out
    assert "task in_place(red block, top right corner): NOT done red block is 0.2 m away" in out
    assert "monitor interventions: 1" in out
    with open_store(db) as store:
        picture = render(store.get(1))
    col, row = picture.frame.to_pixel(0.22, -0.28)
    assert red_mask(png)[int(row) - 4:int(row) + 5, int(col) - 4:int(col) + 5].sum() >= 40


def test_export_draws_at_most_max_pictures(db, tmp_path, capsys):
    with open_store(db) as store:
        store.add(rejected_record())
        store.add(rejected_record())
    page = tmp_path / "two.html"
    code, _, _ = run_cli(capsys, "--audit-db", db, "export", "-o", page, "--max-pictures", "2")
    html = page.read_text()
    assert code == 0 and html.count("data:image/png;base64,") == 2
    assert "pictures left out: 1;" in html


def test_show_explains_and_draws_a_repaired_attempt(db, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "--audit-db", db, "show", 3)
    assert code == 0
    assert "  attempt 1: rejected\n    error[E301]: move_to() (move) breaks the workspace limit" in out
    assert "    1 | move_to(parse_position('far away'))" in out
    assert "      =   offending target: (-0.450, -0.300, 0.150)" in out
    assert "  attempt 2: guarded (repairs attempt 1)" in out
    png = tmp_path / "attempt.png"
    code, out, _ = run_cli(capsys, "--audit-db", db, "show", 3, "--plot", png, "--attempt", 1)
    assert code == 0 and "picture of the counterexample" in out
    with open_store(db) as store:
        picture = render(store.get(3), attempt=0)
    col, row = picture.frame.to_pixel(-0.45, -0.3)
    assert red_mask(png)[int(row) - 4:int(row) + 5, int(col) - 4:int(col) + 5].sum() >= 40


def test_listings_count_lines_as_the_parser_does():
    """A form feed or NEL inside a line does not start a new line (str.splitlines would, and
    the mark would land on the wrong line); a final newline adds no empty numbered line."""
    from capc.commands.audit import source_listing
    from capc.audit.export import source_html

    source = "# page one\x0c still line one\npos = [0.1,\x85 0.2]\nput_first_on_second('red block', [pos[0] + 0.5, pos[1]])\n"
    record = rejected_record(source=source)
    listing = source_listing(record)
    numbered = [line for line in listing if "|" in line and line.split("|")[0].strip(" >").isdigit()]
    assert len(numbered) == 3
    assert any(line.startswith("> 3 | put_first_on_second('red block'") for line in listing)
    assert source_html(record).count("put_first_on_second") == 1


def test_task_header_line_numbers_ignore_form_feeds():
    from capc.diagnostics import InputError
    from capc.runtime.tasks import task_from_source

    with pytest.raises(InputError) as info:
        task_from_source("x = 1 \x0c y\n#capc-task: nonsense\n", file="p.py")
    assert info.value.diagnostic.span.line == 2
