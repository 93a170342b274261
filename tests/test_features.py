"""Feature transformers and augmentation: claims checked on hand-made strokes and real digits."""

from __future__ import annotations

import numpy as np
import pytest

from digitcore import features
from digitcore.features import (
    DeskewedGradients,
    KernelDiscriminants,
    augment,
    deskew,
    gradient_histograms,
    rbf_kernel_blas,
)


def _sheared_bar() -> np.ndarray:
    """A 3-pixel-wide stroke leaning right by one column every two rows."""
    img = np.zeros((1, 28, 28), np.uint8)
    for r in range(4, 24):
        c = 8 + (r - 4) // 2
        img[0, r, c : c + 3] = 255
    return img


def _ink_columns(img: np.ndarray) -> np.ndarray:
    """Centre of ink (column) of each row that has ink."""
    rows = img[img.sum(axis=1) > 0]
    return (rows * np.arange(28)).sum(axis=1) / rows.sum(axis=1)


def test_deskew_straightens_a_sheared_stroke():
    before = _ink_columns(_sheared_bar()[0].astype(float))
    after = _ink_columns(deskew(_sheared_bar())[0])
    assert np.ptp(before) > 8  # the stroke leans across 9 columns...
    assert np.ptp(after) < 1.0  # ...and stands upright after
    assert abs(after.mean() - 13.5) < 0.5  # centred by mass


def test_deskew_leaves_blank_image_blank_and_keeps_ink():
    blank = np.zeros((1, 28, 28), np.uint8)
    assert not deskew(blank).any()
    bar = _sheared_bar()
    assert deskew(bar).sum() == pytest.approx(bar.sum(), rel=0.02)


def test_transformers_refuse_wrong_shapes_saying_what_arrived():
    with pytest.raises(ValueError, match=r"\(n, 28, 28\).*\(5, 27, 28\)"):
        DeskewedGradients().fit_transform(np.zeros((5, 27, 28)))
    with pytest.raises(ValueError, match=r"\(n, 28, 28\).*\(5, 10\)"):
        deskew(np.zeros((5, 10)))


def test_gradient_histograms_of_a_batch_equal_those_of_each_image(mnist_train):
    images = mnist_train.images[:6]
    batch = gradient_histograms(images)
    one_by_one = np.vstack([gradient_histograms(im[None]) for im in images])
    np.testing.assert_allclose(batch, one_by_one, atol=1e-6)  # no mixing between images
    assert batch.shape == (6, 12 * 7 * 7) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, rtol=1e-5)


def test_gradient_histograms_tell_horizontal_from_vertical_strokes():
    vertical = np.zeros((1, 28, 28), np.uint8)
    vertical[0, 4:24, 13:16] = 255
    horizontal = np.ascontiguousarray(vertical.transpose(0, 2, 1))
    v, h = gradient_histograms(vertical), gradient_histograms(horizontal)
    energy = lambda f: (f.reshape(12, -1) ** 2).sum(axis=1)  # noqa: E731
    # Channels 0 and 6 are gradients along columns (0 and 180 degrees): a vertical stroke's edges.
    assert np.argmax(energy(v)) in (0, 6) and np.argmin(energy(v)) in (3, 9)
    assert np.argmax(energy(h)) in (3, 9) and np.argmin(energy(h)) in (0, 6)


def test_augment_keeps_originals_and_labels_and_adds_close_copies(mnist_train):
    images, labels = mnist_train.images[:200], mnist_train.labels[:200]
    out, out_labels = augment(images, labels, copies=2, random_state=1)
    assert out.shape == (600, 28, 28) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:200], images)
    np.testing.assert_array_equal(out_labels, np.tile(labels, 3))
    copies = out[200:400].reshape(200, -1).astype(float)
    originals = images.reshape(200, -1).astype(float)
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(copies, originals, strict=True)]
    assert np.median(corr) > 0.5  # still the same digit...
    assert np.mean(np.all(copies == originals, axis=1)) == 0  # ...but never an exact copy
    mass = copies.sum(axis=1) / originals.sum(axis=1)
    assert 0.4 < np.median(mass) < 1.6


def test_augment_is_reproducible_and_refuses_mismatched_labels(mnist_train):
    images, labels = mnist_train.images[:50], mnist_train.labels[:50]
    a, _ = augment(images, labels, random_state=3)
    b, _ = augment(images, labels, random_state=3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="49 labels for 50 images"):
        augment(images, labels[:49])


