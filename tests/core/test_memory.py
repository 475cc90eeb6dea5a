"""Memory account: bytes counted by hand, views counted once, human-readable sizes."""

import numpy as np
import pytest

import barenet as bn


def test_network_size_equals_hand_count():
    n, d, h, c = 16, 12, 8, 5
    net = bn.ClassificationNet(input_size=d, hidden_size=h, num_classes=c, seed=0)
    X = np.ones((n, 3, 2, 2), np.float32)  # reshaped to (16, 12): a view, not new memory
    loss, dlogits = bn.CrossEntropyFromLogits()(net.forward(X), np.zeros(n, int))
    net.backward(dlogits)
    f = 4  # bytes per float32
    cache = n * d * f + (d * h + h) * f + n * h * f + (h * c + c) * f  # input, W1 b1, hidden, W2 b2
    grads = (d * h + h + h * c + c) * f
    assert bn.compute_network_size(net) == cache + grads
    breakdown = bn.network_size_breakdown(net)
    assert sum(breakdown.values()) == cache + grads
    assert breakdown["cache.affine2[0]"] == 0  # the hidden activation, already counted


def test_slices_of_a_big_array_count_only_their_span():
    class Holder:
        pass

    big = np.zeros((100, 10), np.float64)
    holder = Holder()
    holder.cache = {"a": big[:10], "b": big[5:20], "c": big[:20].reshape(-1)}
    holder.grads = {}
    assert bn.compute_network_size(holder) == 20 * 10 * 8


@pytest.mark.parametrize(
    "size,text",
    [
        (0, "0.00B"),
        (1024, "1024.00B"),
        (1025, "1.00KB"),
        (39_521_000_000, "36.81GB"),
        (1024**2 * 1.5, "1.50MB"),
        (1024**5 * 3, "3072.00TB"),
    ],
)
def test_human_readable_size(size, text):
    assert bn.human_readable_size(size) == text
    assert bn.GetHumanReadable(size) == text


def test_human_readable_precision():
    assert bn.human_readable_size(1536, precision=1) == "1.5KB"
