"""Ways of writing a digit that MNIST's writers rarely used, added to its training digits.

MNIST's 1s are nearly all one bare stroke, but many people (most of continental Europe) write a
1 with a flag at its top. Models that never saw one read a flagged 1 as a weak 1, or as a 7:
the model shipped before this module read the flagged pen-written 1 of
``tests/browser_strokes.py`` alone as 7 in 2 of 12 drawings, and in a number its low score let
the cutting (:mod:`digitcore.cuts`) hand it a line of its neighbour and read a 7 (701 as 707).

:func:`with_styles` adds flagged copies of some of the training set's upright 1s
(:func:`flag_ones`). Only upright 1s get a flag: a 1 that leans forward with a flag at its top
is a 7's shape, and flagging those cost MNIST's 7s (read as 1). Measured with the whole
training set (README, "A 1 with a flag"): MNIST test 99.50% -> 99.47%; pen-written 3-digit
numbers as 840x280 images (``benchmarks/drawn.py``, seed 100) 494 -> 505 of 540.

Many people also cross their 0 with a slash, to tell it from the letter O: MNIST has almost
none. Alone a slashed 0 was still read as 0, but as a piece it scored about -2 (a pen 0 about
0.9): in a number the cutting took it for two digits or a stranger, and 005 read as 025, 109 as
189. :func:`slash_zeros` draws a slash through copies of some of the training set's 0s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from digitcore.data import Dataset
from digitcore.features import SIDE, check_digits
from digitcore.preprocess import to_mnist

#: Flagged 1s added, as a share of the training digits (2,000 for MNIST's 60,000).
FLAGGED = 1 / 30
#: A 1 gets a flag only if the middle of its top third lies within this share of its height of
#: the middle of its bottom third (about 47% of MNIST's 1s).
UPRIGHT = 0.15
#: A flag reaches down and left from the top of the stem, this share of the 1's height long...
REACH = (0.15, 0.35)
#: ...at this many degrees below the horizontal.
ANGLE = (30.0, 60.0)
#: Slashed 0s added, as a share of the training digits (500 for MNIST's 60,000; 2,000 read
#: about as many numbers with slashed 0s and a few fewer without: README, "A slashed 0").
SLASHED = 1 / 120
#: A slash runs from the 0's top right to its bottom left, each end this share of the 0's size
#: inside its box (negative: beyond it)...
SLASH_INSET = (-0.1, 0.2)
#: ...and, in this share of the 0s, the other way (top left to bottom right).
BACKSLASH = 0.2
#: Only a 0 at most this wide for its height gets a slash (2,623 of MNIST's 5,923): slashed
#: wide 0s taught the models that a squeezed number is a 0 (883 read as one 0).
SLIM = 0.85
_UP, _PAD = 4, 8  # lines are drawn 4x larger, on a margin where they may reach out of the box


@dataclass
class StyledSet(Dataset):
    """Training digits with the copies :func:`with_styles` added; :meth:`describe` says which.

    Its name is its source set's: the copies are made from that set's digits, so a model
    trained on it is never scored on that set (:func:`digitcore.evaluation.check_unseen`).
    """

    styles: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "styles": self.styles}


def leans(images: NDArray) -> NDArray[np.float64]:
    """How far each digit's top third lies right of its bottom third, as a share of its height.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28), uint8, ink high

    Returns
    -------
    ndarray of shape (n,)
        Positive for writing that leans forward, 0 for a digit without ink.
    """
    out = np.zeros(len(images))
    for k, img in enumerate(check_digits(images)):
        rows = np.flatnonzero((img >= 128).any(axis=1))
        if len(rows) < 3:
            continue
        third = len(rows) // 3
        middles = [np.average(np.arange(SIDE), weights=img[r]) for r in rows]
        out[k] = (np.mean(middles[:third]) - np.mean(middles[-third:])) / len(rows)
    return out


def aspects(images: NDArray) -> NDArray[np.float64]:
    """Each digit's ink width over its ink height (0 for a digit without ink)."""
    mask = check_digits(images) >= 128
    widths, heights = mask.any(axis=1).sum(axis=1), mask.any(axis=2).sum(axis=1)
    return widths / np.maximum(heights, 1)


def flag_ones(images: NDArray, *, random_state: int | None = 0) -> NDArray[np.uint8]:
    """Each 1 of ``images`` ((n, 28, 28) uint8, MNIST form) with a flag drawn at its top, in
    MNIST form again (:func:`digitcore.preprocess.to_mnist`, strokes as drawn).

    The flag starts at the top of the stem and runs down and to the left, :data:`REACH` of the
    1's height long and :data:`ANGLE` degrees below the horizontal (both drawn at random from
    ``random_state``), as wide as the stem's stroke.
    """

    def flag(mask: NDArray[np.bool_], rows: NDArray, cols: NDArray, rng: np.random.Generator):
        height = rows[-1] - rows[0] + 1
        x0, y0 = np.flatnonzero(mask[rows[0] : rows[0] + 2].any(axis=0)).mean() + 0.5, rows[0] + 0.5
        width = max(1.5, mask.sum() / height)  # a stroke: its ink over its length
        length, angle = rng.uniform(*REACH) * height, np.radians(rng.uniform(*ANGLE))
        return [(x0, y0), (x0 - length * np.cos(angle), y0 + length * np.sin(angle))], width

    return _each_with_a_line(images, flag, random_state)


