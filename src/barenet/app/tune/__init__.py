"""``barenet tune``: a hyperparameter study with Optuna (the ``tune`` extra).

``command`` is the subcommand (its options and what it runs); ``config`` turns a trial's
sampled settings into a RunConfig and builds its network and Solver; ``objective`` is
one trial; ``study`` runs the study (``StudySettings``: sampler, pruner, budget,
storage); ``workers`` shares it between processes; ``storage`` is where it lives;
``report`` writes ``trials.csv``, the leaderboard and ``study.png``. The search space's
grammar is the library's, :mod:`barenet.search_space`. Nothing here is imported before
``barenet tune`` runs, so that the other subcommands work without Optuna.
"""
