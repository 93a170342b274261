"""One saved digit as a database row and back: labels checked, crops cut, content hashed.

The row-building half of :mod:`digitcore.drawings` (which holds the database work), so that
the store, the import of IDX and PNG files (:mod:`digitcore.drawings_io`) and the tests build
rows the same way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from digitcore import images
from digitcore.caching import fingerprint
from digitcore.data import Dataset
from digitcore.errors import ImageError, LabelError

#: Where a saved digit came from.
SOURCES = ("canvas", "upload", "cli", "import")


@dataclass(frozen=True)
class Record:
    """One saved digit (a row of the ``drawings`` table); ``crop`` and ``strokes`` on demand."""

    id: int
    label: int
    read: int | None
    sure: bool | None
    votes: dict[str, int] | None
    image: NDArray[np.uint8] = field(repr=False)
    source: str
    model_name: str | None
    model_sha256: str | None
    created: datetime
    content_hash: str
    drawing_hash: str
    position: int

    @property
    def wrong(self) -> bool:
        """Whether the model read another digit than the true one when it was saved."""
        return self.read is not None and self.read != self.label


@dataclass
class DrawingSet(Dataset):
    """The saved drawings as a :class:`~digitcore.data.Dataset`, with each digit's identity.

    Attributes
    ----------
    ids : ndarray of shape (n,), dtype int64
        Row ids in the database.
    hashes : ndarray of shape (n,), dtype str
        Each digit's content hash: stable across exports and machines, for seeded splits.
    drawing_hashes : ndarray of shape (n,), dtype str
        The drawing each digit came from (the digits of one number share it): split by these
        to keep one writer's number on one side.
    """

    ids: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    hashes: NDArray[np.str_] = field(default_factory=lambda: np.empty(0, "U32"))
    drawing_hashes: NDArray[np.str_] = field(default_factory=lambda: np.empty(0, "U32"))

    def _take(self, indices: NDArray[np.intp], rule: dict[str, Any]) -> DrawingSet:
        taken = super()._take(indices, rule)
        return DrawingSet(
            taken.images, taken.labels, taken.name, taken.source, taken.checksums,
            taken.subset_rule, self.ids[indices], self.hashes[indices],
            self.drawing_hashes[indices],
        )  # fmt: skip


def label_digits(labels: str) -> str:
    """The labels as a string of digits 0-9 (spaces dropped), or a one-line refusal.

    Raises
    ------
    LabelError
        When ``labels`` is empty or holds anything but digits and spaces.
    """
    text = "".join(str(labels).split())
    if not text or not (text.isascii() and text.isdigit()):
        raise LabelError(f"the right digits must be digits 0-9, e.g. 407; got {labels!r}")
    return text


def check_labels(labels: str, found: int) -> str:
    """The labels as a string of digits, one per digit found, or a one-line refusal.

    Spaces are ignored (``"4 0 7"`` is ``"407"``).

    Raises
    ------
    LabelError
        When ``labels`` holds anything but digits 0-9, or not as many as the digits found.
    """
    text = label_digits(labels)
    if found == 0:
        raise LabelError("no digit was found in the drawing, so there is nothing to label")
    if len(text) != found:
        raise LabelError(
            f"{found} digit{'s' if found != 1 else ''} found in the drawing but "
            f"{len(text)} given ({text}): give one digit for each digit found"
        )
    return text


def ink_map(image: Any) -> NDArray[np.uint8]:
    """The ink map the reading path makes of an input (canvas array, file path or bytes)."""
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        return images.read_image(image)
    return images.canvas_to_gray(np.asarray(image))


def crops_of(gray: NDArray[np.uint8], boxes: Sequence[tuple[int, int, int, int]]) -> list:
    """Each digit's crop, as drawn, from the ink map its boxes ``(x0, y0, x1, y1)`` refer to."""
    return [np.ascontiguousarray(gray[y0:y1, x0:x1], dtype=np.uint8) for x0, y0, x1, y1 in boxes]


def digit_strokes(strokes: dict[str, Any] | None, box: tuple[int, int, int, int]) -> str | None:
    """The fabric.js objects of a canvas drawing whose middle lies within a digit's columns."""
    if not strokes:
        return None
    x0, _, x1, _ = box
    mine = [
        o
        for o in strokes.get("objects", [])
        if x0 <= float(o.get("left", 0)) + float(o.get("width", 0)) / 2 < x1
    ]
    return json.dumps({**strokes, "objects": mine})


