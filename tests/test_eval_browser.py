"""The `capc eval --html` page in headless Chromium: no console errors, and its plots are drawn
(the success-rate picture shows the bar colour of the verified arm)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from capc.cli import main
from eval_support import eval_args, mini_model
from llm_server import LLMServer
from test_audit_browser import screenshot

pytestmark = pytest.mark.browser

VERIFIED_BLUE = (0x2f, 0x6d, 0xb3)


def test_eval_html_report_opens_without_console_errors(tmp_path, capsys):
    page = tmp_path / "report.html"
    with LLMServer(fallback=mini_model) as server:
        assert main(eval_args(server, tmp_path / "audit.db", "--workers", "0", "--baseline", "unverified",
                              "--html", str(page))) == 0
    capsys.readouterr()
    shot = tmp_path / "shot.png"
    assert screenshot(page, shot, tmp_path / "profile") == []
    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    blue = np.all(np.abs(image - np.array(VERIFIED_BLUE)) <= 6, axis=2)
    assert blue.sum() > 500          # the verified arm's bars were drawn and shown
