"""The class report: one self-contained HTML page (``barenet grade FOLDER --report class.html``).

No server and no other file: the CSS is inline and the charts are PNGs embedded
as ``data:`` URIs. Everything that comes from a submission (names, messages,
reasons) is HTML-escaped, so a submission cannot add markup or scripts to the
page. Sections: the score (or accuracy) distribution, a leaderboard for a model
exercise, each test's pass rate (item analysis), the diagnoses ranked by how many
submissions they hit, the submissions that were not graded and why, one row per
student, and each student's full feedback, linked from the row.
"""

from __future__ import annotations

import html
import os
import statistics
from collections.abc import Sequence

from barenet.grading.classroom import charts, summary
from barenet.io import write_text_atomically

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f3f7; } td.num { text-align: right; }
.passed { color: #2a7a2a; } .failed { color: #b03030; } .status { font-weight: bold; }
.feedback { border: 1px solid #ddd; padding: 0.4em 1em; margin: 1em 0; }
.advice { color: #555; margin-left: 1.5em; } .note { color: #555; font-size: 0.9em; }
img.chart { display: block; max-width: 100%; }
"""


def esc(value: object) -> str:
    """``value`` as text safe inside HTML elements and quoted attributes."""
    return html.escape(str(value), quote=True)


def anchor(row: int) -> str:
    return f"student-{row}"


def student_link(records: Sequence[dict], row: int) -> str:
    return f'<a href="#{anchor(row)}">{esc(records[row].get("student", "?"))}</a>'


def chart(png: bytes, alt: str, chart_id: str) -> str:
    return f'<img class="chart" id="{chart_id}" alt="{esc(alt)}" src="{charts.data_uri(png)}">'


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table from already-escaped cells."""
    header = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def score_text(record: dict) -> str:
    if "accuracy" in record and record.get("status") == "graded":
        return f"{100 * float(record['accuracy']):.2f}%"
    return esc(f"{float(record.get('score', 0)):g}")


def overview(records: Sequence[dict]) -> str:
    """Counts, the middle score and the settings of the grade."""
    values = summary.scores(records)
    first = records[0] if records else {}
    lines = [
        f"{len(records)} submissions, {len(values)} graded",
        f"median score {statistics.median(values):g}, mean {statistics.fmean(values):.2f}"
        if values
        else "no graded submission",
        f"seed {esc(first.get('seed', ''))}, convention {esc(first.get('convention', ''))}",
        f"sandbox: {esc(first.get('sandbox', ''))}",
    ]
    return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


def distribution(records: Sequence[dict]) -> str:
    graded = summary.graded(records)
    if graded and all("accuracy" in r for r in graded):
        mark = graded[0].get("pass_mark")
        png = charts.histogram_png([float(r["accuracy"]) for r in graded], "Accuracy", 1.0, mark)
        return "<h2 id='distribution'>Accuracy distribution</h2>" + chart(
            png, "histogram of the accuracies", "accuracy-histogram"
        )
    png = charts.histogram_png(summary.scores(records), "Score (out of 100)")
    return "<h2 id='distribution'>Score distribution</h2>" + chart(
        png, "histogram of the scores", "score-histogram"
    )


def leaderboard(records: Sequence[dict]) -> str:
    ranked = summary.leaderboard(records)
    if not ranked:
        return ""
    rows = [
        [
            str(rank),
            student_link(records, row),
            f"{100 * float(records[row]['accuracy']):.2f}%",
            "pass" if records[row].get("passed_mark") else "fail",
        ]
        for rank, row in ranked
    ]
    return "<h2 id='leaderboard'>Leaderboard</h2>" + table(
        ["rank", "student", "accuracy", "pass mark"], rows
    )


def items(records: Sequence[dict]) -> str:
    stats = summary.item_analysis(records)
    if not stats:
        return ""
    rows = [
        [esc(s.test), f"{100 * s.rate:.0f}%", f"{s.passed} / {s.graded}"]
        for s in sorted(stats, key=lambda s: s.rate)
    ]
    return (
        "<h2 id='items'>Pass rate per test (item analysis)</h2>"
        + chart(charts.pass_rate_png(stats), "pass rate of each test", "pass-rates")
        + "<p class='note'>Hardest first.</p>"
        + table(["test", "passed", "submissions"], rows)
    )


def misconceptions(records: Sequence[dict]) -> str:
    found = summary.ranked_misconceptions(records)
    if not found:
        return "<h2 id='misconceptions'>Diagnoses</h2><p>No failed test was diagnosed.</p>"
    total = max(1, len(summary.graded(records)))
    rows = [
        [
            esc(m.diagnosis),
            esc(", ".join(m.tests)),
            f"{len(m.rows)} ({100 * len(m.rows) / total:.0f}%)",
            ", ".join(student_link(records, row) for row in m.rows),
        ]
        for m in found
    ]
    return "<h2 id='misconceptions'>Diagnoses, most frequent first</h2>" + table(
        ["what went wrong, in plain words", "tests", "submissions", "students"], rows
    )


def not_graded(records: Sequence[dict]) -> str:
    rows = [
        [student_link(records, row), esc(records[row]["status"]), esc(records[row].get("reason"))]
        for row in summary.not_graded(records)
    ]
    body = (
        table(["student", "status", "reason"], rows)
        if rows
        else "<p>Every submission was graded.</p>"
    )
    return "<h2 id='not-graded'>Not graded</h2>" + body


def students(records: Sequence[dict]) -> str:
    rows = []
    for row, record in enumerate(records):
        failed = [t["name"] for t in record.get("tests", []) if not t["passed"]]
        rows.append(
            [
                student_link(records, row),
                esc(record.get("submission", "")),
                f"<span class='status'>{esc(record.get('status'))}</span>",
                score_text(record),
                esc(", ".join(failed)),
            ]
        )
    return "<h2 id='students'>Students</h2>" + table(
        ["student", "submission", "status", "score", "failed tests"], rows
    )


def feedback(record: dict, row: int) -> str:
    """One student's feedback: what the learner reads, then the teacher's notes."""
    parts = [f"<div class='feedback' id='{anchor(row)}'><h3>{esc(record.get('student'))}</h3>"]
    parts.append(f"<p>Status: {esc(record.get('status'))}. Score: {score_text(record)}</p>")
    if record.get("reason"):
        parts.append(f"<p>{esc(record['reason'])}</p>")
    for test in record.get("tests", []):
        css = "passed" if test["passed"] else "failed"
        parts.append(f"<p class='{css}'>{esc(test['message'])}</p>")
        parts += [f"<p class='advice'>advice: {esc(a)}</p>" for a in test.get("advice", [])]
    notes = record.get("teacher_notes") or []
    parts += [f"<p class='note'>For the teacher: {esc(n)}</p>" for n in notes]
    return "".join(parts) + "<p><a href='#students'>back to the list</a></p></div>"


def class_report_html(records: Sequence[dict], title: str = "Class report") -> str:
    """The whole page for the submissions' JSON records (see the module's docstring)."""
    sections = [
        overview(records),
        distribution(records),
        leaderboard(records),
        items(records),
        misconceptions(records),
        not_graded(records),
        students(records),
        "<h2 id='feedback'>Feedback per student</h2>",
        *(feedback(record, row) for row, record in enumerate(records)),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{esc(title)}</h1>{''.join(sections)}</body></html>\n"
    )


def write_class_report(
    records: Sequence[dict], path: str | os.PathLike, title: str = "Class report"
) -> None:
    """Write :func:`class_report_html` to ``path`` atomically."""
    write_text_atomically(path, class_report_html(records, title))
