import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitcore import styles
from digitcore.data import Dataset
from digitcore.errors import DataError
from digitcore.evaluation import check_unseen
from digitcore.preprocess import to_mnist


def stroke_one(lean: float = 0.0) -> np.ndarray:
    """A 1 as one stroke, its top ``lean`` of its height right of its foot, in MNIST form."""
    image = Image.new("L", (100, 120), 0)
    ImageDraw.Draw(image).line([(50 + 50 * lean, 10), (50 - 50 * lean, 110)], fill=255, width=10)
    return to_mnist(np.asarray(image), normalize_stroke=False)


def ring_zero(width: int = 60) -> np.ndarray:
    """A 0 as a ring ``width`` px wide and 100 px tall, in MNIST form."""
    image = Image.new("L", (120, 120), 0)
    ImageDraw.Draw(image).ellipse((60 - width / 2, 10, 60 + width / 2, 110), outline=255, width=9)
    return to_mnist(np.asarray(image), normalize_stroke=False)


def test_a_flagged_one_has_new_ink_left_of_its_top_and_stays_in_mnist_form():
    plain = stroke_one()
    (flagged,) = styles.flag_ones(plain[None], random_state=0)
    rows = np.flatnonzero((flagged >= 128).any(axis=1))
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)  # fitted to MNIST's 20 px box again
    new = (flagged >= 128) & (plain < 128)
    ys, xs = np.nonzero(new)
    stem = np.flatnonzero(plain[14] >= 128).mean()
    assert len(xs) >= 6  # a flag, not a pixel of noise
    assert xs.mean() < stem and ys.mean() < 14  # left of the stem, in its upper half
    assert flagged.sum() > plain.sum()


def test_flags_are_drawn_reproducibly_from_the_seed():
    ones = np.stack([stroke_one(), stroke_one(0.05)])
    assert np.array_equal(
        styles.flag_ones(ones, random_state=3), styles.flag_ones(ones, random_state=3)
    )
    assert not np.array_equal(
        styles.flag_ones(ones, random_state=3), styles.flag_ones(ones, random_state=4)
    )


def test_a_leaning_one_is_measured_as_leaning_and_an_upright_one_is_not():
    assert abs(styles.leans(stroke_one()[None])[0]) < 0.05
    assert styles.leans(stroke_one(0.3)[None])[0] > styles.UPRIGHT
    assert styles.leans(stroke_one(-0.3)[None])[0] < -styles.UPRIGHT


def test_only_upright_ones_are_flagged_and_the_set_says_how_many():
    upright, leaning = stroke_one(), stroke_one(0.3)
    seven = stroke_one()[::-1].copy()
    images = np.stack([upright] * 40 + [leaning] * 40 + [seven] * 40)
    labels = np.array([1] * 80 + [7] * 40, np.uint8)
    styled = styles.with_styles(Dataset(images, labels, "mine", "my digits"), share=0.5)
    # At most every upright 1 once: 40 added though half of 120 digits is 60.
    assert len(styled) == 160 and styled.labels[120:].tolist() == [1] * 40
    assert styled.describe()["styles"] == {
        "flagged_ones": 40,
        "of_upright_ones": 40,
        "slashed_zeros": 0,  # no 0 among them
        "of_slim_zeros": 0,
        "seed": 0,
    }
    assert (
        styled.name == "mine"
        and styled.source == "my digits, 40 of them flagged copies of its upright 1s"
    )
    assert np.array_equal(styled.images[:120], images)


def test_a_model_trained_on_styled_mnist_is_still_refused_its_training_set(mnist_train):
    digits = mnist_train.subset(600, seed=1)
    styled = styles.with_styles(digits)
    ones = digits.images[digits.labels == 1]
    upright = int((np.abs(styles.leans(ones)) < styles.UPRIGHT).sum())
    said = styled.describe()["styles"]  # 1 in 30 flagged (20), at most each upright 1 once
    assert said["of_upright_ones"] == upright and said["flagged_ones"] == min(20, upright) > 0
    with pytest.raises(DataError, match="refusing to score a model on digits it trained on"):
        check_unseen(styled.describe(), mnist_train.subset(100, seed=2))


def test_a_share_outside_zero_to_one_is_refused_with_what_arrived():
    ones = Dataset(np.stack([stroke_one()]), np.array([1], np.uint8), "mine")
    with pytest.raises(ValueError, match="got 1.5"):
        styles.with_styles(ones, share=1.5)


def runs(row: np.ndarray) -> list[float]:
    """The middles of the runs of ink (>= 128) in one row of pixels."""
    ink = (row >= 128).astype(int)
    starts = np.flatnonzero(np.diff(np.r_[0, ink]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[ink, 0]) == -1)
    return [(a + b) / 2 for a, b in zip(starts, ends, strict=True)]


def test_a_slashed_zero_has_a_diagonal_line_across_its_hole_and_stays_in_mnist_form():
    plain = ring_zero()
    (slashed,) = styles.slash_zeros(plain[None], random_state=0)
    rows = np.flatnonzero((slashed >= 128).any(axis=1))
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)  # fitted to MNIST's 20 px box again
    assert all(len(runs(plain[r])) == 2 for r in range(8, 20))  # the ring's two sides
    # Across the hole's rows, a third run of ink between the sides, stepping sideways row by
    # row: a slash, not a blot.
    middles = {r: runs(slashed[r])[1] for r in range(8, 20) if len(runs(slashed[r])) == 3}
    assert len(middles) >= 6
    assert abs(np.corrcoef(list(middles), list(middles.values()))[0, 1]) > 0.9


def test_slashes_are_drawn_reproducibly_from_the_seed():
    zeros = np.stack([ring_zero(), ring_zero(50)])
    again = styles.slash_zeros(zeros, random_state=3)
    assert np.array_equal(styles.slash_zeros(zeros, random_state=3), again)
    assert not np.array_equal(styles.slash_zeros(zeros, random_state=4), again)


def test_only_slim_zeros_are_slashed_and_the_set_says_how_many():
    slim, wide = ring_zero(60), ring_zero(100)
    assert styles.aspects(slim[None])[0] <= styles.SLIM < styles.aspects(wide[None])[0]
    images = np.stack([slim] * 30 + [wide] * 30 + [stroke_one(0.3)] * 60)
    labels = np.array([0] * 60 + [1] * 60, np.uint8)
    styled = styles.with_styles(
        Dataset(images, labels, "mine", "my digits"), share=0.0, slashed=0.5
    )
    # At most every slim 0 once: 30 added though half of 120 digits is 60.
    assert len(styled) == 150 and styled.labels[120:].tolist() == [0] * 30
    said = styled.describe()["styles"]
    assert said["slashed_zeros"] == 30 and said["of_slim_zeros"] == 30
    assert styled.source == (
        "my digits, 0 of them flagged copies of its upright 1s and 30 slashed copies of its slim 0s"
    )
    # The added 0s are the slim ones slashed, drawn from the same seed: no wide 0 was used.
    assert np.array_equal(styled.images[120:], styles.slash_zeros(np.stack([slim] * 30)))


def test_a_slashed_share_outside_zero_to_one_is_refused_with_what_arrived():
    zeros = Dataset(np.stack([ring_zero()]), np.array([0], np.uint8), "mine")
    with pytest.raises(ValueError, match="slashed must be between 0 and 1.*got -0.1"):
        styles.with_styles(zeros, slashed=-0.1)
