"""Cutting touching digits: by recognition with a model's score, at ink valleys without one."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from digitcore import cuts, segmentation, valleys
from digitcore.errors import ImageError
from digitcore.preprocess import to_mnist
from digitcore.synthetic import stroke_alpha


def _ink(alpha: np.ndarray) -> np.ndarray:
    return (alpha * 255).astype(np.uint8)


def first_of(dataset, digit: int) -> np.ndarray:
    return dataset.images[np.flatnonzero(dataset.labels == digit)[0]]


def ones(pieces: np.ndarray) -> np.ndarray:
    """A scorer that likes every piece: cutting never beats reading the whole."""
    return np.ones(len(pieces))


def narrow_only(pieces: np.ndarray) -> np.ndarray:
    """A scorer that reads only narrow pieces (under 14 px wide in MNIST form) as digits."""
    widths = (pieces >= 96).any(axis=1).sum(axis=1)
    return np.where(widths < 14, 1.0, -10.0)


@pytest.mark.parametrize("score", [ones, narrow_only])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ink=hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=90),
        elements=st.sampled_from([0, 0, 0, 120, 255]),
    )
)
def test_any_ink_map_gives_mnist_form_digits_or_none_in_bounded_time(ink, score):
    start = time.perf_counter()
    found = segmentation.segment(ink, score=score)
    assert time.perf_counter() - start < 5.0
    for d in found:
        assert d.image.shape == (28, 28) and d.image.dtype == np.uint8 and d.image.max() > 0
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= ink.shape[1] and 0 <= y0 < y1 <= ink.shape[0]


@pytest.mark.parametrize(
    "ink",
    [
        np.zeros((280, 840), np.uint8),  # empty
        np.pad(np.full((3, 3), 255, np.uint8), ((140, 137), (400, 437))),  # one dot
        np.full((280, 840), 255, np.uint8),  # ink everywhere
        np.full((1, 5000), 255, np.uint8),  # a hairline
    ],
    ids=["empty", "one dot", "ink everywhere", "hairline"],
)
@pytest.mark.parametrize("score", [narrow_only, None], ids=["by recognition", "at valleys"])
def test_extreme_ink_maps_give_mnist_form_digits_or_none_quickly(ink, score):
    start = time.perf_counter()
    found = segmentation.segment(ink, score=score)
    assert time.perf_counter() - start < 5.0
    assert all(d.image.shape == (28, 28) and d.image.max() > 0 for d in found)


def test_an_ink_map_that_is_not_2d_is_the_projects_error():
    with pytest.raises(ImageError, match="2-D ink map"):
        segmentation.segment(np.zeros((4, 4, 4), np.uint8), score=ones)


def test_a_group_the_models_read_whole_is_not_cut(mnist_test):
    zero = _ink(stroke_alpha(first_of(mnist_test, 0), height_px=120, brush_px=14))
    # As wide as the widest digits (1.35 times its height): the models' reading decides.
    wide_zero = np.asarray(Image.fromarray(zero).resize((180, 134)))
    assert len(segmentation.cut([(wide_zero, (0, 0))], score=ones)) == 1
    assert len(segmentation.cut([(wide_zero, (0, 0))], score=narrow_only)) > 1  # read badly whole


def test_a_drawings_groups_are_read_whole_in_one_batch_narrow_ones_too(mnist_test):
    zero = _ink(stroke_alpha(first_of(mnist_test, 0), height_px=120, brush_px=14))
    one = np.zeros((120, 20), np.uint8)
    one[:, 4:16] = 255  # too narrow to be cut, read in the same batch all the same
    batches = []

    def counting(forms):
        batches.append(len(forms))
        return np.zeros(len(forms))  # every group reads well whole

    groups = [(zero, (0, 0)), (one, (200, 0)), (zero, (300, 0))]
    found = segmentation.cut(groups, score=counting)
    assert batches == [3]  # one call of the models for the whole drawing
    left = int(np.flatnonzero((zero >= segmentation.INK).any(axis=0))[0])
    assert [d.box[0] for d in found] == [left, 204, 300 + left]  # each in its own place


def test_a_group_read_badly_whole_is_cut_where_both_pieces_read_well():
    joined = np.zeros((100, 90), np.uint8)
    joined[5:95, 10:22] = joined[5:95, 68:80] = 255
    joined[40:60, 22:68] = 255  # joined by a thick block: no ink valley to cut at
    assert len(segmentation.segment(joined)) == 1
    assert len(segmentation.segment(joined, score=ones)) == 1
    assert len(segmentation.segment(joined, score=narrow_only)) == 2


def test_seams_are_bounded_and_lie_inside_the_crop():
    ink = np.random.default_rng(0).random((300, 900)).astype(np.float32)
    found = cuts.seams(ink, stroke=40.0)
    assert len(found) <= cuts.MAX_SEAMS
    for c in found:
        assert c.shape == (300,) and c.min() >= 0 and c.max() < 900


def test_without_a_score_a_wide_group_is_cut_at_its_ink_valley():
    two = np.zeros((100, 200), np.uint8)
    two[10:90, 20:30] = two[10:90, 150:160] = 255
    two[50:55, 30:150] = 255  # a thin join
    parts = valleys.valley_split(two, split_aspect=1.25)
    assert len(parts) == 2


def test_three_touching_digits_come_apart_in_one_cut_of_the_group():
    # Three bars joined by thick blocks: no ink valley, and read whole it is no digit.
    joined = np.zeros((100, 150), np.uint8)
    for x in (10, 68, 126):
        joined[5:95, x : x + 12] = 255
    joined[40:60, 22:68] = joined[40:60, 80:126] = 255
    parts = cuts.split(joined, narrow_only)
    assert len(parts) == 3
    # Every column of ink goes to exactly one digit (sharing the ink at a cut reads no better).
    assert np.array_equal(np.maximum.reduce(parts), joined)
    assert (sum((p >= cuts.INK).astype(int) for p in parts) <= 1).all()


def hollow_boxes(pieces: np.ndarray) -> np.ndarray:
    """A scorer that reads only hollow boxes whose side walls are whole: ink over the full
    height two columns thick on both sides, and little ink down the middle."""
    out = []
    for piece in pieces:
        ink = piece >= 96
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        if cols.size < 8:
            out.append(-10.0)
            continue
        full = ink[rows[0] : rows[-1] + 1].mean(axis=0) >= 0.9
        middle = ink[rows[0] : rows[-1] + 1, (cols[0] + cols[-1]) // 2].mean()
        walls = full[cols[0] : cols[0] + 2].all() and full[cols[-1] - 1 : cols[-1] + 1].all()
        out.append(0.0 if walls and middle < 0.5 else -10.0)
    return np.array(out)


def test_two_digits_sharing_a_stroke_both_get_it(monkeypatch):
    # Two boxes, the second's left wall drawn on the first's right wall (columns 50-60): a
    # cut through that wall leaves one of them, or both, with half a wall.
    joined = np.zeros((100, 110), np.uint8)
    for left in (10, 50):
        joined[5:95, left : left + 10] = joined[5:95, left + 40 : left + 50] = 255
        joined[5:15, left : left + 50] = joined[85:95, left : left + 50] = 255
    parts = cuts.split(joined, hollow_boxes)
    assert len(parts) == 2
    assert [hollow_boxes(np.stack([to_mnist(p)]))[0] for p in parts] == [0.0, 0.0]
    wall = joined[5:95, 50:60]
    assert (parts[0][5:95, 50:60] == wall).all() and (parts[1][5:95, 50:60] == wall).all()
    monkeypatch.setattr(cuts, "SHARE", 0.0)  # without sharing, no splitting reads well
    assert len(cuts.split(joined, hollow_boxes)) == 1


def test_cutting_a_group_scores_its_pieces_in_one_batch_and_each_refinement_in_one_more():
    calls = []

    def counting(pieces):
        calls.append(len(pieces))
        return narrow_only(pieces)

    joined = np.zeros((100, 90), np.uint8)
    joined[5:95, 10:22] = joined[5:95, 68:80] = 255
    joined[40:60, 22:68] = 255
    assert len(cuts.split(joined, counting)) == 2
    # The pieces and traced digits, then the digits found redrawn from the skeleton's lines and
    # one batch for each round of moving a line (step 6), which stops at the first round
    # without a gain.
    assert calls[0] > 2 and 2 <= len(calls) <= 2 + cuts.ROUNDS, calls