def png_bytes(array: NDArray[np.uint8]) -> bytes:
    """A 2-D uint8 array as a grayscale PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def png_array(data: bytes) -> NDArray[np.uint8]:
    """A PNG's pixels as a 2-D uint8 array (grayscale)."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def content_hash(image: NDArray[np.uint8], crop: NDArray[np.uint8]) -> str:
    """Names one digit by what the models saw and the crop it came from."""
    return fingerprint(np.asarray(image, np.uint8), fingerprint(np.asarray(crop, np.uint8)))


def model_identity(model: Any) -> tuple[str | None, str | None]:
    if model is None:
        return None, None
    if isinstance(model, dict):
        return model.get("name"), model.get("sha256")
    return model.name, model.metadata.get("sha256")


def record(row: Any) -> Record:
    votes = json.loads(row.votes) if row.votes else None
    image = np.frombuffer(row.image, np.uint8)
    if image.size != 28 * 28:
        raise ImageError(f"saved digit {row.id}: image of {image.size} bytes, expected 784")
    return Record(
        id=row.id, label=row.label, read=row.read, sure=row.sure, votes=votes,
        image=image.reshape(28, 28), source=row.source, model_name=row.model_name,
        model_sha256=row.model_sha256, created=row.created, content_hash=row.content_hash,
        drawing_hash=row.drawing_hash, position=row.position,
    )  # fmt: skip


def reading_rows(reading: Any, *, labels: str, source: str, model: Any, crops: Any,
                 strokes: dict[str, Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The rows that save a reading's digits (see :meth:`digitcore.drawings.DrawingStore.save`).

    Raises
    ------
    LabelError
        When the labels are not digits, or not one per digit read.
    """
    text = check_labels(labels, len(reading.digits))
    if source not in SOURCES:
        raise LabelError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    digits = reading.digits
    if isinstance(crops, np.ndarray) and crops.ndim == 2:
        crops = crops_of(crops, [d.box for d in digits])
    if len(crops) != len(digits):
        raise LabelError(f"{len(crops)} crops given for {len(digits)} digits read")
    name, sha = model_identity(model)
    hashes = [content_hash(d.image, c) for d, c in zip(digits, crops, strict=True)]
    drawing = fingerprint(" ".join(hashes).encode())
    now = datetime.now(UTC)
    return [
        {
            "content_hash": h,
            "drawing_hash": drawing,
            "position": i,
            "label": int(t),
            "read": d.digit,
            "sure": d.sure,
            "votes": json.dumps(d.votes),
            "image": np.ascontiguousarray(d.image, np.uint8).tobytes(),
            "crop": png_bytes(c),
            "strokes": digit_strokes(strokes, d.box),
            "model_name": name,
            "model_sha256": sha,
            "source": source,
            "created": now,
        }
        for i, (d, c, h, t) in enumerate(zip(digits, crops, hashes, text, strict=True))
    ]


def image_rows(digits: NDArray[np.uint8], labels: NDArray[np.integer]) -> list[dict[str, Any]]:
    """Rows for MNIST-form digits imported with their labels (each its own crop and drawing).

    Parameters
    ----------
    digits : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0
    labels : ndarray of shape (n,), values 0-9
    """
    digits = np.asarray(digits)
    if digits.ndim != 3 or digits.shape[1:] != (28, 28) or digits.dtype != np.uint8:
        raise ImageError(
            f"expected uint8 digits of shape (n, 28, 28); got {digits.dtype} {digits.shape}"
        )
    if len(labels) != len(digits) or (len(labels) and int(np.max(labels)) > 9):
        raise LabelError(f"expected one label 0-9 per digit; got {len(labels)} for {len(digits)}")
    now = datetime.now(UTC)
    rows = []
    for image, label in zip(digits, labels, strict=True):
        h = content_hash(image, image)
        rows.append({
            "content_hash": h, "drawing_hash": h, "position": 0, "label": int(label),
            "read": None, "sure": None, "votes": None, "image": image.tobytes(),
            "crop": png_bytes(image), "strokes": None, "model_name": None,
            "model_sha256": None, "source": "import", "created": now,
        })  # fmt: skip
    return rows
