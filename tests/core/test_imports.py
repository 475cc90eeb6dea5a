"""What ``import barenet`` loads (which way the imports go: test_import_graph.py)."""

import ast
import subprocess
import sys


def test_import_barenet_loads_nothing_that_needs_ipywidgets():
    # tqdm.auto and tqdm.notebook warn "IProgress not found" in Jupyter without ipywidgets.
    code = (
        "import sys, barenet; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pooch', 'tqdm', 'barenet')))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = set(ast.literal_eval(done.stdout))
    assert not loaded & {"tqdm.auto", "tqdm.autonotebook", "tqdm.notebook", "pooch"}
    assert not any(name.startswith("barenet.app") for name in loaded)


def test_import_barenet_loads_no_grader_sandbox_or_cloudpickle():
    code = (
        "import sys, barenet; "
        "print(sorted(m for m in sys.modules if m.startswith(('barenet.grading', 'cloudpickle'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ast.literal_eval(done.stdout) == []


def test_the_grading_names_still_work_from_barenet():
    code = (
        "import barenet, barenet.grading as g; "
        "from barenet import save_pickle; "
        "assert save_pickle is g.save_pickle and barenet.grade_folder is g.grade_folder; "
        "assert {'SigmoidTestWrapper', 'save_pickle'} <= set(dir(barenet)); "
        "print(barenet.SigmoidTestWrapper())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Score: 100/100" in done.stdout


def test_every_public_name_resolves():
    import barenet

    for name in barenet.__all__:
        assert getattr(barenet, name) is not None, name
