"""The classic mistakes of inverted dropout, in plain words.

``p`` is read as the probability the exercise says (CS231n: of KEEPING a unit) or as
the other one; the survivors are not scaled, or scaled the wrong way; test mode
still drops or scales; the backward draws a new mask instead of the forward's.
"""

from __future__ import annotations

KEEP, DROP = "keep", "drop"

P_READ_AS = (
    "about {measured:.0%} of the units are kept, but p = {p:g} is the probability of "
    "{meaning} a unit here, so {expected:.0%} should be: the code reads p as the probability "
    "of {other} one. {fix}"
)
FIX = {
    KEEP: "Keep a unit where rng.random(x.shape) < p, and scale the survivors by 1 / p.",
    DROP: "Drop a unit where rng.random(x.shape) < p, and scale the survivors by 1 / (1 - p).",
}
NOT_SCALED = (
    "the kept units are not scaled: inverted dropout divides them by the keep probability "
    "in training (out = x * mask / keep), so that test mode needs no scaling."
)
SCALED_BY_DROP = (
    "the kept units are divided by the drop probability: divide by the probability of "
    "keeping a unit, out = x * mask / keep."
)
MULTIPLIED = (
    "the kept units are multiplied by the keep probability (plain dropout's test-time "
    "scaling): inverted dropout divides by it in training, out = x * mask / keep."
)
ACTIVE_IN_TEST = (
    "dropout still drops units in test mode: in test mode the layer is the identity, out = x."
)
SCALES_IN_TEST = (
    "test mode scales x: with inverted dropout the scaling is done in training, so test "
    "mode returns x unchanged."
)
NEW_MASK = (
    "the backward zeroes other units than the forward dropped: it draws a new mask. Keep "
    "the forward's mask in the cache and use it, dx = dout * mask / keep."
)
NO_MASK_IN_BACKWARD = (
    "dx is dout itself: multiply by the forward's mask (and scale), dx = dout * mask / keep."
)
BACKWARD_NOT_SCALED = "dx is not scaled: dx = dout * mask / keep, as the forward scales."


def keep_fraction_message(measured: float, p: float, meaning: str) -> str:
    """The sentence for a kept fraction that fits the other meaning of p."""
    other = DROP if meaning == KEEP else KEEP
    expected = p if meaning == KEEP else 1 - p
    verb = {KEEP: "keeping", DROP: "dropping"}
    return P_READ_AS.format(
        measured=measured,
        p=p,
        meaning=verb[meaning],
        expected=expected,
        other=verb[other],
        fix=FIX[meaning],
    )