def slash_zeros(images: NDArray, *, random_state: int | None = 0) -> NDArray[np.uint8]:
    """Each 0 of ``images`` ((n, 28, 28) uint8, MNIST form) with a slash drawn through it, in
    MNIST form again (:func:`digitcore.preprocess.to_mnist`, strokes as drawn).

    The slash runs from near the top right corner of the 0's ink to near its bottom left (in
    :data:`BACKSLASH` of them, top left to bottom right), each end :data:`SLASH_INSET` of the
    0's width and height inside its box or beyond it (drawn at random from ``random_state``),
    as wide as the 0's stroke.
    """

    def slash(mask: NDArray[np.bool_], rows: NDArray, cols: NDArray, rng: np.random.Generator):
        x0, x1, y0, y1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
        w, h = x1 - x0, y1 - y0
        # A ring's ink over its length (about half its box's perimeter times pi / 2).
        width = max(1.5, mask.sum() / (np.pi * (w + h) / 2))
        a, b, c, d = rng.uniform(*SLASH_INSET, size=4)
        ends = [(x1 - a * w, y0 + b * h), (x0 + c * w, y1 - d * h)]
        if rng.random() < BACKSLASH:
            ends = [(x0 + a * w, y0 + b * h), (x1 - c * w, y1 - d * h)]
        return ends, width

    return _each_with_a_line(images, slash, random_state)


def _each_with_a_line(
    images: NDArray, line: Callable, random_state: int | None
) -> NDArray[np.uint8]:
    """Each digit with the straight pen line ``line(mask, ink_rows, ink_cols, rng)`` gives (its
    two ends and width, in the digit's pixels), in MNIST form again; a digit without ink stays
    blank."""
    images = check_digits(images)
    rng = np.random.default_rng(random_state)
    out = np.zeros(images.shape, np.uint8)
    for k, img in enumerate(images):
        mask = img >= 128
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if len(rows):
            ends, width = line(mask, rows, cols, rng)
            out[k] = _with_line(img, ends, width * _UP)
    return out


def _with_line(img: NDArray[np.uint8], ends: list[tuple[float, float]], width: float) -> NDArray:
    """``img`` with a straight pen line between two points (pixels of ``img``), ``width`` wide
    at :data:`_UP` times the size, put in MNIST form again."""
    side = SIDE + 2 * _PAD
    ends = [((x + _PAD) * _UP, (y + _PAD) * _UP) for x, y in ends]
    big = Image.new("L", (side * _UP, side * _UP), 0)
    pen = ImageDraw.Draw(big)
    pen.line(ends, fill=255, width=round(width))
    for x, y in ends:  # round ends, as a pen's
        pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    line = np.asarray(big.resize((side, side), Image.Resampling.LANCZOS))
    ink = np.zeros((side, side), np.uint8)
    ink[_PAD : _PAD + SIDE, _PAD : _PAD + SIDE] = img
    return to_mnist(np.maximum(ink, line), normalize_stroke=False)


def with_styles(
    train: Dataset, *, share: float = FLAGGED, slashed: float = SLASHED, random_state: int = 0
) -> StyledSet:
    """The training digits plus flagged copies of some of their upright 1s and slashed copies
    of some of their 0s (module doc).

    Parameters
    ----------
    train : Dataset
        The digits to train on.
    share : float
        Flagged 1s to add, as a share of ``len(train)``; at most every upright 1 once.
    slashed : float
        Slashed 0s to add, as a share of ``len(train)``; at most every 0 once, and only 0s
        at most :data:`SLIM` as wide as tall.
    random_state : int
        Seed of which 1s are flagged and which 0s slashed, and of their flags and slashes.

    Returns
    -------
    StyledSet
        ``train``'s digits, then the flagged 1s, then the slashed 0s; its name, checksums and
        subset rule are ``train``'s, its source and ``styles`` say what was added.
    """
    for name, value in (("share", share), ("slashed", slashed)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1 of the training digits; got {value}")
    labels = np.asarray(train.labels)
    ones = np.flatnonzero(labels == 1)
    upright = ones[np.abs(leans(train.images[ones])) < UPRIGHT]
    zeros = np.flatnonzero(labels == 0)
    zeros = zeros[aspects(train.images[zeros]) <= SLIM]
    rng = np.random.default_rng(random_state)
    count = min(len(upright), round(share * len(train)))
    chosen = np.sort(rng.choice(upright, count, replace=False))
    flagged = flag_ones(train.images[chosen], random_state=random_state)
    crossed = min(len(zeros), round(slashed * len(train)))
    chosen = np.sort(rng.choice(zeros, crossed, replace=False))
    slashes = slash_zeros(train.images[chosen], random_state=random_state)
    source = f"{train.source}, {count:,} of them flagged copies of its upright 1s"
    if crossed:
        source += f" and {crossed:,} slashed copies of its slim 0s"
    return StyledSet(
        np.concatenate([train.images, flagged, slashes]),
        np.concatenate([labels, np.ones(count), np.zeros(crossed)]).astype(np.uint8),
        train.name,
        source,
        train.checksums,
        train.subset_rule,
        styles={
            "flagged_ones": count,
            "of_upright_ones": len(upright),
            "slashed_zeros": crossed,
            "of_slim_zeros": len(zeros),
            "seed": random_state,
        },
    )
