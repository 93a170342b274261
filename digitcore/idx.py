"""MNIST's IDX file format: read one file, checked against its own header, and write one.

IDX is MNIST's own format (a big-endian header: magic number, then one 4-byte size per
dimension; then the uint8 values), so anything written here opens in any MNIST tool.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from digitcore.errors import DataError
from digitcore.files import write_atomic

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def _open_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic: decompress, else it is a plain IDX file
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip file ({exc})") from None
    return raw


def read_idx(path: str | Path) -> NDArray[np.uint8]:
    """Read one IDX file (gzipped or not) and check its header against its length.

    Parameters
    ----------
    path : str or Path
        An MNIST images file (magic 2051) or labels file (magic 2049).

    Returns
    -------
    ndarray of dtype uint8
        Shape ``(n, 28, 28)`` for images, ``(n,)`` for labels.

    Raises
    ------
    DataError
        One line naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    data = _open_bytes(path)
    if len(data) < 8:
        raise DataError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic == IMAGE_MAGIC:
        if len(data) < 16:
            raise DataError(f"{path}: too short for an IDX images header ({len(data)} bytes)")
        n, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
        if (rows, cols) != (28, 28):
            raise DataError(f"{path}: expected 28x28 images, header says {rows}x{cols}")
        shape, offset = (n, rows, cols), 16
    elif magic == LABEL_MAGIC:
        shape, offset = (int.from_bytes(data[4:8], "big"),), 8
    else:
        raise DataError(
            f"{path}: not an MNIST IDX file (magic number {magic}, "
            f"expected {IMAGE_MAGIC} for images or {LABEL_MAGIC} for labels)"
        )
    expected = int(np.prod(shape))
    got = len(data) - offset
    if got != expected:
        raise DataError(
            f"{path}: header promises {shape[0]} items ({expected} bytes of data), "
            f"file holds {got} bytes: {'truncated' if got < expected else 'trailing bytes'}"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)
    if magic == LABEL_MAGIC and array.size and array.max() > 9:
        raise DataError(f"{path}: labels must be digits 0-9, found {int(array.max())}")
    return array


def idx_bytes(array: NDArray) -> bytes:
    """The IDX encoding of digits ``(n, 28, 28)`` or labels ``(n,)``, uint8 values."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[1:] == (28, 28):
        magic = IMAGE_MAGIC
    elif array.ndim == 1:
        magic = LABEL_MAGIC
    else:
        raise DataError(f"expected digits (n, 28, 28) or labels (n,), got shape {array.shape}")
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: str | Path, array: NDArray, *, compress: bool = True) -> Path:
    """Write ``array`` as one IDX file (gzipped by default), whole or not at all.

    Parameters
    ----------
    path : str or Path
    array : ndarray of shape (n, 28, 28) (digits) or (n,) (labels), values 0-255
    compress : bool
        Gzip the file, as MNIST's own files are.

    Returns
    -------
    Path
    """
    path = Path(path)
    payload = idx_bytes(array)
    if compress:
        payload = gzip.compress(payload, compresslevel=6)
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(payload))
    return path
