"""Grading a class: submissions found in a platform's export, points that add up, the class report.

* :mod:`.discovery` finds each student's submission in a Moodle, Canvas or
  Gradescope export (or any folder of folders or zips).
* :mod:`.scoring` shares 100 points between the groups and tests (weights from
  ``--weights FILE.toml``) and rounds the score, never floors it.
* :mod:`.summary`, :mod:`.charts` and :mod:`.html_report` make the class report.
"""
