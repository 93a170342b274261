"""digitcore.synthetic: drawn test sets are canvases like the app's, and reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from digitcore import synthetic
from digitcore.data import load_mnist


@pytest.fixture(scope="module")
def test_set():
    return load_mnist("test", "/work/shared/data/mnist").head(50)


@pytest.mark.parametrize("polarity", list(synthetic.POLARITIES))
def test_drawing_is_an_rgba_canvas_with_the_right_background(test_set, polarity):
    canvas = synthetic.render_drawing(test_set.images[0], (200, 300), 0.5, (0, 0), 10, polarity)
    assert canvas.shape == (200, 300, 4) and canvas.dtype == np.uint8
    assert tuple(canvas[-1, -1]) == synthetic.POLARITIES[polarity][1]


@pytest.mark.parametrize("height_frac", [0.4, 0.6, 0.8])
@pytest.mark.parametrize("brush", [4, 20])
def test_drawn_digit_has_the_asked_height(test_set, height_frac, brush):
    canvas = synthetic.render_drawing(
        test_set.images[1], (280, 280), height_frac, (0.5, 0.5), brush
    )
    rows = np.flatnonzero(canvas[..., 0].max(axis=1) > 0)
    assert abs((rows[-1] - rows[0] + 1) - height_frac * 280) <= 3


def test_position_puts_the_digit_in_the_corner_asked(test_set):
    canvas = synthetic.render_drawing(test_set.images[1], (280, 280), 0.4, (1.0, 0.0), 8)
    ink = canvas[..., 0] > 0
    assert ink[:140, 140:].sum() == ink.sum()  # all in the top-right quarter


def test_same_seed_same_sets_other_seed_other_sets(test_set):
    a, _ = synthetic.drawn_digits(test_set.images[:5], test_set.labels[:5], seed=3)
    b, _ = synthetic.drawn_digits(test_set.images[:5], test_set.labels[:5], seed=3)
    c, _ = synthetic.drawn_digits(test_set.images[:5], test_set.labels[:5], seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    n1, t1 = synthetic.drawn_numbers(test_set.images, test_set.labels, 3, seed=1)
    n2, t2 = synthetic.drawn_numbers(test_set.images, test_set.labels, 3, seed=1)
    assert np.array_equal(n1, n2) and t1 == t2


def test_numbers_are_labelled_with_their_digits(test_set):
    canvases, texts = synthetic.drawn_numbers(test_set.images, test_set.labels, 4, digits=3, seed=0)
    assert canvases.shape == (4, 280, 700, 4)
    assert all(len(t) == 3 and t.isdigit() for t in texts)


def test_blank_kinds_have_little_or_no_ink():
    blanks = synthetic.blank_canvases(8, seed=0)
    assert blanks.shape == (8, 280, 280, 4)
    empty = synthetic.render_blank(kind="empty", polarity="black_on_white")
    assert (empty[..., :3] == 255).all()
    with pytest.raises(ValueError, match="unknown blank kind"):
        synthetic.render_blank(kind="scribble")
