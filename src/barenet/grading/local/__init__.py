"""The learner's side: the test wrappers, ``barenet check``, and packaging a submission."""
