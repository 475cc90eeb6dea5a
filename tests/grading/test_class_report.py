"""The class report: its sections as data, escaping, and a real browser rendering its charts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from class_records import AVERAGED, NO_MASK, a_class, record
from PIL import Image

from barenet.grading.classroom import charts, summary
from barenet.grading.classroom.html_report import class_report_html, write_class_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def test_item_analysis_and_misconceptions_rank_the_class():
    records = a_class()
    items = {s.test: (s.passed, s.graded) for s in summary.item_analysis(records)}
    assert items["SigmoidBackwardTest"] == (4, 8)
    assert items["ReluBackwardTest"] == (6, 8)
    ranked = summary.ranked_misconceptions(records)
    assert [(m.diagnosis, len(m.rows)) for m in ranked] == [(AVERAGED, 4), (NO_MASK, 2)]
    assert summary.not_graded(records) == [8, 9]


def test_leaderboard_orders_by_accuracy_with_shared_ranks():
    records = [
        record("carol", {}, accuracy=0.52),
        record("alice", {}, accuracy=0.61),
        record("bob", {}, accuracy=0.52),
        record("dave", {}, "timeout", accuracy=0.0),
        record("erin", {}, accuracy=0.40),
    ]
    ranked = [(rank, records[row]["student"]) for rank, row in summary.leaderboard(records)]
    assert ranked == [(1, "alice"), (2, "bob"), (2, "carol"), (4, "erin")]


def test_everything_from_a_submission_is_escaped():
    hostile = "<script>alert(1)</script>"
    records = a_class() + [
        record(hostile, {"SigmoidForwardTest": "<img src=x onerror=alert(2)>"}, reason="<b>r</b>")
    ]
    page = class_report_html(records)
    assert "<script>" not in page and "<img src=x" not in page and "<b>r</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<img ") == 2  # the two charts, nothing else


def test_every_student_row_links_to_their_feedback():
    records = a_class()
    page = class_report_html(records)
    for row, rec in enumerate(records):
        assert f'href="#student-{row}">{rec["student"]}<' in page
        assert f"id='student-{row}'" in page
    assert "timed out after 60 s" in page and "unsafe zip" in page


def test_charts_are_png_images():
    png = charts.histogram_png([10, 50, 50, 100], "Score")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert charts.data_uri(png).startswith("data:image/png;base64,iVBORw0KGgo")


def chart_rows(screenshot: Path) -> np.ndarray:
    """Rows of the screenshot that hold pixels of the charts' bar colour."""
    pixels = np.asarray(Image.open(screenshot).convert("RGB")).astype(int)
    target = np.array([int(charts.BAR_COLOR[i : i + 2], 16) for i in (1, 3, 5)])
    close = np.abs(pixels - target).max(axis=2) <= 8
    return np.flatnonzero(close.sum(axis=1) >= 3)


def screenshot(page: Path, tmp_path: Path) -> Path:
    out = tmp_path / f"{page.stem}.png"
    command = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={out}",
        "--window-size=1000,1700",
        page.resolve().as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert out.is_file(), "chromium wrote no screenshot"
    return out


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt install chromium)"
)
def test_the_report_renders_its_charts_in_headless_chromium(tmp_path: Path):
    page = tmp_path / "class.html"
    write_class_report(a_class(), page)
    rows = chart_rows(screenshot(page, tmp_path))
    assert rows.size > 100, "no chart drawn in the screenshot"
    gaps = np.flatnonzero(np.diff(rows) > 40)
    assert gaps.size >= 1, "expected two charts (histogram, pass rates) one above the other"
    # The check can fail: the same page without its images shows no chart colour.
    blank = tmp_path / "blank.html"
    blank.write_text(page.read_text().replace("base64,iVBORw0KGgo", "base64,AAAAAAAAAA"))
    assert chart_rows(screenshot(blank, tmp_path)).size == 0
