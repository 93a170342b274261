"""digitcore.preprocess and digitcore.segmentation: drawings to MNIST-form digits, left to right; blanks to nothing."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from scipy import ndimage as ndi
from sklearn.svm import SVC

from digitcore import synthetic
from digitcore.errors import ImageError
from digitcore.images import canvas_to_gray
from digitcore.preprocess import to_mnist
from digitcore.segmentation import Digit, segment


@pytest.fixture(scope="module")
def model(mnist_train):
    """A plain SVC on 5000 MNIST training digits: fits in seconds, ~95% on MNIST."""
    tr = mnist_train.head(5000)
    svc = SVC().fit(tr.images.reshape(len(tr), -1) / 255.0, tr.labels)
    return lambda digits: svc.predict(np.stack(digits).reshape(len(digits), -1) / 255.0)


def _read(rgba: np.ndarray) -> list[Digit]:
    return segment(canvas_to_gray(rgba))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


# --- to_mnist -------------------------------------------------------------------------------


@pytest.mark.parametrize("hw", [(200, 50), (50, 200), (7, 5), (400, 400)])
def test_to_mnist_fits_the_digit_in_20x20_centred_by_mass(hw):
    crop = np.zeros((hw[0] + 20, hw[1] + 20), np.uint8)
    crop[10:-10, 10:-10] = 255
    out = to_mnist(crop)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)
    cy, cx = ndi.center_of_mass(out.astype(float))
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def test_to_mnist_of_nothing_is_all_zero():
    assert not to_mnist(np.zeros((30, 30), np.uint8)).any()


def test_mnist_digit_upscaled_comes_back_close_to_original(mnist_test):
    for digit in mnist_test.images[:20]:
        big = ndi.zoom(digit.astype(np.float32), 6, order=1)
        assert _corr(to_mnist(big, normalize_stroke=False), digit) > 0.8


@pytest.mark.parametrize("brush", [4, 12, 28])
@pytest.mark.parametrize("polarity", list(synthetic.POLARITIES))
def test_mnist_digit_redrawn_on_canvas_comes_back_close_to_original(mnist_test, brush, polarity):
    for i in range(5):
        canvas = synthetic.render_drawing(
            mnist_test.images[i],
            (280, 280),
            height_frac=0.6,
            position=(0.2, 0.8),
            brush_px=brush,
            polarity=polarity,
        )
        (digit,) = _read(canvas)
        assert _corr(digit.image, mnist_test.images[i]) > 0.6


def test_thin_and_thick_brushes_end_up_with_similar_strokes(mnist_test):
    ink = []
    for brush in (3, 10, 30):
        canvas = synthetic.render_drawing(mnist_test.images[3], height_frac=0.7, brush_px=brush)
        ink.append(_read(canvas)[0].image.astype(float).sum())
    assert max(ink) / min(ink) < 1.5  # without normalisation the thick one has ~5x the ink


# --- blanks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["empty", "dots", "specks", "tick"])
@pytest.mark.parametrize("seed", range(5))
def test_blank_canvas_is_not_a_digit(kind, seed):
    rng = np.random.default_rng(seed)
    polarity = list(synthetic.POLARITIES)[seed % 3]
    assert _read(synthetic.render_blank((280, 280), kind, polarity=polarity, rng=rng)) == []


def test_an_ink_map_that_is_not_2d_is_refused():
    with pytest.raises(ImageError, match=r"expected a 2-D ink map .* got shape \(5, 5, 3\)"):
        segment(np.zeros((5, 5, 3), np.uint8))


def test_small_one_at_40_percent_of_the_height_is_a_digit():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[150:262, 40:46] = 255  # a thin '1', 40% of the canvas high, near a corner
    assert len(segment(canvas)) == 1


# --- several digits -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_three_digits_come_back_left_to_right(mnist_test, seed):
    canvases, _ = synthetic.drawn_numbers(mnist_test.images, mnist_test.labels, n=1, seed=seed)
    digits = _read(canvases[0])
    assert len(digits) == 3
    starts = [d.box[0] for d in digits]
    assert starts == sorted(starts)
    assert all(d.box[2] <= e.box[0] for d, e in pairwise(digits))


def test_a_five_with_its_bar_drawn_apart_is_one_digit():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[60:66, 100:200] = 255  # the bar, lifted pen
    canvas[72:140, 100:106] = 255  # the stem
    canvas[135:141, 100:170] = 255
    canvas[135:220, 170:176] = 255  # the belly, boxy
    canvas[214:220, 90:176] = 255
    assert len(segment(canvas)) == 1


# "2"+"7", "0"+"4", "2"+"0". Known limit: a touching pair narrower than SPLIT_ASPECT (a "1"
# against a "0") or joined through two strokes stays one digit.
@pytest.mark.parametrize("first, second", [(1, 0), (3, 6), (1, 3)])
def test_two_touching_digits_are_split(mnist_test, first, second):
    a = synthetic.stroke_alpha(mnist_test.images[first], height_px=150, brush_px=10)
    b = synthetic.stroke_alpha(mnist_test.images[second], height_px=150, brush_px=10)
    # Slide the second digit left until the two strokes just touch.
    for x in range(100 + a.shape[1], 100, -1):
        canvas = np.zeros((280, 600), np.float32)
        canvas[50 : 50 + a.shape[0], 100 : 100 + a.shape[1]] = a
        region = canvas[50 : 50 + b.shape[0], x : x + b.shape[1]]
        region[...] = np.maximum(region, b)
        if ndi.label(canvas >= 0.4, np.ones((3, 3)))[1] == 1:
            break
    digits = segment((canvas * 255).astype(np.uint8))
    assert len(digits) == 2


def test_a_wide_zero_is_not_split():
    yy, xx = np.mgrid[:280, :500]
    ring = np.abs(np.hypot((yy - 140) / 80, (xx - 250) / 150) - 1) < 0.06
    assert len(segment(ring.astype(np.uint8) * 255)) == 1


# --- accuracy floors (small sets; the full measurement is benchmarks/drawn.py) -------------


def test_drawn_single_digits_are_mostly_read_right(mnist_test, model):
    canvases, labels = synthetic.drawn_digits(
        mnist_test.images[:150], mnist_test.labels[:150], seed=11
    )
    found = [_read(c) for c in canvases]
    assert all(len(f) == 1 for f in found)
    acc = np.mean(model([f[0].image for f in found]) == labels)
    assert acc >= 0.88  # measured 0.95 with this model (MNIST test: 0.94)


def test_drawn_three_digit_numbers_are_mostly_read_right(mnist_test, model):
    canvases, texts = synthetic.drawn_numbers(mnist_test.images, mnist_test.labels, n=40, seed=12)
    right = 0
    for canvas, text in zip(canvases, texts, strict=True):
        digits = _read(canvas)
        got = "".join(map(str, model([d.image for d in digits]))) if digits else ""
        right += got == text
    assert right / len(texts) >= 0.7  # measured 0.85
