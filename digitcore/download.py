"""Fetch the original MNIST files from public mirrors, each checked against its published SHA-256."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from digitcore import settings
from digitcore.errors import DataError
from digitcore.files import sha256_file, write_atomic

#: The four original files and their published SHA-256 (see the project's data notes).
FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
#: Public mirrors of the original files, tried in turn.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)

#: progress(bytes_done, bytes_total_or_None, message): how a download reports.
Progress = Callable[[int, "int | None", str], None]


def _download_one(url: str, target: Path, sha256: str, progress: Progress | None) -> None:
    """Fetch ``url`` into ``target`` atomically, refusing it unless its SHA-256 matches."""

    def fetch(tmp: Path) -> None:
        digest = hashlib.sha256()
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total else None
            done = 0
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total, f"Downloading {target.name}")
        if digest.hexdigest() != sha256:
            raise DataError(
                f"{url}: SHA-256 {digest.hexdigest()[:12]}... does not match the "
                f"published {sha256[:12]}..."
            )

    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, fetch)


def download_mnist(
    folder: str | Path | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    progress: Progress | None = None,
    names: Sequence[str] | None = None,
) -> Path:
    """Download the MNIST files into ``folder``, each checked against its SHA-256.

    Files already there with the right checksum are kept. Each file is tried on every
    mirror in turn; a dead mirror or a corrupt copy moves on to the next one.

    Parameters
    ----------
    folder : str or Path, optional
        Where to put the files; :func:`digitcore.settings.cache_dir` by default.
    mirrors : sequence of str, optional
        Base URLs; ``DIGITCORE_MNIST_URL`` (if set) and then :data:`MIRRORS` by default.
    progress : callable, optional
        ``progress(bytes_done, bytes_total_or_None, message)``.
    names : sequence of str, optional
        Which of :data:`FILES` to fetch; all four by default.

    Returns
    -------
    Path
        The folder holding the verified files.

    Raises
    ------
    DataError
        When some file could not be had from any mirror; says what each mirror answered.
    """
    folder = Path(folder) if folder is not None else settings.cache_dir()
    if mirrors is None:
        override = settings.mnist_url()
        mirrors = (override,) if override else MIRRORS
    for name in names or FILES:
        sha256 = FILES[name]
        target = folder / name
        if target.is_file() and sha256_file(target) == sha256:
            continue
        failures = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + name
            try:
                _download_one(url, target, sha256, progress)
                break
            except (urllib.error.URLError, OSError, DataError) as exc:
                failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
        else:
            raise DataError(f"could not download {name}; " + "; ".join(failures))
    return folder
