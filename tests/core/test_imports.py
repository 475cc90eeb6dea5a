"""What ``import barenet`` loads, and which way the imports between library and app go."""

import ast
import subprocess
import sys

from data_helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "barenet"


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


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_library_never_imports_the_app():
    library = [p for p in PACKAGE.rglob("*.py") if "app" not in p.relative_to(PACKAGE).parts]
    assert len(library) > 20
    for path in library:
        if path.name == "__main__.py":  # `python -m barenet` is the command itself
            continue
        app_imports = {m for m in imported_modules(path) if m.startswith("barenet.app")}
        assert not app_imports, f"{path.relative_to(REPO_ROOT)} imports {app_imports}"
