"""How many mechanically made bugs the exercise tests catch: a mutation run per layer family.

Each mutant is barenet's reference code with exactly one small change, made from the
code's syntax tree: an operator swapped (``+``/``-``, ``*``/``/``, ``+=``/``-=``,
``>``/``>=``, ``==``/``!=``), a sign dropped, a term or factor dropped (``a - b`` ->
``a``, a ``dx -= ...`` line removed), an axis changed (``axis=0`` -> ``axis=1``, an
axis left out of a tuple) or a slice bound off by one. The mutant is compiled into a
copy of its module's namespace (``tests/grading/mutants.py``; the library is never
edited) and graded by the family's test wrappers with three seeds; it is *killed*
when a test fails (or raises, or runs past 10 s) on any of them. Input validation is
left alone: the functions and the ``if ...: raise`` blocks that only check arguments
change nothing on valid inputs.

A mutant that survives is either a hole in the tests or *equivalent*: it computes the
same values as the original on every input the exercise allows. The equivalent ones
are listed by hand in :data:`EQUIVALENT` with the reason, the survivors the tests
cannot or need not catch in :data:`NOT_CAUGHT`; the score is killed / (all -
equivalent), and the exit status is 1 when a survivor is in neither list. Usage::

    python benchmarks/mutation_score.py [--family conv] [--seeds 3] [--show-survivors]
"""

from __future__ import annotations

import argparse
import ast
import copy
import inspect
import signal
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "grading"))

from mutants import mutant_namespace  # noqa: E402

import barenet.layers.activations as activations  # noqa: E402
import barenet.layers.affine as affine  # noqa: E402
import barenet.layers.batchnorm as batchnorm  # noqa: E402
import barenet.layers.conv as conv  # noqa: E402
import barenet.layers.dropout as dropout  # noqa: E402
import barenet.layers.norm as norm  # noqa: E402
import barenet.layers.pool as pool  # noqa: E402
import barenet.optim.rules as rules  # noqa: E402
from barenet.grading.local import layer_wrappers, wrappers  # noqa: E402

MUTANT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Family:
    """A layer family: where its reference starts, and the wrappers that grade it.

    The functions mutated are ``entries`` and every function of ``module`` they reach by
    name (found again on every run, so that a refactored reference is followed), plus
    ``extra`` helpers imported from elsewhere; a ``"Class.method"`` entry is mutated
    alone. Input validation is left out (:data:`VALIDATION`).
    """

    module: object
    entries: tuple[str, ...]
    wrappers: tuple[str, ...]
    keys: tuple[str, ...] = ()  # for a rule: the key the wrapper reads
    extra: tuple[str, ...] = ()

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(reachable(self.module, self.entries) + list(self.extra))


VALIDATION = {"_conv_params", "_pool_params"}  # and every _check* / check_* function


def is_validation_function(name: str) -> bool:
    return name in VALIDATION or name.startswith(("_check", "check_"))


