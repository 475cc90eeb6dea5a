"""The engine every grade runs on: spec -> calls -> records -> judge -> results.

:mod:`.spec` says what a test is and draws its calls from a seed; the calls run
(in this process or a sandboxed child, see :mod:`barenet.grading.sandboxed`) and
leave records, which :mod:`.records` reads; :mod:`.judge` turns them into the
data of :mod:`.results`.
"""
