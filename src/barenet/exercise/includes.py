"""Copying barenet's own definitions into the kit's files.

A kit template names what it takes from barenet with directive comments, each on
a line of its own::

    # barenet-kit: include barenet.layers.activations Sigmoid Relu
    # barenet-kit: include-solution barenet.layers.affine affine_param_grads
    # barenet-kit: region barenet.optim.optimizers sgdm_update
    # barenet-kit: include barenet.optim.optimizers SGD SGDMomentum without _fused

``include`` copies the source of top-level definitions (classes, functions,
assignments) in the order given; ``without NAME...`` leaves out the class-level
statements that define those names (barenet's compiled one-pass steps, which
would bypass the learner's ``_update``). ``include-solution`` does the same in the
solution kit only: helpers that the solution uses and the starter must not
reveal. ``region`` copies one marked region (see :mod:`barenet.exercise.regions`),
indented like the directive. So the kit's code is barenet's code: change
barenet's Sigmoid and the next solution kit changes with it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re

from barenet.exercise.regions import region_source

DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)# barenet-kit: (?P<kind>include|include-solution|region) "
    r"(?P<module>[\w.]+)(?P<names>(?: [\w.]+)+)[ \t]*$"
)


def module_source(module_name: str) -> str:
    """The source text of an importable module."""
    return inspect.getsource(importlib.import_module(module_name))


def _node_names(node: ast.stmt) -> list[str]:
    """The names a top-level statement defines (none for other statements)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _span(node: ast.stmt, lines: list[str]) -> tuple[int, int]:
    """Line indices ``[start, stop)`` of a definition, with trailing indented comments.

    The AST ends a function at its last statement; a closing ``# <<< exercise``
    marker after a ``return`` is a comment below it, still part of the body.
    """
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    stop = node.end_lineno
    while stop < len(lines):
        line = lines[stop]
        indent = len(line) - len(line.lstrip())
        if not line.lstrip().startswith("#") or indent <= node.col_offset:
            break
        stop += 1
    return start, stop


def _omitted_lines(node: ast.stmt, omit: set[str]) -> set[int]:
    """Line indices of the class-body statements of ``node`` that define a name in ``omit``."""
    if not isinstance(node, ast.ClassDef):
        return set()
    found = set()
    for statement in node.body:
        if omit.intersection(_node_names(statement)):
            found.update(range(statement.lineno - 1, statement.end_lineno))
    return found


def definitions(source: str, names: list[str], omit: tuple[str, ...] = ()) -> str:
    """The source of the top-level definitions ``names``, in that order.

    Parameters
    ----------
    source : str
        A module's source text.
    names : list of str
        Top-level names to copy.
    omit : tuple of str
        Names whose definitions inside the copied classes are left out.

    Raises
    ------
    KeyError
        When ``source`` defines no such name at the top level, or no copied class
        defines a name of ``omit``.
    """
    lines = source.splitlines(keepends=True)
    spans, skipped = {}, {}
    for node in ast.parse(source).body:
        for name in _node_names(node):
            spans[name] = _span(node, lines)
            skipped[name] = _omitted_lines(node, set(omit))
    missing = [n for n in names if n not in spans]
    if missing:
        raise KeyError(f"not defined at the top level: {', '.join(missing)}")
    if omit and not any(skipped[name] for name in names):
        raise KeyError(f"no class among {', '.join(names)} defines {', '.join(omit)}")
    blocks = [
        "".join(lines[i] for i in range(*spans[name]) if i not in skipped[name]).rstrip("\n")
        for name in names
    ]
    out = blocks[0]
    for previous, block in zip(blocks, blocks[1:], strict=False):
        # PEP 8: one blank line between assignments, two around functions and classes.
        plain = not any(b.startswith(("def ", "class ", "@")) for b in (previous, block))
        out += ("\n\n" if plain else "\n\n\n") + block
    return out + "\n"


def _names_and_omitted(words: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """Split a directive's words at ``without``: the names to copy, the members to leave out."""
    if "without" not in words:
        return words, ()
    at = words.index("without")
    if at == 0 or at == len(words) - 1:
        raise ValueError(f"'without' needs names on both sides: {' '.join(words)!r}")
    return words[:at], tuple(words[at + 1 :])


def expand(template: str, solutions: bool) -> str:
    """``template`` with every directive replaced by the code it names."""
    out = []
    for line in template.splitlines(keepends=True):
        match = DIRECTIVE.match(line)
        if match is None:
            out.append(line)
            continue
        kind, words = match["kind"], match["names"].split()
        names, omit = _names_and_omitted(words)
        if kind == "include-solution" and not solutions:
            continue
        source = module_source(match["module"])
        if kind == "region":
            code = "".join(region_source(source, names[0]))
        else:
            code = definitions(source, names, omit)
        indent = match["indent"]
        if not indent and code.startswith(("def ", "class ", "@")):
            code = f"\n\n{code}\n\n"  # PEP 8's two blank lines; extra ones are tidied away
        out += [f"{indent}{c}" if c.strip() else c for c in code.splitlines(keepends=True)]
    return "".join(out)