def test_kernel_discriminants_match_nystroem_then_lda_in_one_small_matrix(mnist_train):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.kernel_approximation import Nystroem

    X = gradient_histograms(deskew(mnist_train.images[:2000]))
    y = mnist_train.labels[:2000]
    fitted = KernelDiscriminants(n_components=400).fit(X, y)
    nystroem = Nystroem(gamma=fitted.gamma_, n_components=400, random_state=0).fit(X)
    np.testing.assert_array_equal(fitted.landmarks_, nystroem.components_)
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage=1e-3).fit(nystroem.transform(X), y)
    expected = lda.transform(nystroem.transform(X))
    out = fitted.transform(X)
    assert out.shape == (2000, 9) and out.dtype == np.float32
    assert fitted.projection_.shape == (400, 9)
    # The same axes in the same order, up to sign and float32 rounding in ill-conditioned
    # directions of the landmark kernel.
    for axis in range(9):
        assert abs(np.corrcoef(out[:, axis], expected[:, axis])[0, 1]) > 0.9999, axis


def test_blas_rbf_kernel_agrees_with_scikit_learn_in_float32_and_float64(mnist_train):
    from sklearn.metrics.pairwise import rbf_kernel

    X = gradient_histograms(mnist_train.images[:300])
    a, b = X[:7], X[7:]
    expected = rbf_kernel(a.astype(np.float64), b.astype(np.float64), gamma=0.8)
    out = rbf_kernel_blas(a, b, (b**2).sum(axis=1), 0.8)
    assert out.dtype == np.float32 and out.shape == (7, 293)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6)
    same = rbf_kernel_blas(a, a, (a**2).sum(axis=1), 0.8)
    np.testing.assert_allclose(np.diag(same), 1.0, rtol=1e-5)  # no negative rounding
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    out64 = rbf_kernel_blas(a64, b64, (b64**2).sum(axis=1), 0.8)
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out64, expected, rtol=1e-12)


def test_kernel_discriminant_axes_separate_unseen_digits(mnist_train):
    X = gradient_histograms(deskew(mnist_train.images[:3000]))
    y = mnist_train.labels[:3000]
    fitted = KernelDiscriminants(n_components=1000).fit(X[:2000], y[:2000])
    train, held_out = fitted.transform(X[:2000]), fitted.transform(X[2000:])
    # Nearest class mean on the 9 axes alone: a linear read-out of nonlinear features.
    means = np.stack([train[y[:2000] == d].mean(axis=0) for d in range(10)])
    nearest = np.argmin(((held_out[:, None] - means[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == y[2000:]) >= 0.96  # measured 0.986


def test_kernel_discriminants_refuse_a_wrong_feature_count_and_fit_few_digits(mnist_train):
    X = gradient_histograms(mnist_train.images[:100])
    fitted = KernelDiscriminants().fit(X, mnist_train.labels[:100])  # fewer digits than landmarks
    assert fitted.landmarks_.shape[0] == 100
    with pytest.raises(ValueError, match=f"expected {X.shape[1]} features per digit"):
        fitted.transform(X[:, :10])


def test_deskewed_gradients_memo_returns_same_features_and_never_mixes_inputs(mnist_train):
    a, b = mnist_train.images[:30], mnist_train.images[30:60]
    expected_a = gradient_histograms(deskew(a))
    first = DeskewedGradients().fit_transform(a)
    again = DeskewedGradients().transform(a.copy())  # equal content, another array: reused
    np.testing.assert_array_equal(first, expected_a)
    assert again is first and not first.flags.writeable  # nobody can alter the shared result
    np.testing.assert_array_equal(DeskewedGradients().transform(b), gradient_histograms(deskew(b)))
    changed = a.copy()
    changed[0, 14, 14] ^= 1  # one pixel differs: must not reuse
    np.testing.assert_array_equal(
        DeskewedGradients().transform(changed), gradient_histograms(deskew(changed))
    )
    other = DeskewedGradients(orientations=8).transform(a)  # other parameters: not reused
    assert other.shape == (30, 8 * 49)
    as_float = DeskewedGradients().transform(a.astype(np.float32))  # same values, other dtype
    np.testing.assert_allclose(as_float, expected_a, atol=1e-6)


def test_deskewed_gradients_memo_skips_results_over_its_size_limit(mnist_train, monkeypatch):
    monkeypatch.setattr(features, "MEMO_MAX_BYTES", 100)
    monkeypatch.setattr(features, "_memo", None)
    DeskewedGradients().transform(mnist_train.images[:5])
    assert features._memo is None
