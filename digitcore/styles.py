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
"""

from __future__ import annotations

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
_UP, _PAD = 4, 8  # flags are drawn 4x larger, on a margin where they may reach out of the box


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


def flag_ones(images: NDArray, *, random_state: int | None = 0) -> NDArray[np.uint8]:
    """Each 1 with a flag drawn at its top, in MNIST form again.

    The flag starts at the top of the stem and runs down and to the left, :data:`REACH` of the
    1's height long and :data:`ANGLE` degrees below the horizontal (both drawn at random), as
    wide as the stem's stroke.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28), uint8
        1s in MNIST form, ink high.
    random_state : int or None
        Seed of the flags' lengths and angles.

    Returns
    -------
    ndarray of shape (n, 28, 28), uint8
        The flagged 1s, fitted and centred as MNIST's digits are
        (:func:`digitcore.preprocess.to_mnist`, strokes as drawn).
    """
    images = check_digits(images)
    rng = np.random.default_rng(random_state)
    side = SIDE + 2 * _PAD
    out = np.zeros(images.shape, np.uint8)
    for k, img in enumerate(images):
        mask = img >= 128
        rows = np.flatnonzero(mask.any(axis=1))
        if not len(rows):
            continue
        height = rows[-1] - rows[0] + 1
        x0, y0 = np.flatnonzero(mask[rows[0] : rows[0] + 2].any(axis=0)).mean() + 0.5, rows[0] + 0.5
        width = max(1.5, mask.sum() / height) * _UP  # a stroke: its ink over its length
        length, angle = rng.uniform(*REACH) * height, np.radians(rng.uniform(*ANGLE))
        ends = [(x0, y0), (x0 - length * np.cos(angle), y0 + length * np.sin(angle))]
        ends = [((x + _PAD) * _UP, (y + _PAD) * _UP) for x, y in ends]
        big = Image.new("L", (side * _UP, side * _UP), 0)
        pen = ImageDraw.Draw(big)
        pen.line(ends, fill=255, width=round(width))
        for x, y in ends:  # round ends, as a pen's
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
        flag = np.asarray(big.resize((side, side), Image.Resampling.LANCZOS))
        ink = np.zeros((side, side), np.uint8)
        ink[_PAD : _PAD + SIDE, _PAD : _PAD + SIDE] = img
        out[k] = to_mnist(np.maximum(ink, flag), normalize_stroke=False)
    return out


def with_styles(train: Dataset, *, share: float = FLAGGED, random_state: int = 0) -> StyledSet:
    """The training digits plus flagged copies of some of their upright 1s (module doc).

    Parameters
    ----------
    train : Dataset
        The digits to train on.
    share : float
        Flagged 1s to add, as a share of ``len(train)``; at most every upright 1 once.
    random_state : int
        Seed of which 1s are flagged, and of their flags.

    Returns
    -------
    StyledSet
        ``train``'s digits, then the flagged 1s; its name, checksums and subset rule are
        ``train``'s, its source and ``styles`` say what was added.
    """
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1 of the training digits; got {share}")
    ones = np.flatnonzero(np.asarray(train.labels) == 1)
    upright = ones[np.abs(leans(train.images[ones])) < UPRIGHT]
    rng = np.random.default_rng(random_state)
    count = min(len(upright), round(share * len(train)))
    chosen = np.sort(rng.choice(upright, count, replace=False))
    flagged = flag_ones(train.images[chosen], random_state=random_state)
    return StyledSet(
        np.concatenate([train.images, flagged]),
        np.concatenate([train.labels, np.ones(count, np.uint8)]).astype(np.uint8),
        train.name,
        f"{train.source}, {count:,} of them flagged copies of its upright 1s",
        train.checksums,
        train.subset_rule,
        styles={"flagged_ones": count, "of_upright_ones": len(upright), "seed": random_state},
    )
