"""Saved drawings in and out: MNIST's own IDX format, and a folder of PNGs named by label.

An export folder holds both: ``drawings-images-idx3-ubyte`` and ``drawings-labels-idx1-ubyte``
(uncompressed, the header MNIST's own files have, so any MNIST reader takes them) and
``png/<digit>/<digit>-<hash>.png`` (28x28 grayscale, ink 255 on 0). An import takes the IDX
pair when the folder has one, else every PNG under it, its label the digit its name starts
with (or, failing that, its folder's name). Imported digits are MNIST-form already, so they are
stored as they are (their own crop); to store scans or photos, use ``drawings add``, which
reads them the app's way.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from digitcore import idx
from digitcore.drawing_rows import image_rows
from digitcore.drawings import DrawingStore
from digitcore.errors import DataError, ImageError, LabelError
from digitcore.files import write_atomic

IMAGES = "drawings-images-idx3-ubyte"
LABELS = "drawings-labels-idx1-ubyte"
PNG_DIR = "png"
#: A PNG's label: the digit its name starts with (``7-ab12.png``, ``7_003.png``, ``7.png``).
_LABELLED = re.compile(r"^([0-9])(?:[^0-9].*)?$")


def export(store: DrawingStore, folder: str | Path) -> int:
    """Write every saved digit to ``folder`` as an IDX pair and as PNGs; return how many.

    Each file is written whole or not at all (:func:`digitcore.files.write_atomic`).
    """
    folder = Path(folder)
    drawn = store.dataset()
    folder.mkdir(parents=True, exist_ok=True)
    idx.write_idx(folder / IMAGES, drawn.images, compress=False)
    idx.write_idx(folder / LABELS, drawn.labels, compress=False)
    for image, label, digest in zip(drawn.images, drawn.labels, drawn.hashes, strict=True):
        target = folder / PNG_DIR / str(label)
        target.mkdir(parents=True, exist_ok=True)
        write_atomic(
            target / f"{label}-{digest}.png",
            lambda tmp, i=image: Image.fromarray(i, mode="L").save(tmp, format="PNG"),
        )
    return len(drawn)


def _png_label(path: Path) -> int:
    for name in (path.stem, path.parent.name):
        found = _LABELLED.match(name)
        if found:
            return int(found.group(1))
    raise LabelError(
        f"{path}: no label: name a PNG after its digit (e.g. 7-anything.png) or put it in a "
        "folder named after its digit"
    )


def _png_digit(path: Path) -> NDArray[np.uint8]:
    try:
        with Image.open(path) as im:
            pixels = np.asarray(im.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from None
    if pixels.shape != (28, 28):
        raise ImageError(
            f"{path}: expected a 28x28 MNIST-form digit, got {pixels.shape[1]}x{pixels.shape[0]}; "
            "store scans or photos with `drawings add`"
        )
    return pixels


def read_folder(folder: str | Path) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The digits and labels an export folder holds: its IDX pair, else its PNGs.

    Returns
    -------
    images : ndarray of shape (n, 28, 28), dtype uint8
    labels : ndarray of shape (n,), dtype uint8

    Raises
    ------
    DataError, ImageError, LabelError
        One line naming the file at fault; nothing has been stored.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    if (folder / IMAGES).is_file() or (folder / LABELS).is_file():
        images, labels = idx.read_idx(folder / IMAGES), idx.read_idx(folder / LABELS)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(
                f"{folder}: expected {IMAGES} (images) and {LABELS} (labels) of the same length; "
                f"got shapes {images.shape} and {labels.shape}"
            )
        return images, labels
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".png" and p.is_file())
    if not paths:
        raise DataError(f"{folder}: no {IMAGES} and no PNG files to import")
    labels = np.array([_png_label(p) for p in paths], np.uint8)  # every label before any image
    images = np.stack([_png_digit(p) for p in paths])
    return images, labels


def import_folder(store: DrawingStore, folder: str | Path) -> tuple[int, int]:
    """Store the digits of an export folder (see :func:`read_folder`) in one transaction.

    Returns
    -------
    (int, int)
        How many digits the folder held, and how many of them were new to the database.
    """
    images, labels = read_folder(folder)
    before = store.count()
    store.save_rows(image_rows(images, labels))
    return len(images), store.count() - before