def code_names(code) -> set[str]:
    """The global names a function's code (and its nested code) refers to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= code_names(const)
    return names


def reachable(module, entries: tuple[str, ...]) -> list[str]:
    """``entries`` and the functions of ``module`` they call by name, transitively."""
    found, queue = [], list(entries)
    while queue:
        name = queue.pop(0)
        if name in found:
            continue
        found.append(name)
        if "." in name:
            continue
        for used in sorted(code_names(getattr(module, name).__code__)):
            value = getattr(module, used, None)
            if (
                inspect.isfunction(value)
                and value.__module__ == module.__name__
                and not is_validation_function(used)
            ):
                queue.append(used)
    return found


FAMILIES = {
    "Sigmoid": Family(
        activations, ("Sigmoid.forward", "Sigmoid.backward"), ("SigmoidTestWrapper",)
    ),
    "ReLU": Family(activations, ("Relu.forward", "Relu.backward"), ("ReluTestWrapper",)),
    "affine": Family(affine, ("affine_forward", "affine_backward"), ("AffineTestWrapper",)),
    "momentum": Family(rules, ("sgd_momentum",), ("SGDMTestWrapper",), ("sgd_momentum",)),
    "conv": Family(conv, ("conv_forward", "conv_backward"), ("ConvTestWrapper",)),
    "max pool": Family(pool, ("max_pool_forward", "max_pool_backward"), ("MaxPoolTestWrapper",)),
    "batch norm": Family(
        batchnorm,
        (
            "batchnorm_forward",
            "batchnorm_backward",
            "spatial_batchnorm_forward",
            "spatial_batchnorm_backward",
        ),
        ("BatchNormTestWrapper", "SpatialBatchNormTestWrapper"),
        extra=("normalize",),  # from barenet.layers.norm, called by _batchnorm
    ),
    "layer norm": Family(
        norm, ("layernorm_forward", "layernorm_backward"), ("LayerNormTestWrapper",)
    ),
    "group norm": Family(
        norm,
        ("spatial_groupnorm_forward", "spatial_groupnorm_backward"),
        ("GroupNormTestWrapper",),
    ),
    "dropout": Family(dropout, ("dropout_forward", "dropout_backward"), ("DropoutTestWrapper",)),
}

# (family, function, original code, mutated code) -> why the mutant computes the same values.
ZEROES_MORE = "zeroes a superset of the padding border (the inside is written afterwards)"
EXACT_FIT = (
    "the slice only reaches past the last window, which does not exist: conv_forward "
    "accepts only sizes that the stride fits exactly"
)
EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    ("Sigmoid", "Sigmoid.forward", "x >= 0", "x > 0"): "at x = 0 both branches give 1/2",
    **{
        ("conv", "pad_channels_last", before, after): ZEROES_MORE
        for before, after in [
            (":pad_h", ":pad_h + 1"),
            ("pad_h + h:", "pad_h + h - 1:"),
            ("pad_h + h", "pad_h"),
            ("pad_h + h", "h"),
            ("pad_h:pad_h + h", "pad_h:pad_h + h + 1"),
            (":pad_w", ":pad_w + 1"),
            ("pad_w + w:", "pad_w + w - 1:"),
            ("pad_w + w", "pad_w"),
            ("pad_w + w", "w"),
        ]
    },
    **{
        ("conv", "im2col", before, after): EXACT_FIT
        for before, after in [
            (":stride * (ho - 1) + 1:stride", ":stride * (ho - 1) + 1 + 1:stride"),
            ("ho - 1", "ho + 1"),
            ("ho - 1", "ho"),
            (":stride * (wo - 1) + 1:stride", ":stride * (wo - 1) + 1 + 1:stride"),
            ("wo - 1", "wo + 1"),
            ("wo - 1", "wo"),
        ]
    },
    (
        "conv",
        "_patch_products",
        "cols.shape[1] < dmat.shape[1]",
        "cols.shape[1] <= dmat.shape[1]",
    ): ("both branches compute the same dw (the product in the other order)"),
    ("max pool", "_grad_buffer", "like.shape != x_shape", "like.shape == x_shape"): (
        "only the memory order of dx changes"
    ),
    ("max pool", "max_pool_forward", "ph * pw < 256", "ph * pw <= 256"): (
        "a uint8 index holds 0..255, all the positions of a 256-element window"
    ),
    (
        "dropout",
        "dropout_forward",
        "rng.random(np.shape(x), dtype=np.float32) < keep",
        "rng.random(np.shape(x), dtype=np.float32) <= keep",
    ): "differs only when a random number equals keep exactly (probability about 2**-24 per unit)",
}

# Survivors that are not equivalent, and why the tests do not catch them.
UNINITIALISED = (
    "shows only through np.empty's uninitialised memory, on inputs the tests do not use "
    "(an image smaller than twice its padding, a 1xK kernel, a map the pool does not tile)"
)
NOT_CAUGHT: dict[tuple[str, str, str, str], str] = {
    ("conv", "pad_channels_last", "pad_h + h", "pad_h - h"): UNINITIALISED,
    ("conv", "pad_channels_last", "pad_w + w", "pad_w - w"): UNINITIALISED,
    ("conv", "pad_channels_last", "pad_h:pad_h + h", "pad_h - 1:pad_h + h"): UNINITIALISED,
    ("max pool", "max_pool_backward", "x.shape[2] % ph == 0", "x.shape[2] % ph != 0"): (
        UNINITIALISED
    ),
    ("max pool", "max_pool_backward", "x.shape[3] % pw == 0", "x.shape[3] % pw != 0"): (
        UNINITIALISED
    ),
    **{
        ("max pool", "max_pool_forward", "ph * pw", after): (
            "the argmax index overflows only for windows of 256 elements or more"
        )
        for after in ("ph / pw", "ph", "pw")
    },
    **{
        ("batch norm", "_batchnorm_backward", "dout * scale", after): (
            "the backward of a test-mode forward, which the exercise does not ask for"
        )
        for after in ("dout / scale", "dout", "scale")
    },
    **{
        ("dropout", "_keep_probability", "1.0 - value", after): (
            "reads barenet's own 'drop_prob' key; the exercise's dropout_param has 'p'"
        )
        for after in ("1.0 + value", "1.0", "value")
    },
}

SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}


def is_validation(node: ast.If) -> bool:
    """An ``if`` whose body only raises or warns: argument checking."""

    def raises(stmt):
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        warn = isinstance(call, ast.Call) and "warn" in ast.unparse(call.func)
        return isinstance(stmt, ast.Raise) or warn

    return all(raises(stmt) for stmt in node.body)


def variants(node: ast.AST) -> list[tuple[ast.AST | None, str]]:
    """The mutants of one node: (replacement, what changed); None removes a statement."""
    out: list[tuple[ast.AST | None, str]] = []
    if isinstance(node, ast.BinOp):
        if type(node.op) in SWAPS:
            out.append((ast.BinOp(node.left, SWAPS[type(node.op)](), node.right), "operator"))
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            out += [(node.left, "dropped term"), (node.right, "dropped term")]
    elif isinstance(node, ast.AugAssign):
        if type(node.op) in SWAPS:
            out.append((ast.AugAssign(node.target, SWAPS[type(node.op)](), node.value), "operator"))
        out.append((None, "dropped line"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        out.append((node.operand, "sign"))
    elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
        out.append(
            (
                ast.Compare(
                    node.left, [SWAPS[type(node.ops[0])]()] + node.ops[1:], node.comparators
                ),
                "comparison",
            )
        )
    elif isinstance(node, ast.keyword) and node.arg == "axis":
        out += axis_variants(node)
    elif isinstance(node, ast.Slice):
        for bound in ("lower", "upper"):
            value = getattr(node, bound)
            for delta in (1, -1) if value is not None else ((1,) if bound == "lower" else ()):
                base = value if value is not None else ast.Constant(0)
                shifted = ast.BinOp(base, ast.Add() if delta > 0 else ast.Sub(), ast.Constant(1))
                out.append((ast.Slice(**{**vars(node), bound: shifted}), "slice off by one"))
    return out


def axis_variants(node: ast.keyword) -> list[tuple[ast.AST, str]]:
    value = node.value
    if isinstance(value, ast.Constant) and isinstance(value.value, int):
        return [
            (ast.keyword("axis", ast.Constant(value.value + d)), "axis")
            for d in (1, -1)
            if value.value + d >= 0
        ]
    if isinstance(value, ast.Tuple) and len(value.elts) > 1:
        return [
            (
                ast.keyword("axis", ast.Tuple(value.elts[:i] + value.elts[i + 1 :], ast.Load())),
                "axis",
            )
            for i in range(len(value.elts))
        ]
    return []


class Mutator(ast.NodeTransformer):
    """Applies mutant number ``target`` (counting every variant of every node in order)."""

    def __init__(self, target: int):
        self.target, self.count, self.change = target, 0, None

    def generic_visit(self, node):
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.If) and is_validation(node)):
            return node
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return node  # a docstring
        for replacement, kind in variants(node):
            if self.count == self.target:
                self.count += 1
                before = ast.unparse(node)
                after = "pass" if replacement is None else ast.unparse(replacement)
                self.change = (kind, before, after)
                return ast.Pass() if replacement is None else replacement
            self.count += 1
        return super().generic_visit(node)


def function_tree(family: Family, name: str) -> ast.Module:
    owner = family.module
    for part in name.split("."):
        owner = getattr(owner, part)
    return ast.parse(textwrap.dedent(inspect.getsource(owner)))


def mutants_of(family: Family, name: str):
    """Each mutant of one function: (its source, (kind, before, after))."""
    tree = function_tree(family, name)
    counter = Mutator(-1)
    counter.visit(copy.deepcopy(tree))
    for target in range(counter.count):
        mutator = Mutator(target)
        mutated = ast.fix_missing_locations(mutator.visit(copy.deepcopy(tree)))
        yield ast.unparse(mutated), mutator.change


def implementation(family: Family, name: str, source: str) -> object:
    """What the wrappers take: the mutated namespace, a subclass with the mutated method."""
    if "." not in name:
        namespace = mutant_namespace(family.module, name, source)
        return {key: namespace[key] for key in family.keys} if family.keys else namespace
    cls_name, method = name.split(".")
    namespace = dict(vars(family.module))
    exec(compile(source, f"<mutant of {name}>", "exec"), namespace)
    base = getattr(family.module, cls_name)
    return {cls_name: type(cls_name, (base,), {method: namespace[method]})}


def on_timeout(signum, frame):
    raise TimeoutError


def killed(family: Family, source_object: object, seeds: int) -> bool:
    """True when a test of the family's wrappers fails on one of ``seeds`` seeds."""
    for seed in range(seeds):
        for wrapper_name in family.wrappers:
            wrapper = getattr(layer_wrappers, wrapper_name, None) or getattr(wrappers, wrapper_name)
            signal.alarm(MUTANT_TIMEOUT_S)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    score = wrapper(source_object, seed=seed, verbose=False)
            except TimeoutError:
                return True
            finally:
                signal.alarm(0)
            if score < 100:
                return True
    return False


