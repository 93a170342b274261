"""Kernels: the BLAS RBF kernel and the kernel discriminants, checked against scikit-learn."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from digitcore.features import deskew, gradient_histograms
from digitcore.kernels import KernelDiscriminants, rbf_kernel_blas


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
    out = rbf_kernel_blas(a, b, gamma=0.8, Y_sq=(b**2).sum(axis=1))
    assert out.dtype == np.float32 and out.shape == (7, 293)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6)
    same = rbf_kernel_blas(a, a, gamma=0.8)
    np.testing.assert_allclose(np.diag(same), 1.0, rtol=1e-5)  # no negative rounding
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    out64 = rbf_kernel_blas(a64, b64, gamma=0.8)
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


def test_a_digits_discriminant_axes_do_not_depend_on_the_digits_beside_it(mnist_train):
    # The projection's entries are large and its sums cancel: summed in float32, a digit's
    # axes moved by up to 1% between a batch and a row alone, and a 1 beside a 5 read as 7.
    X = gradient_histograms(deskew(mnist_train.images[:2000]))
    fitted = KernelDiscriminants(n_components=1000).fit(X, mnist_train.labels[:2000])
    together = fitted.transform(X[:40])
    alone = np.concatenate([fitted.transform(X[i : i + 1]) for i in range(40)])
    assert np.abs(together - alone).max() <= 1e-5 * np.abs(together).max()


def test_kernel_discriminants_refuse_a_wrong_feature_count_and_fit_few_digits(mnist_train):
    X = gradient_histograms(mnist_train.images[:100])
    fitted = KernelDiscriminants().fit(X, mnist_train.labels[:100])  # fewer digits than landmarks
    assert fitted.landmarks_.shape[0] == 100
    with pytest.raises(ValueError, match=f"expected {X.shape[1]} features per digit"):
        fitted.transform(X[:, :10])


def test_kernel_discriminants_pickle_without_float64_landmarks_and_answer_alike(mnist_train):
    X = gradient_histograms(mnist_train.images[:300])
    fitted = KernelDiscriminants(n_components=100).fit(X, mnist_train.labels[:300])
    expected = fitted.transform(X[:20])  # builds the float64 landmarks
    assert "_landmarks64" in fitted.__dict__
    restored = pickle.loads(pickle.dumps(fitted))
    assert "_landmarks64" not in restored.__dict__ and "_projection64" not in restored.__dict__
    assert "_landmarks64" in fitted.__dict__  # pickling leaves the original's cache alone
    np.testing.assert_array_equal(restored.transform(X[:20]), expected)


def test_refitted_kernel_discriminants_forget_the_old_landmarks(mnist_train):
    X, y = gradient_histograms(mnist_train.images[:600]), mnist_train.labels[:600]
    refitted = KernelDiscriminants(n_components=100).fit(X[:300], y[:300])
    refitted.fit(X[300:], y[300:])
    fresh = KernelDiscriminants(n_components=100).fit(X[300:], y[300:])
    np.testing.assert_array_equal(refitted.transform(X[:20]), fresh.transform(X[:20]))
