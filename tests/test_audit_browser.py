"""The HTML export in a real browser: headless Chromium (Debian's `chromium`, which .ci/run
installs) opens it with no console errors, and its screenshot shows the rejected program's
source (the tinted offending line) and its picture (the red target)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from audit_samples import accepted_record, guarded_compile_record, rejected_record
from capc.cli import main
from capc.audit.store import open_store

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--window-size=1200,3000"]


def _chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is missing in CI: .ci/run must install Debian's chromium package")
    pytest.skip("headless Chromium is not installed here (apt-get install chromium; CI installs it)")


def screenshot(page: Path, out: Path, profile: Path) -> list[str]:
    """Open `page`, write a screenshot; return the console messages Chromium logged."""
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}", page.as_uri()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("chromium did not finish within 120 s")
    assert out.exists(), f"no screenshot; chromium said:\n{err[-3000:]}"
    # With --enable-logging every console message (errors, CSP violations, failed loads)
    # appears as a line "...:INFO:CONSOLE(...)] "message", source: ...".
    return [line for line in err.splitlines() if ":CONSOLE" in line]


def test_console_messages_are_seen_by_this_harness(tmp_path):
    """The check below would pass vacuously if Chromium stopped logging console messages."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><title>x</title><script>console.error('planted failure')</script>"
                   "<img src='does-not-exist.png'>")
    messages = screenshot(bad, tmp_path / "bad.png", tmp_path / "profile")
    assert any("planted failure" in m for m in messages), messages


def test_html_export_opens_without_console_errors_and_shows_source_and_picture(tmp_path, capsys):
    db = tmp_path / "audit.db"
    with open_store(db) as store:
        store.add(rejected_record())
        store.add(accepted_record())
        store.add(guarded_compile_record())
    page = tmp_path / "audit.html"
    assert main(["audit", "--audit-db", str(db), "export", "--format", "html", "-o", str(page)]) == 0
    capsys.readouterr()

    shot = tmp_path / "shot.png"
    messages = screenshot(page, shot, tmp_path / "profile")
    assert messages == []

    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert image.shape[1] == 1200 and image.shape[0] >= 2000
    assert shot.stat().st_size > 50_000                     # a real page, not a blank one
    r, g, b = image[:, :, 0], image[:, :, 1], image[:, :, 2]
    # the source listing: the offending line's tint (#ffe0e0) and its marked span (#ff9f9f)
    tint = (abs(r - 255) <= 2) & (abs(g - 224) <= 3) & (abs(b - 224) <= 3)
    marked = (abs(r - 255) <= 2) & (abs(g - 159) <= 3) & (abs(b - 159) <= 3)
    assert tint.sum() > 2_000 and marked.sum() > 2_000
    # the picture: the red target, below the source
    red = (r > 200) & (g < 60) & (b < 60)
    assert red.sum() > 300
    source_rows = np.nonzero(marked.any(axis=1))[0]
    red_rows = np.nonzero(red.sum(axis=1) > 5)[0]
    assert red_rows.min() > source_rows.max()
    # many colours: the picture's table, workspace and objects were decoded and drawn
    colours = {tuple(px) for px in image[::7, ::7].reshape(-1, 3)}
    assert len(colours) > 200
