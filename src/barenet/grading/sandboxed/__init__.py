"""The code that runs next to a learner's code, in the same process.

Everything here imports only the standard library and NumPy, never the rest of
barenet: the grader copies this folder into the sandbox, where barenet itself is
not importable (so that a submission cannot borrow barenet's reference code).
The same code runs the learner's callables in-process for the test wrappers.
"""
