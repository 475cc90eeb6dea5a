"""Running a submission's child process: limits, bubblewrap, who it runs as, cleanup."""
