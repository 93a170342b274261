"""Strokes traced from ink through its skeleton, and crossing digits parted along them."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from digitcore import cuts, tracing
from digitcore.preprocess import INK, to_mnist


def drawn(lines: list[list[tuple[int, int]]], size: tuple[int, int] = (120, 120)) -> np.ndarray:
    """Lines painted 10 px wide, white on black, ``size`` as (width, height)."""
    image = Image.new("L", size, 0)
    pen = ImageDraw.Draw(image)
    for line in lines:
        pen.line(line, fill=255, width=10)
    return np.asarray(image)


def runs_between(stroke: np.ndarray, start: tuple[int, int], end: tuple[int, int]) -> bool:
    """Whether a stroke's two ends lie within a stroke width (12 px) of ``start`` and ``end``."""
    near = [np.hypot(*(stroke[k] - point)) <= 12 for k in (0, -1) for point in (start, end)]
    return (near[0] and near[3]) or (near[1] and near[2])


def test_two_crossing_strokes_are_traced_straight_through_the_crossing():
    cross = drawn([[(10, 10), (110, 110)], [(10, 110), (110, 10)]])
    found, width = tracing.trace(cross)
    assert len(found) == 2
    assert any(runs_between(s, (10, 10), (110, 110)) for s in found)
    assert any(runs_between(s, (10, 110), (110, 10)) for s in found)
    assert 9 <= width <= 13


def test_a_stem_that_meets_a_bar_ends_there_and_the_bar_goes_on():
    tee = drawn([[(10, 20), (110, 20)], [(60, 20), (60, 110)]])
    found, _ = tracing.trace(tee)
    assert len(found) == 2
    bar = max(found, key=lambda s: np.ptp(s[:, 0]))
    assert np.ptp(bar[:, 0]) >= 80  # whole, from end to end
    stem = min(found, key=lambda s: np.ptp(s[:, 0]))
    assert np.ptp(stem[:, 1]) >= 70


def test_a_ring_is_one_stroke_on_its_ink():
    ring = np.zeros((120, 120), np.uint8)
    ImageDraw.Draw(im := Image.fromarray(ring)).ellipse((15, 15, 105, 105), outline=255, width=10)
    ring = np.asarray(im)
    found, _ = tracing.trace(ring)
    assert len(found) == 1
    x, y = np.round(found[0]).astype(int).T
    assert (ring[y, x] >= INK).mean() >= 0.95  # traced along the ink


def test_a_foot_below_a_join_is_a_stroke_and_a_spur_of_thinning_is_not():
    # An upright whose foot goes on below where a stroke leaves it sideways (a 1 written
    # through a 5's bowl). A foot two stroke widths long is ink the digit needs; one a stroke
    # width long is what thinning leaves at any corner.
    def lowest(foot: int) -> float:
        im = Image.new("L", (120, 110))
        draw = ImageDraw.Draw(im)
        draw.line([(30, 5), (30, 75 + foot)], fill=255, width=9)
        draw.line([(30, 75), (100, 75), (100, 30)], fill=255, width=9)
        lines, width = tracing.trace(np.asarray(im), 100)
        assert 8 <= width <= 11
        return max(float(line[:, 1].max()) for line in lines)

    assert lowest(18) >= 75 + 18 - 9  # the foot, to within a stroke width of its end
    assert lowest(10) < 75 + 5  # the spur, dropped


def test_no_ink_traces_no_stroke():
    assert tracing.trace(np.zeros((50, 80), np.uint8)) == ([], 0.0)


def runs(line: np.ndarray) -> int:
    """How many runs of ink a row or column of a form holds."""
    return int((np.diff((line >= 96).astype(np.int8), prepend=0) == 1).sum())


def one_box(pieces: np.ndarray) -> np.ndarray:
    """A scorer that reads only clean boxes: walls of full height at both sides, and two
    strokes across the middle row and the middle column, no more."""
    out = []
    for piece in pieces:
        ink = piece >= 96
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        box = piece[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        walls = min((box[:, :3] >= 96).any(axis=1).mean(), (box[:, -3:] >= 96).any(axis=1).mean())
        middle = runs(box[len(box) // 2]) == runs(box[:, box.shape[1] // 2]) == 2
        out.append(0.0 if walls >= 0.9 and middle else -10.0)
    return np.array(out)


def test_two_boxes_drawn_over_each_other_come_apart_along_their_strokes():
    # Each box's corner lies inside the other: any cut through columns gives one of them a
    # wall of the other. Their strokes cross, and go on straight through the crossings.
    first = [(20, 10), (140, 10), (140, 170), (20, 170), (20, 10)]
    second = [(100, 50), (220, 50), (220, 210), (100, 210), (100, 50)]
    both = drawn([first, second], size=(240, 230))
    assert len(tracing.trace(both)[0]) == 2
    parts = cuts.split(both, one_box)
    assert [one_box(np.stack([to_mnist(p)]))[0] for p in parts] == [0.0, 0.0]
    spans = [np.flatnonzero((p >= INK).any(axis=0))[[0, -1]] for p in parts]
    assert np.abs(np.array(spans) - [[15, 145], [95, 225]]).max() <= 8  # each box whole


def test_how_straight_a_stroke_must_go_on_through_a_fork_is_the_callers_rule():
    # A line bending by 25 degrees where a branch leaves it: one stroke when a turn of up to
    # 32 degrees goes on (cosine 0.85), two when only 18 degrees does (0.95).
    bend = (60 + 100 * np.cos(np.radians(25)), 60 + 100 * np.sin(np.radians(25)))
    fork = drawn([[(0, 60), (60, 60), bend], [(60, 60), (60, 0)]], size=(170, 110))
    assert len(tracing.trace(fork, align=0.85)[0]) == 2
    assert len(tracing.trace(fork, align=0.95)[0]) == 3
