"""The exit statuses of the ``barenet`` command, stated once.

``0`` the work succeeded; ``1`` the work failed (a download, a diverged training, a
missing optional extra, a check below 100); ``2`` a bad argument (the work never
started); ``130`` an interrupt (Ctrl-C), as a shell reports ``128 + SIGINT``.
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
