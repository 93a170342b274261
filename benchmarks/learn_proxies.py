"""Digits by writers MNIST never saw, for measuring what learning from user drawings gives.

We have no real pen-drawn digits from other people here, so two honest proxies, each split in
two *by writer* (a train half added to MNIST, a check half never trained on):

* ``optdigits``: scikit-learn's ``load_digits`` — 1,797 digits written by people outside MNIST
  (the UCI optdigits test set), 8x8 counts of ink 0-16. Each is scaled up smoothly to a 96x96
  ink map and read through digitcore's own reading path (:func:`digitcore.segmentation.segment`),
  as a scan would be. The file has no writer ids; the digits come in writer blocks, so the
  first half and the second half are (mostly) different writers.
* ``pen``: digits drawn from pen strokes (``tests/browser_strokes.py``): each simulated writer
  has a way of writing each digit (one of two templates), a slant, a width, a brush and a
  shakiness, and writes each digit several times with fresh jitter; the canvases are painted
  with a round brush and read through the same path. Writers are split in two halves.

Digits the reading path does not find as exactly one digit are dropped (a user would redraw);
the counts say how many.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitcore import images, segmentation  # noqa: E402
from tests import browser_strokes  # noqa: E402


def _one_digit(gray: NDArray[np.uint8]) -> NDArray[np.uint8] | None:
    found = segmentation.segment(gray)
    return found[0].image if len(found) == 1 else None


def optdigits() -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.int64]]:
    """scikit-learn's 1,797 digits in MNIST form, their labels and their half (0 or 1)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    out, labels, halves = [], [], []
    n = len(bunch.images)
    for i, (small, label) in enumerate(zip(bunch.images, bunch.target, strict=True)):
        ink = Image.fromarray((small * (255 / 16)).astype(np.uint8)).resize(
            (96, 96), Image.Resampling.BICUBIC
        )
        gray = np.zeros((140, 140), np.uint8)
        gray[22:118, 22:118] = np.asarray(ink)
        digit = _one_digit(gray)
        if digit is not None:
            out.append(digit)
            labels.append(label)
            halves.append(int(i >= n // 2))
    return np.stack(out), np.array(labels, np.uint8), np.array(halves)


def pen(
    writers: int = 60, repeats: int = 3, seed: int = 0
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.int64]]:
    """Pen-drawn digits of ``writers`` simulated writers (each digit ``repeats`` times), in
    MNIST form, their labels and their half (writers split in two)."""
    rng = random.Random(seed)
    out, labels, halves = [], [], []
    for w in range(writers):
        style = {
            d: (rng.randrange(2), rng.uniform(0.75, 1.35)) for d in range(10)
        }  # template, width
        slant = rng.uniform(-0.12, 0.3)
        brush = rng.choice((8, 12, 16, 20, 26))
        shake = rng.uniform(0.5, 3.0)
        for d in range(10):
            way, widen = style[d]
            strokes = [[(x * widen, y) for x, y in s] for s in browser_strokes.DIGITS[d][way]]
            for _ in range(repeats):
                height = rng.uniform(110, 210)
                placed = browser_strokes.place(
                    strokes, left=80, top=(260 - height) / 2, height=height,
                    slant=slant + rng.uniform(-0.05, 0.05), jitter=shake,
                    seed=rng.randrange(1 << 30),
                )  # fmt: skip
                canvas = browser_strokes.render(placed, size=(400, 280), width=brush)
                digit = _one_digit(images.canvas_to_gray(canvas))
                if digit is not None:
                    out.append(digit)
                    labels.append(d)
                    halves.append(int(w >= writers // 2))
    return np.stack(out), np.array(labels, np.uint8), np.array(halves)


def load(kind: str, cache: Path = Path("/tmp/digitcore-learn")) -> tuple[NDArray, NDArray, NDArray]:
    """One proxy (``"optdigits"`` or ``"pen"``), cached as .npz (they take a minute to make)."""
    path = cache / f"{kind}.npz"
    if path.is_file():
        saved = np.load(path)
        return saved["images"], saved["labels"], saved["halves"]
    made = {"optdigits": optdigits, "pen": pen}[kind]()
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=made[0], labels=made[1], halves=made[2])
    return made
