"""The ``barenet`` command: its parser, run settings and one module per subcommand family."""
