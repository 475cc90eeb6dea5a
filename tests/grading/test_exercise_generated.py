"""Every given file of the exercise kit comes from barenet: no hand-written copy can drift.

A kit template may import, assign and hold directive comments, but defines no
function or class of its own: each definition in a kit is barenet's, copied by an
include directive, and each place the learner writes is a region marked in
barenet's source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from barenet.exercise import includes, write_kit
from barenet.exercise.catalog import EXERCISES
from barenet.exercise.kit import template_files, templates_root
from barenet.exercise.regions import BEGIN, END, keep_solutions

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def python_templates() -> list[tuple[str, str, str]]:
    """``(exercise, path in the kit, template text)`` of every Python template."""
    return [
        (name, relative, resource.read_text(encoding="utf-8"))
        for name, exercise in EXERCISES.items()
        for relative, resource in template_files(templates_root(exercise))
        if relative.endswith(".py")
    ]


def included_names(template: str, solutions: bool) -> dict[str, str]:
    """Each name an include directive of ``template`` copies, and its definition's source."""
    names = {}
    for line in template.splitlines():
        match = includes.DIRECTIVE.match(line)
        if match is None or match["kind"] == "region":
            continue
        if match["kind"] == "include-solution" and not solutions:
            continue
        words, omit = includes._names_and_omitted(match["names"].split())
        source = includes.module_source(match["module"])
        for name in words:
            names[name] = includes.definitions(source, [name], omit)
    return names


def top_level_definitions(text: str) -> list[str]:
    """The names of the functions and classes defined at the top level of ``text``."""
    return [node.name for node in ast.parse(text).body if isinstance(node, DEFINITIONS[:3])]


@pytest.fixture(scope="module")
def kits(tmp_path_factory) -> dict[tuple[str, bool], Path]:
    root = tmp_path_factory.mktemp("generated")
    return {
        (name, solutions): write_kit(root / f"{name}-{solutions}", solutions, exercise=name)
        for name in EXERCISES
        for solutions in (False, True)
    }


TEMPLATES = python_templates()


@pytest.mark.parametrize(
    "exercise, relative, template", TEMPLATES, ids=[f"{e}/{r}" for e, r, _ in TEMPLATES]
)
def test_templates_define_nothing_themselves(exercise, relative, template):
    tree = ast.parse(template)
    written = [
        f"line {node.lineno}: {getattr(node, 'name', 'lambda')}"
        for node in ast.walk(tree)
        if isinstance(node, DEFINITIONS)
    ]
    assert not written, (
        f"{relative} defines {written}: include barenet's definition with a "
        "'# barenet-kit: include' directive, or import it from barenet"
    )
    markers = [line for line in template.splitlines() if BEGIN.match(line) or END.match(line)]
    assert not markers, f"{relative}: mark exercise regions in barenet's source, not in the kit"


@pytest.mark.parametrize("solutions", [False, True], ids=["starter", "solution"])
def test_every_definition_in_a_kit_is_barenets(kits, solutions):
    for exercise, relative, template in TEMPLATES:
        text = (kits[exercise, solutions] / relative).read_text(encoding="utf-8")
        copied = included_names(template, solutions)
        defined = top_level_definitions(text)
        assert set(defined) <= set(copied), (relative, set(defined) - set(copied))
        if solutions:  # the solution kit holds barenet's definitions verbatim
            for name in defined:
                assert keep_solutions(copied[name]).strip() in text, (relative, name)


def test_the_guard_sees_a_hand_written_definition():
    template = "from barenet.optim import Optimizer\n\n\nclass SGD(Optimizer):\n    pass\n"
    assert top_level_definitions(template) == ["SGD"]
    assert included_names(template, solutions=True) == {}
    template = "# barenet-kit: include barenet.optim.optimizers SGD without _fused\n"
    copied = included_names(template, solutions=True)
    assert list(copied) == ["SGD"] and "_fused" not in copied["SGD"]
