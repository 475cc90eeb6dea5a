"""Grading submissions: one or a class of them, each in a sandboxed child, and the reports."""
