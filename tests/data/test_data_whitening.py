"""ZCAWhitening on the real 8x8 digits: whitened covariance, flip commutation, saving."""

from __future__ import annotations

import numpy as np
import pytest

from barenet.data import DigitsDataset, ZCAWhitening


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """The digits' training images as ``(N, 8, 8, 1)`` uint8 (values 0..255)."""
    images = DigitsDataset(mode="train", seed=0).images
    return np.ascontiguousarray(images)


def covariance(flat: np.ndarray) -> np.ndarray:
    flat = flat.astype(np.float64)
    centred = flat - flat.mean(0)
    return centred.T @ centred / len(flat)


def with_mirrors(images: np.ndarray) -> np.ndarray:
    return np.concatenate([images, images[:, :, ::-1]])


@pytest.mark.parametrize("flip_symmetric", [True, False])
def test_whitened_training_data_has_the_shrunk_identity_covariance(digits, flip_symmetric):
    eps = 1e-4
    zca = ZCAWhitening(eps, flip_symmetric=flip_symmetric).fit(digits)
    fitted = with_mirrors(digits) if flip_symmetric else digits
    x = fitted.reshape(len(fitted), -1) / 255.0
    lam, vectors = np.linalg.eigh(covariance(x))
    lam = np.maximum(lam, 0)
    expected = (vectors * (lam / (lam + eps))) @ vectors.T  # identity, shrunk by epsilon
    whitened = zca.transform_all(fitted).reshape(len(fitted), -1)
    assert whitened.dtype == np.float32 and whitened.shape == x.shape
    np.testing.assert_allclose(covariance(whitened), expected, atol=2e-3)
    # Directions with more variance than epsilon come out with unit variance.
    strong = lam > 100 * eps
    strong_variance = np.einsum("ij,ik,kj->j", vectors, covariance(whitened), vectors)[strong]
    np.testing.assert_allclose(strong_variance, 1.0, atol=0.02)
    np.testing.assert_allclose(whitened.mean(0), 0.0, atol=1e-4)


def test_whitening_is_the_inverse_square_root_of_the_covariance(digits):
    eps = 0.05
    zca = ZCAWhitening(eps).fit(digits)
    x = with_mirrors(digits).reshape(2 * len(digits), -1) / 255.0
    lam, vectors = np.linalg.eigh(covariance(x))
    matrix = (vectors / np.sqrt(np.maximum(lam, 0) + eps)) @ vectors.T
    np.testing.assert_allclose(zca.matrix(), matrix, atol=1e-4)
    np.testing.assert_allclose(zca.matrix(), zca.matrix().T, atol=1e-5)  # ZCA: symmetric
    expected = (digits[:7].reshape(7, -1) / 255.0 - x.mean(0)) @ matrix
    np.testing.assert_allclose(zca(digits[:7]).reshape(7, -1), expected, atol=1e-4)


def test_flip_commutes_with_a_flip_symmetric_whitening(digits):
    zca = ZCAWhitening(0.01).fit(digits)
    batch = digits[:20]
    np.testing.assert_allclose(zca(batch[:, :, ::-1]), zca(batch)[:, :, ::-1], atol=1e-6)
    # Round trip: mirror the whitened images, whiten the mirrors, they agree.
    np.testing.assert_allclose(zca(batch)[:, :, ::-1][:, :, ::-1], zca(batch), atol=0)
    # Without the symmetric covariance the flip does not commute on these images.
    plain = ZCAWhitening(0.01, flip_symmetric=False).fit(digits)
    assert np.abs(plain(batch[:, :, ::-1]) - plain(batch)[:, :, ::-1]).max() > 0.1


def test_one_image_and_a_batch_agree_and_the_input_is_unchanged(digits):
    zca = ZCAWhitening(0.01).fit(digits)
    batch = digits[:5].copy()
    out = zca(batch)
    np.testing.assert_array_equal(batch, digits[:5])
    assert out.shape == batch.shape
    for image, whitened in zip(batch, out, strict=True):
        np.testing.assert_allclose(zca(image), whitened, atol=1e-6)
    np.testing.assert_allclose(zca.transform_all(digits, chunk_size=7)[:5], out, atol=1e-6)


def test_chunked_fit_equals_one_chunk(digits):
    whole = ZCAWhitening(0.01).fit(digits, chunk_size=len(digits))
    chunked = ZCAWhitening(0.01).fit(digits, chunk_size=100)
    np.testing.assert_allclose(chunked.matrix(), whole.matrix(), atol=1e-4)
    np.testing.assert_allclose(chunked.mean, whole.mean, atol=1e-6)


def test_saved_and_loaded_whitening_gives_the_same_images(digits, tmp_path):
    zca = ZCAWhitening(0.02).fit(digits)
    zca.save(tmp_path / "whitening.npz")
    loaded = ZCAWhitening.load(tmp_path / "whitening.npz")
    assert (loaded.epsilon, loaded.input_scale, loaded.flip_symmetric) == (0.02, 1 / 255, True)
    np.testing.assert_array_equal(loaded(digits[:9]), zca(digits[:9]))
    with np.load(tmp_path / "whitening.npz", allow_pickle=False) as data:
        assert "block0" in data.files and "block1" in data.files


def test_bad_use_is_refused(digits):
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        ZCAWhitening(0.0)
    with pytest.raises(ValueError, match="must be fitted"):
        ZCAWhitening()(digits[:2])
    with pytest.raises(ValueError, match="even image width"):
        ZCAWhitening().fit(digits[:, :, :7])
    zca = ZCAWhitening().fit(digits)
    with pytest.raises(ValueError, match=r"fitted on images of shape \(8, 8, 1\)"):
        zca(digits[:, :7, :7])
