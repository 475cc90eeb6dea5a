"""The exercise's test wrappers: one group of unit tests per exercise.

Each wrapper tests barenet's own implementation by default, or the one it is
given. Calling it prints one line per test, the summary and the score, and
returns the score::

    >>> SigmoidTestWrapper()()          # barenet's Sigmoid          # doctest: +SKIP
    SigmoidForwardTest passed.
    SigmoidBackwardTest passed.
    Congratulations! You have passed all the unit tests!!! Tests passed: 2/2
    Score: 100/100
    >>> SigmoidTestWrapper(MySigmoid)()  # a learner's class or instance  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

from barenet.grading.activation_tests import relu_tests, sigmoid_tests
from barenet.grading.affine_tests import affine_tests
from barenet.grading.harness import TestGroup, UnitTest
from barenet.grading.implementations import (
    function_getter,
    layer_factory,
    update_rule_getter,
)
from barenet.grading.momentum_tests import momentum_tests


def _barenet_layers():
    import barenet.layers

    return barenet.layers


class SigmoidTestWrapper(TestGroup):
    """``SigmoidForwardTest`` and ``SigmoidBackwardTest``.

    Parameters
    ----------
    implementation : class, instance, module or mapping, optional
        A ``Sigmoid`` class (instantiated without arguments) or instance, or a
        module/dict defining ``Sigmoid``. Default: ``barenet.layers.Sigmoid``.
    """

    def __init__(self, implementation: object = None):
        super().__init__("SigmoidTestWrapper")
        self.implementation = implementation

    def tests(self) -> list[UnitTest]:
        return sigmoid_tests(
            layer_factory(self.implementation, "Sigmoid", lambda: _barenet_layers().Sigmoid)
        )


class ReluTestWrapper(TestGroup):
    """``ReluForwardTest`` and ``ReluBackwardTest``.

    Parameters
    ----------
    implementation : class, instance, module or mapping, optional
        A ``Relu`` class or instance, or a module/dict defining ``Relu``.
        Default: ``barenet.layers.Relu``.
    """

    def __init__(self, implementation: object = None):
        super().__init__("ReluTestWrapper")
        self.implementation = implementation

    def tests(self) -> list[UnitTest]:
        return relu_tests(
            layer_factory(self.implementation, "Relu", lambda: _barenet_layers().Relu)
        )


class AffineTestWrapper(TestGroup):
    """``AffineForwardTest`` and ``AffineBackwardTestDx``/``Dw``/``Db``.

    Parameters
    ----------
    source : module or mapping, optional
        Defines ``affine_forward`` and ``affine_backward``. Default: ``barenet.layers``.
    affine_forward, affine_backward : callable, optional
        Override the functions taken from ``source``.
    """

    def __init__(
        self,
        source: object = None,
        *,
        affine_forward: Callable | None = None,
        affine_backward: Callable | None = None,
    ):
        super().__init__("AffineTestWrapper")
        self.source = source
        self.affine_forward = affine_forward
        self.affine_backward = affine_backward

    def _getter(self, name: str, override: Callable | None) -> Callable[[], Callable]:
        implementation = override if override is not None else self.source
        return function_getter(implementation, name, lambda: getattr(_barenet_layers(), name))

    def tests(self) -> list[UnitTest]:
        return affine_tests(
            self._getter("affine_forward", self.affine_forward),
            self._getter("affine_backward", self.affine_backward),
        )


class SGDMTestWrapper(TestGroup):
    """``SGDMomentumWeightsTest``, ``SGDMomentumVelocityTest``, ``SGDMomentumDefaultTest``.

    Parameters
    ----------
    implementation : callable, class, instance, module or mapping, optional
        An update function ``sgd_momentum(w, dw, config, lr) -> (next_w, config)``;
        an ``SGDMomentum``-like class or instance, whose ``_update(w, dw, config, lr)``
        is called; or a module/dict defining ``SGDMomentum`` or ``sgd_momentum``.
        Default: ``barenet.optim.sgd_momentum``.
    """

    def __init__(self, implementation: object = None):
        super().__init__("SGDMTestWrapper")
        self.implementation = implementation

    def tests(self) -> list[UnitTest]:
        return momentum_tests(update_rule_getter(self.implementation))
