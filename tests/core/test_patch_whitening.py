"""PatchWhitening and WhitenedConvNet: whitened patches, fixed filters, gradients, saving."""

import numpy as np
import pytest

import barenet as bn
from barenet.gradcheck import eval_numerical_gradient, rel_error
from barenet.layers import PatchWhitening, patch_whitening_filters
from barenet.layers.patch_whitening import image_patches


def correlated_images(n=200, seed=0):
    """Images (N, C, H, W) whose neighbouring pixels and channels are strongly correlated."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 1, 9, 9))
    smooth = base[:, :, :-1, :-1] + base[:, :, 1:, :-1] + base[:, :, :-1, 1:] + base[:, :, 1:, 1:]
    return np.concatenate([smooth, 2 * smooth + 0.3 * rng.standard_normal(smooth.shape)], axis=1)


def test_the_filters_responses_to_the_patches_are_white():
    images = correlated_images()
    filters, mean = patch_whitening_filters(images, 2, epsilon=1e-9)
    d = 2 * 2 * 2
    assert filters.shape == (2 * d, 2, 2, 2)
    np.testing.assert_array_equal(filters[d:], -filters[:d])
    patches = image_patches(images, (2, 2))
    responses = (patches - mean) @ filters[:d].reshape(d, -1).T
    np.testing.assert_allclose(np.cov(responses.T), np.eye(d), atol=1e-6)
    # Strongest direction first: with epsilon, its gain is the smallest.
    gains = np.linalg.norm(filters[:d].reshape(d, -1), axis=1)
    assert np.all(np.diff(gains) >= -1e-12)


def test_the_layer_is_a_convolution_with_the_fitted_filters_and_centred_outputs():
    images = correlated_images()
    layer = PatchWhitening(2, 2, epsilon=1e-3, dtype=np.float64).fit(images)
    out, _ = layer.forward(images)
    assert out.shape == (200, 16, 7, 7)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-9)
    manual = image_patches(images, (2, 2)) @ layer.filters.reshape(16, -1).T + layer.params["b"]
    np.testing.assert_allclose(out.transpose(0, 2, 3, 1).reshape(-1, 16), manual, atol=1e-9)


def test_an_unfitted_layer_passes_each_input_value_on_with_both_signs():
    x = np.random.default_rng(1).standard_normal((2, 1, 3, 3))
    out, _ = PatchWhitening(1, 2, dtype=np.float64).forward(x)
    np.testing.assert_allclose(out[:, 0], x[:, 0, :2, :2])
    np.testing.assert_allclose(out[:, 7], -x[:, 0, 1:, 1:])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: PatchWhitening(3).fit(np.zeros((4, 1, 8, 8))), r"\(N, 3, H, W\)"),
        (lambda: PatchWhitening(1, epsilon=0), "epsilon must be > 0"),
        (lambda: patch_whitening_filters(np.zeros((2, 1, 2, 2)), 3), "do not fit"),
        (lambda: bn.WhitenedConvNet((8, 8, 1), (4, 4, 4)), "too small for 3 blocks"),
        (lambda: bn.WhitenedConvNet((8, 6, 1), (4,)), "must be square"),
    ],
)
def test_bad_input_names_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def tiny_net(dtype=np.float64):
    rng = np.random.default_rng(3)
    images = rng.standard_normal((6, 8, 8, 2))
    net = bn.WhitenedConvNet((8, 8, 2), (3, 4), num_classes=3, dtype=dtype, seed=0)
    return net.fit_whitening(images), images


def test_gradients_of_every_trained_parameter_match_numerical_ones_in_float64():
    net, images = tiny_net()
    labels = np.array([0, 1, 2, 0, 1, 2])
    _, grads = net.loss(images, labels)
    assert "filters1" not in net.params and "b1" in grads  # the filters are not trained
    for key, w in net.params.items():
        num = eval_numerical_gradient(lambda _: net.loss(images, labels)[0], w)
        # A bias just before batch norm has a gradient of exactly 0: compare absolutely.
        assert rel_error(grads[key], num) < 1e-5 or np.abs(grads[key] - num).max() < 1e-9, key


def test_the_filters_stay_fixed_through_training_and_are_saved(tmp_path):
    net, images = tiny_net(np.float32)
    filters = net.buffers["filters1"].copy()
    loader = [{"image": images[:3], "label": np.array([0, 1, 2])}]
    bn.Solver(net, loader, loader, optimizer=bn.SGDMomentum, verbose=False).train(epochs=3)
    np.testing.assert_array_equal(net.buffers["filters1"], filters)
    net.save(tmp_path / "net.npz")
    loaded = bn.WhitenedConvNet.load(tmp_path / "net.npz")
    np.testing.assert_array_equal(loaded.buffers["filters1"], filters)
    net.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded.forward(images), net.forward(images))
