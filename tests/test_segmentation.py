"""Cutting touching digits: by recognition with a model's score, at ink valleys without one."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from digitcore import cuts, segmentation, slant, valleys
from digitcore.errors import ImageError
from digitcore.preprocess import to_mnist
from digitcore.synthetic import stroke_alpha

SHIPPED = Path(__file__).resolve().parent.parent / "models"


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


def test_a_narrow_group_is_cut_only_when_it_reads_as_no_digit_whole():
    arch = np.zeros((100, 50), np.uint8)
    arch[5:95, 4:12] = arch[5:95, 38:46] = 255
    arch[5:15, 4:46] = 255  # two strokes joined at the top, as a flag joins the 1s of 11
    rows, cols = cuts.ink_span(arch >= segmentation.INK)
    assert cols < cuts.MIN_SPLIT * rows  # too narrow for two digits by its width alone

    def strokes_only(pieces: np.ndarray) -> np.ndarray:
        """Reads as digits only pieces under 8 px wide in MNIST form: the arch is none."""
        widths = (pieces >= 96).any(axis=1).sum(axis=1)
        return np.where(widths < 8, 1.0, -10.0)

    assert len(segmentation.segment(arch, score=ones)) == 1  # read well whole: one digit
    assert len(segmentation.segment(arch, score=strokes_only)) == 2


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
    # Without sharing, no cut reads well (and step 6, which would part the lines with the wall
    # in both, is off: the next test).
    monkeypatch.setattr(cuts, "SHARE", 0.0)
    monkeypatch.setattr(cuts, "LINES", 0)
    assert len(cuts.split(joined, hollow_boxes)) == 1


def test_a_digit_found_holding_most_of_no_line_still_takes_part_in_the_lines_refinement():
    # The boxes above, found as one piece with all the ink and a sliver of the last wall (as
    # a 7's stem and its bar in the 6 before it): the sliver holds most of no line, so it
    # starts with the line it holds most of, and the lines are then parted into the boxes.
    joined = np.zeros((100, 110), np.uint8)
    for left in (10, 50):
        joined[5:95, left : left + 10] = joined[5:95, left + 40 : left + 50] = 255
        joined[5:15, left : left + 50] = joined[85:95, left : left + 50] = 255
    sliver = np.zeros_like(joined)
    sliver[40:60, 90:100] = joined[40:60, 90:100]
    parts = cuts._refined(joined, [joined, sliver], -30.0, hollow_boxes, 90)
    assert len(parts) == 2
    assert [hollow_boxes(np.stack([to_mnist(p)]))[0] for p in parts] == [0.0, 0.0]


def test_lines_parted_where_two_digits_share_a_stroke_give_it_to_both(monkeypatch):
    # The boxes above, with no cut sharing its ink: only the skeleton's lines, parted with the
    # wall's line in both digits (a 1 whose stem is the side of the 0 after it), read well.
    joined = np.zeros((100, 110), np.uint8)
    for left in (10, 50):
        joined[5:95, left : left + 10] = joined[5:95, left + 40 : left + 50] = 255
        joined[5:15, left : left + 50] = joined[85:95, left : left + 50] = 255
    monkeypatch.setattr(cuts, "SHARE", 0.0)
    parts = cuts.split(joined, hollow_boxes)
    assert len(parts) == 2
    assert [hollow_boxes(np.stack([to_mnist(p)]))[0] for p in parts] == [0.0, 0.0]
    for part in parts:  # the wall, redrawn, in both
        assert (part[15:85, 50:60] >= 96).any(axis=1).all()


def test_lines_are_parted_with_a_line_in_both_digits_only_where_it_is_a_small_part_of_them():
    # Three lines left to right; parted at the middle one, it is in both digits. A short
    # shared line is a 1's stem on a 0's side; a long one is most of both (a 2's top with its
    # two feet read as 22), and that parting is not tried.
    digits, middles = [frozenset({0, 1, 2})], [0.0, 1.0, 2.0]
    short = cuts._parted(digits, 0, 1, middles, [5.0, 1.0, 5.0])
    assert short == [[frozenset({0, 1}), frozenset({1, 2})]]
    assert cuts._parted(digits, 0, 1, middles, [1.0, 10.0, 1.0]) == []
    assert len(cuts._parted(digits, 0, 1, middles)) == 2  # without sharing: 0 | 1 2, 0 1 | 2


def test_a_long_line_is_cut_into_equal_parts_no_longer_than_the_longest_and_short_ones_stay():
    bar = np.stack([np.linspace(0, 100, 101), np.full(101, 5.0)], axis=1)  # 100 px long
    stem = np.array([[0.0, 0.0], [0.0, 30.0]])
    parts = cuts._shortened([bar, stem], 40.0)
    assert len(parts) == 4  # the bar in three parts of 33 px, the stem as it was
    assert np.array_equal(parts[3], stem)
    lengths = [float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in parts[:3]]
    assert all(32 <= n <= 34 for n in lengths), lengths
    # In order and touching: each part starts where the one before it ends.
    assert np.array_equal(parts[0][0], bar[0]) and np.array_equal(parts[2][-1], bar[-1])
    assert all(np.array_equal(parts[k][-1], parts[k + 1][0]) for k in range(2))
    assert len(cuts._shortened([bar], 100.0)) == 1


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
    # one batch for each round of changes (step 6): at most ROUNDS, fewer when every change
    # reads more than cuts.LOSS worse or none is left untried.
    assert calls[0] > 2 and 2 <= len(calls) <= 2 + cuts.ROUNDS, calls


def leaning_bars(lean: float, count: int = 3) -> np.ndarray:
    """Upright bars 4 px wide and 40 tall, each row moved ``lean`` columns right per row up."""
    work = np.zeros((40, 30 * count + 30), np.float32)
    for r in range(40):
        x = 15 + round(lean * (39 - r))
        for k in range(count):
            work[r, x + 30 * k : x + 30 * k + 4] = 1.0
    return work


@pytest.mark.parametrize("lean", [-0.3, -0.15, 0.0, 0.2, 0.35])
def test_the_slant_of_leaning_strokes_is_how_far_they_lean(lean):
    assert slant.measure(leaning_bars(lean)) == pytest.approx(lean, abs=0.04)


def test_leaning_strokes_stand_upright_after_their_rows_move():
    work = leaning_bars(0.3)
    upright = slant.shear_rows(work, slant.upright_shifts(work))
    assert upright.sum() == work.sum()  # every row moved whole, none cut off
    assert (upright > 0).any(axis=0).sum() <= 3 * 6  # three bars, each within 6 columns
    assert (work > 0).any(axis=0).sum() >= 3 * 12
    assert not slant.upright_shifts(leaning_bars(0.05)).any()  # under slant.MIN: as written


def test_two_leaning_digits_are_cut_along_their_lean(monkeypatch):
    # Two boxes leaning right by 0.3 of a column per row, joined by their top and bottom bars,
    # their walls 4 px apart: every upright cut between them runs through both walls.
    boxes = np.zeros((2, 90, 135), bool)
    for r in range(90):
        x = round(0.3 * (89 - r))
        for box, left in enumerate((0, 54)):
            for wall in (left, left + 40):
                boxes[box, r, x + wall : x + wall + 10] = True
            if r < 5 or r >= 85:
                boxes[box, r, x + left : x + left + 50] = True
    joined = np.where(boxes.any(axis=0), 255, 0).astype(np.uint8)
    for r in (*range(5), *range(85, 90)):  # the bars run on from box to box
        x = round(0.3 * (89 - r))
        joined[r, x + 50 : x + 54] = 255
    parts = cuts.split(joined, upright_boxes)
    assert len(parts) == 2
    for part, box, other in zip(parts, boxes, boxes[::-1], strict=True):  # each part one box
        ink = part >= 96
        assert (ink & box).sum() >= 0.97 * box.sum() and (ink & other).sum() <= 0.03 * box.sum()
    monkeypatch.setattr(slant, "MIN", np.inf)  # cut only as written: no splitting reads
    assert len(cuts.split(joined, upright_boxes)) == 1


def upright_boxes(pieces: np.ndarray) -> np.ndarray:
    """Reads only hollow boxes whose walls stand upright: in every row the ink starts and ends
    within 2 px of where it does in the others, and the box is empty in the middle."""
    out = []
    for p in pieces:
        ink = p >= 96
        rows = np.flatnonzero(ink.any(axis=1))
        if rows.size < 10:
            out.append(-10.0)
            continue
        first = np.array([np.flatnonzero(ink[r])[0] for r in rows])
        last = np.array([np.flatnonzero(ink[r])[-1] for r in rows])
        middle = ink[rows[2:-2], (first.min() + last.max()) // 2].mean()
        upright = np.ptp(first) <= 2 and np.ptp(last) <= 2 and last.min() - first.max() > 8
        out.append(0.0 if upright and middle < 0.5 else -10.0)
    return np.array(out)


def test_a_piece_between_digits_separates_them_and_a_bar_over_a_digit_does_not():
    digits = [(0, 0, 60, 100), (120, 0, 180, 100)]
    assert segmentation.separates((75, 50, 105, 58), digits)  # a dash in the gap
    assert segmentation.separates((57, 50, 110, 58), digits)  # ...touching the first digit's box
    assert segmentation.separates((190, 90, 198, 98), digits)  # a dot after the last digit
    assert not segmentation.separates((30, 0, 95, 10), digits)  # a 5's bar drawn past its body
    assert not segmentation.separates((50, 0, 110, 8), digits)  # ...far past it, at the top
    assert not segmentation.separates((40, 95, 70, 100), digits)  # a tail broken off under it
    # A canvas's click just after a digit: the boxes reach a brush radius (9) beyond the points.
    dot, drawn = (91, 50, 109, 68), [(0, 0, 99, 100)]
    assert segmentation.separates(dot, drawn, inset=9)
    assert not segmentation.separates(dot, drawn)


def read_exactly(model, numbers: list[tuple[str, np.ndarray]]) -> int:
    """How many of the ``(text, image)`` pairs read exactly."""
    from digitcore.recognize import recognize

    return sum(recognize(model, image).text == text for text, image in numbers)


def test_a_dash_written_apart_between_digits_in_an_image_is_no_digit(monkeypatch):
    """555-1234 as an image, the dash apart from the digits (a thin pen): a component too
    short to be a digit and outside every digit's x-extent is dropped, not joined to the
    nearest digit. Read by the shipped model, and with every short piece joining its digit as
    before (measured 8 of 8 against 2). A dash that touches a digit is still read with it."""
    from browser_strokes import phone_number, render

    from digitcore import registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    rng = np.random.default_rng(0)
    numbers = []
    for i in range(8):
        digits = [int(d) for d in rng.integers(0, 10, 7)]
        lines = phone_number(digits, "-", height=80, overlap=-0.15, seed=i)
        numbers.append(("".join(map(str, digits)), render(lines, size=(680, 280), width=12)))

    assert read_exactly(model, numbers) >= 7
    monkeypatch.setattr(segmentation, "separates", lambda piece, digits, inset=0.0: False)
    assert read_exactly(model, numbers) <= 4


@pytest.mark.parametrize("way", [0, 1])
def test_a_small_0_written_with_a_thick_pen_is_a_digit_and_a_dot_is_not(monkeypatch, way):
    """A 0 50 px tall with a 12 px pen on a 280 px canvas fills as much of its box as a dot
    (``segmentation.DOT_FILL``), but round a hole: it is kept (``segmentation.HOLE``); without
    that test it was dropped as a dot, as a solid blob of the same size still is."""
    from browser_strokes import DIGITS, place, render

    from digitcore import images

    zero = render(place(DIGITS[0][way], left=100, top=100, height=50), size=(680, 280), width=12)
    yy, xx = np.mgrid[:280, :680]
    blob = ((yy - 125) ** 2 + (xx - 115) ** 2 <= 22**2).astype(np.uint8) * 255
    assert len(segmentation.segment(images.canvas_to_gray(zero))) == 1
    assert segmentation.segment(blob) == []
    monkeypatch.setattr(segmentation, "HOLE", np.inf)
    assert segmentation.segment(images.canvas_to_gray(zero)) == []


def test_parentheses_round_digits_in_an_image_are_no_digits(monkeypatch):
    """(555) 1234 as an image: each parenthesis is a group of ink of its own, as tall as a
    digit, and read as 1. Their strokes traced, a pair bowed "(" and ")" round digits is
    dropped, as on the canvas (``polylines.signs``). Read by the shipped model, and with
    no sign found (measured 8 of 8 against 0)."""
    from browser_strokes import phone_number, render

    from digitcore import registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    rng = np.random.default_rng(0)
    numbers = []
    for i in range(8):
        digits = [int(d) for d in rng.integers(0, 10, 7)]
        lines = phone_number(digits, "-", height=80, overlap=-0.1, seed=i, parentheses=True)
        numbers.append(("".join(map(str, digits)), render(lines, size=(680, 280), width=12)))

    assert read_exactly(model, numbers) == len(numbers)
    monkeypatch.setattr(segmentation, "_signs", lambda found, labels, gray: set())
    assert read_exactly(model, numbers) <= 2


def test_a_plus_sign_before_digits_in_an_image_is_no_digit(monkeypatch):
    """+ 5551234 as an image, the plus 70% of the digits' height: a group of its own, read as
    4. Its strokes traced cross as a plus's (``polylines.is_plus``), and it is dropped. Read by
    the shipped model, and with no sign found (measured 8 of 8 against 0)."""
    from browser_strokes import plus_phone_number, render

    from digitcore import registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    rng = np.random.default_rng(0)
    numbers = []
    for i in range(8):
        digits = [int(d) for d in rng.integers(0, 10, 7)]
        lines = plus_phone_number(digits, size=0.7, seed=i, overlap=-0.1)
        numbers.append(("".join(map(str, digits)), render(lines, size=(680, 280), width=12)))

    assert read_exactly(model, numbers) == len(numbers)
    monkeypatch.setattr(segmentation, "_signs", lambda found, labels, gray: set())
    assert read_exactly(model, numbers) <= 2
