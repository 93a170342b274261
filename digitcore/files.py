"""Files written whole or not at all, and their checksums."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: str | Path, write: Callable[[Path], object], *, mode: int = 0o644) -> Path:
    """Write a file through a temporary file beside it, then rename it into place.

    A reader sees the old file or the whole new one, never a part; if ``write`` fails, the
    temporary file is removed, the error is raised and ``path`` is left as it was.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder must exist.
    write : callable
        ``write(tmp)`` writes the whole content to the path ``tmp`` (e.g.
        ``lambda tmp: joblib.dump(model, tmp)``); an exception aborts.
    mode : int
        Permissions of the written file; world-readable by default, as ordinary files are.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    # Same folder, so the rename is atomic (one file system); the dot hides it from listings.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, mode)  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
