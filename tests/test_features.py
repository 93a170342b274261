"""Features: deskew and gradient histograms, checked on hand-made strokes and real digits."""

from __future__ import annotations

import numpy as np
import pytest

from digitcore.features import DeskewedGradients, chunks, deskew, gradient_histograms


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


def test_deskewed_gradients_keeps_its_parameters_and_fits_without_labels(mnist_train):
    step = DeskewedGradients(orientations=6, cell=7, sigma=1.5).fit(mnist_train.images[:3])
    assert step.get_params() == {"orientations": 6, "cell": 7, "sigma": 1.5}
    expected = gradient_histograms(
        deskew(mnist_train.images[:3]), orientations=6, cell=7, sigma=1.5
    )
    np.testing.assert_array_equal(step.transform(mnist_train.images[:3]), expected)


def test_chunks_cover_every_index_once_in_order():
    covered = np.concatenate([np.arange(10_000)[part] for part in chunks(10_000)])
    np.testing.assert_array_equal(covered, np.arange(10_000))
    assert list(chunks(0)) == []
