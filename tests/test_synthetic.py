"""digitcore.synthetic: drawn test sets are canvases like the app's, and reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from digitcore import synthetic
from digitcore.errors import ParamError


@pytest.fixture(scope="module")
def test_set(mnist_test):
    return mnist_test.head(50)


def ink_of(canvas: np.ndarray, polarity: str) -> np.ndarray:
    """Where a canvas differs from its background colour."""
    return np.any(canvas != np.array(synthetic.POLARITIES[polarity][1], np.uint8), axis=-1)


@pytest.mark.parametrize("polarity", list(synthetic.POLARITIES))
def test_drawing_is_an_rgba_canvas_with_the_right_background(test_set, polarity):
    canvas = synthetic.render_drawing(
        test_set.images[0],
        (200, 300),
        height_frac=0.5,
        position=(0, 0),
        brush_px=10,
        polarity=polarity,
    )
    assert canvas.shape == (200, 300, 4) and canvas.dtype == np.uint8
    assert tuple(canvas[-1, -1]) == synthetic.POLARITIES[polarity][1]


@pytest.mark.parametrize("height_frac", [0.4, 0.6, 0.8])
@pytest.mark.parametrize("brush", [4, 20])
def test_drawn_digit_has_the_asked_height(test_set, height_frac, brush):
    canvas = synthetic.render_drawing(test_set.images[1], height_frac=height_frac, brush_px=brush)
    rows = np.flatnonzero(canvas[..., 0].max(axis=1) > 0)
    assert abs((rows[-1] - rows[0] + 1) - height_frac * 280) <= 3


def test_position_puts_the_digit_in_the_corner_asked(test_set):
    canvas = synthetic.render_drawing(
        test_set.images[1], height_frac=0.4, position=(1.0, 0.0), brush_px=8
    )
    ink = canvas[..., 0] > 0
    assert ink[:140, 140:].sum() == ink.sum()  # all in the top-right quarter


def test_same_seed_same_sets_other_seed_other_sets(test_set):
    a, _ = synthetic.drawn_digits(test_set.images[:5], test_set.labels[:5], seed=3)
    b, _ = synthetic.drawn_digits(test_set.images[:5], test_set.labels[:5], seed=3)
    c, _ = synthetic.drawn_digits(test_set.images[:5], test_set.labels[:5], seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    n1, t1 = synthetic.drawn_numbers(test_set.images, test_set.labels, n=3, seed=1)
    n2, t2 = synthetic.drawn_numbers(test_set.images, test_set.labels, n=3, seed=1)
    assert np.array_equal(n1, n2) and t1 == t2


def test_numbers_are_labelled_with_their_digits(test_set):
    canvases, texts = synthetic.drawn_numbers(
        test_set.images, test_set.labels, n=4, digits=3, seed=0
    )
    assert canvases.shape == (4, 280, 700, 4)
    assert all(len(t) == 3 and t.isdigit() for t in texts)


@pytest.mark.parametrize("polarity", list(synthetic.POLARITIES))
def test_empty_canvas_is_all_background(polarity):
    assert not ink_of(synthetic.render_blank(kind="empty", polarity=polarity), polarity).any()


# Largest piece of ink, as a fraction of the canvas height: dot clicks are at most 0.06 of the
# height in radius (two may touch), specks are 1-3 px, a tick is a short stroke.
@pytest.mark.parametrize("kind, largest", [("dots", 0.25), ("specks", 0.02), ("tick", 0.15)])
@pytest.mark.parametrize("polarity", list(synthetic.POLARITIES))
def test_dots_specks_and_ticks_have_some_ink_but_little(kind, largest, polarity):
    for seed in range(10):
        canvas = synthetic.render_blank(
            kind=kind, polarity=polarity, rng=np.random.default_rng(seed)
        )
        ink = ink_of(canvas, polarity)
        assert 0 < ink.mean() < 0.05, f"{kind}, seed {seed}: {ink.mean():.1%} of the canvas is ink"
        pieces = ndi.find_objects(ndi.label(ink, np.ones((3, 3)))[0])
        sides = [max(r.stop - r.start, c.stop - c.start) for r, c in pieces]
        assert max(sides) < largest * canvas.shape[0], f"{kind}, seed {seed}: a piece {sides}"


def test_blank_canvases_cycle_through_the_kinds():
    blanks = synthetic.blank_canvases(8, seed=0)
    assert blanks.shape == (8, 280, 280, 4)
    rgb_blank = blanks[..., 3] == 255  # opaque canvases: compare with their corner colour
    ink = [
        (b[..., :3] != b[0, 0, :3]).any(axis=-1) if opaque.all() else b[..., 3] > 0
        for b, opaque in zip(blanks, rgb_blank, strict=True)
    ]
    assert not ink[0].any() and not ink[4].any()  # "empty" comes first in every cycle of four
    assert all(i.any() for j, i in enumerate(ink) if j % 4)


def test_unknown_blank_kind_or_polarity_is_refused():
    with pytest.raises(ParamError, match="unknown blank kind 'scribble'"):
        synthetic.render_blank(kind="scribble")
    with pytest.raises(ParamError, match="unknown polarity 'pink'; expected one of white_on_black"):
        synthetic.render_blank(polarity="pink")
