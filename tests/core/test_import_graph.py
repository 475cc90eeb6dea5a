"""The import graph of ``barenet``: no cycles, and each layer imports only those below it.

Every module under ``src/barenet`` is parsed with ``ast`` (nothing is imported), and
every ``import`` statement in it, at the top or inside a function, becomes an edge to
the barenet module it names. The layers, from the bottom: the core library (every
module outside ``grading/``, ``exercise/`` and ``app/``); the grader; the kit
generator; the command (``app/``, run by ``__main__``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from data_helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "barenet"

#: Modules that only the package above them may import, by their top-level folder.
LAYERS_ABOVE_THE_CORE = ("grading", "exercise", "app")

#: Cycles that main still has, in another area's code, each to be deleted as soon as
#: that cycle is gone (the test then says so). Each entry is the set of modules of one
#: cycle.
KNOWN_CYCLES: dict[str, frozenset[str]] = {}


def module_name(path: Path) -> str:
    """``src/barenet/optim/rules.py`` -> ``'barenet.optim.rules'``; a package's
    ``__init__.py`` is the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    """Every barenet module by name. The kits' templates (``exercise/kits/``) are files
    that ``barenet exercise init`` copies out, not modules of barenet."""
    files = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[:2] == ("exercise", "kits"):
            continue
        files[module_name(path)] = path
    return files


def imported_modules(path: Path, module: str, modules: set[str]) -> set[str]:
    """The barenet modules that ``path`` (the module ``module``) imports.

    ``import a.b.c`` imports the longest prefix of ``a.b.c`` that is a module;
    ``from X import Y`` imports ``X.Y`` when that is a submodule, else ``X`` (the
    packages above are loaded as parents, not imported by name). Relative imports are
    resolved against the module's package.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {resolve(alias.name, modules) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else resolve(base, modules))
    return {m for m in found if m is not None and m != module}


def resolve(name: str, modules: set[str]) -> str | None:
    """The longest prefix of ``name`` that is a barenet module, or ``None``."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """Each barenet module -> the barenet modules it imports."""
    files = source_files()
    return {module: imported_modules(path, module, set(files)) for module, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (the cycles)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_path(component: list[str], graph: dict[str, set[str]]) -> str:
    """One cycle through the component's first module, as ``a -> b -> a``."""
    members, start = set(component), component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for succ in sorted(graph[node] & members):
            if succ == start:
                return " -> ".join(paths[node] + [start])
            if succ not in paths:
                paths[succ] = paths[node] + [succ]
                frontier.append(succ)
    return " <-> ".join(component)


def layer(module: str) -> str:
    """``'core'``, or the top-level folder above the core that holds ``module``."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS_ABOVE_THE_CORE:
        return parts[1]
    return "main" if module == "barenet.__main__" else "core"


def test_the_graph_sees_the_packages_imports():
    graph = import_graph()
    assert len(graph) > 80
    assert "barenet.optim.rules" in graph["barenet.optim.fused"]
    assert "barenet.optim.fused" in graph["barenet.optim.optimizers"]
    assert "barenet.grading.sandboxed.wire" in graph["barenet.grading.sandboxed.child"]
    assert "barenet.app.cli" in graph["barenet.__main__"]


def test_cycles_are_found_and_reported():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert cycle_path(["a", "b", "c"], graph) == "a -> b -> c -> a"


def test_no_import_cycles():
    graph = import_graph()
    cycles = strongly_connected(graph)
    known = set(KNOWN_CYCLES.values())
    new = [cycle_path(c, graph) for c in cycles if frozenset(c) not in known]
    assert not new, "import cycles: " + "; ".join(new)
    gone = [reason for reason, c in KNOWN_CYCLES.items() if sorted(c) not in cycles]
    assert not gone, f"no longer a cycle, delete from KNOWN_CYCLES: {gone}"


def test_the_core_imports_no_grading_kit_or_app():
    graph = import_graph()
    wrong = [
        f"{module} imports {target}"
        for module, targets in sorted(graph.items())
        if layer(module) == "core"
        for target in sorted(targets)
        if layer(target) in LAYERS_ABOVE_THE_CORE
    ]
    assert not wrong, "; ".join(wrong)


def test_each_layer_imports_only_itself_and_the_layers_below():
    # Nothing but __main__ imports the app; the grader never imports the kit generator.
    order = ["core", *LAYERS_ABOVE_THE_CORE, "main"]
    graph = import_graph()
    wrong = [
        f"{module} imports {target}"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if order.index(layer(target)) > order.index(layer(module))
    ]
    assert not wrong, "; ".join(wrong)
