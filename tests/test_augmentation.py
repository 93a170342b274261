"""Augmentation: distorted copies that stay the same digit, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from digitcore.augmentation import augment


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


def test_augment_takes_its_options_by_keyword_only(mnist_train):
    with pytest.raises(TypeError):
        augment(mnist_train.images[:2], mnist_train.labels[:2], 1)
