"""Learning-rate schedules per step: a warm-up, then a linear or cosine decay.

A schedule is a callable ``schedule(step) -> factor``: the learning rate of the
``step``-th update (counted from 0) is the optimizer's base rate times ``factor``.
:class:`Solver` calls it before every update when given ``lr_schedule=``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DECAYS = ("linear", "cosine", "none")


@dataclass(frozen=True)
class WarmupDecay:
    """Linear warm-up over ``warmup_steps``, then a decay to ``final_factor``.

    ``factor(t) = (t + 1) / warmup_steps`` for ``t < warmup_steps`` (the first update
    already moves), then with ``p = (t - warmup_steps) / (total_steps - warmup_steps)``
    clipped to ``[0, 1]``:

    * ``'linear'``: ``1 - (1 - final_factor) * p``;
    * ``'cosine'``: ``final_factor + (1 - final_factor) * (1 + cos(pi * p)) / 2``;
    * ``'none'``: 1 (warm-up only).

    After ``total_steps`` the factor stays at ``final_factor``. The same rates as
    PyTorch's ``LinearLR(start_factor=1 / warmup_steps, total_iters=warmup_steps - 1)``
    followed by ``CosineAnnealingLR(T_max=total_steps - warmup_steps, eta_min=final_factor
    * lr)`` (or ``LinearLR(1, final_factor, total_steps - warmup_steps)``).

    Parameters
    ----------
    total_steps : int
        Updates in the whole run, ``epochs * len(train_dataloader)``; ``> warmup_steps``.
    warmup_steps : int
        Updates of the warm-up, ``>= 0``.
    decay : {'linear', 'cosine', 'none'}
    final_factor : float
        The factor at the end of the decay, in ``[0, 1]``.
    """

    total_steps: int
    warmup_steps: int = 0
    decay: str = "cosine"
    final_factor: float = 0.0

    def __post_init__(self) -> None:
        if self.decay not in DECAYS:
            raise ValueError(f"WarmupDecay: decay must be one of {DECAYS}, got {self.decay!r}")
        if int(self.warmup_steps) != self.warmup_steps or self.warmup_steps < 0:
            raise ValueError(
                f"WarmupDecay: warmup_steps must be an integer >= 0, got {self.warmup_steps!r}"
            )
        if int(self.total_steps) != self.total_steps or self.total_steps <= self.warmup_steps:
            raise ValueError(
                "WarmupDecay: total_steps must be an integer > warmup_steps "
                f"({self.warmup_steps}), got {self.total_steps!r}"
            )
        if not 0.0 <= self.final_factor <= 1.0:
            raise ValueError(
                f"WarmupDecay: final_factor must be in [0, 1], got {self.final_factor!r}"
            )

    def __call__(self, step: int) -> float:
        """The factor of the learning rate at update ``step`` (0 is the first)."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.decay == "none":
            return 1.0
        progress = min((step - self.warmup_steps) / (self.total_steps - self.warmup_steps), 1.0)
        final = self.final_factor
        if self.decay == "linear":
            return 1.0 - (1.0 - final) * progress
        return final + (1.0 - final) * (1.0 + math.cos(math.pi * progress)) / 2