def run_family(label: str, family: Family, seeds: int, show: bool) -> dict:
    counts = {"mutants": 0, "killed": 0, "equivalent": 0, "survived": 0, "unexplained": 0}
    for name in family.functions:
        for source, (kind, before, after) in mutants_of(family, name):
            try:
                candidate = implementation(family, name, source)
            except Exception:  # a mutant that does not compile is no mutant
                continue
            counts["mutants"] += 1
            if killed(family, candidate, seeds):
                counts["killed"] += 1
                continue
            key = (label, name, before, after)
            reason = EQUIVALENT.get(key)
            counts["equivalent" if reason else "survived"] += 1
            known = NOT_CAUGHT.get(key)
            counts["unexplained"] += not (reason or known)
            if show:
                tag = f"equivalent: {reason}" if reason else f"survived: {known or 'UNEXPLAINED'}"
                print(f"  {label} {name} [{kind}] {before!r} -> {after!r}: {tag}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", choices=list(FAMILIES), action="append")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--show-survivors", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGALRM, on_timeout)
    print("| family | mutants | killed | equivalent | killed / non-equivalent |")
    print("|---|---|---|---|---|")
    total = {"mutants": 0, "killed": 0, "equivalent": 0, "survived": 0, "unexplained": 0}
    start = time.perf_counter()
    for label in args.family or list(FAMILIES):
        counts = run_family(label, FAMILIES[label], args.seeds, args.show_survivors)
        for key in total:
            total[key] += counts[key]
        real = counts["mutants"] - counts["equivalent"]
        print(
            f"| {label} | {counts['mutants']} | {counts['killed']} | {counts['equivalent']} "
            f"| {counts['killed']}/{real} |",
            flush=True,
        )
    real = total["mutants"] - total["equivalent"]
    print(
        f"| all | {total['mutants']} | {total['killed']} | {total['equivalent']} "
        f"| {total['killed']}/{real} |"
    )
    print(f"({time.perf_counter() - start:.0f} s; {total['unexplained']} survivors unexplained)")
    return 0 if total["unexplained"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
