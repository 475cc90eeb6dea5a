"""The ``barenet`` command: its parser, its settings and one module per subcommand family.

The library (layers, losses, networks, optim, solver, data, grading, ...) never
imports this package; the command builds on the library.
"""
