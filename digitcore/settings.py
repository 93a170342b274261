"""Every setting that comes from the environment, and every default folder, in one place.

Each function reads the environment when it is called, so a test (or a page) that sets a
variable sees the effect at once. An empty variable counts as unset.

* ``DIGITCORE_MODELS``: folder of saved models; else ``models/`` in the project.
* ``DIGITCORE_DATA``: folder of the four MNIST files, then the only source; else the download
  cache (under ``XDG_CACHE_HOME``, else ``~/.cache``), filled on first use.
* ``DIGITCORE_MNIST_URL``: base URL of an MNIST mirror; else the public mirrors.
* ``DIGITCORE_TEST_DATA``: the MNIST folder the tests and benchmarks read; else
  ``shared/data/mnist`` beside the project folder.
* ``DIGITCORE_HOME``: the app's data folder (the drawings database); else
  ``$XDG_DATA_HOME/digitcore``, else ``~/.local/share/digitcore``.
* ``DIGITCORE_DB``: the drawings database as an SQLAlchemy URL (``sqlite:///...``, later
  ``postgresql://...``); else the SQLite file ``drawings.sqlite`` in the data folder.
* ``DIGITCORE_DASK_SCHEDULER``: address of a Dask scheduler (``tcp://host:8786``) for searches;
  else a ``LocalCluster`` on this machine.
* ``DIGITCORE_E2E_MODEL``: a saved model for the browser tests to read with instead of the
  small one they train (read by ``tests/test_browser.py`` alone).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The project folder (holding ``app.py``, ``digitcore/``, ``models/``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    return os.environ.get(name) or None


def models_dir() -> Path:
    """The folder of saved models: ``DIGITCORE_MODELS``, else ``models/`` in the project."""
    configured = _env("DIGITCORE_MODELS")
    return Path(configured) if configured else PROJECT_ROOT / "models"


def data_dir() -> Path | None:
    """The MNIST folder ``DIGITCORE_DATA`` names, or None to use the cache and download."""
    configured = _env("DIGITCORE_DATA")
    return Path(configured) if configured else None


def cache_dir() -> Path:
    """The per-user folder where downloaded MNIST files are kept (under ``XDG_CACHE_HOME``)."""
    base = _env("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "digitcore" / "mnist"


def mnist_url() -> str | None:
    """The MNIST mirror ``DIGITCORE_MNIST_URL`` names, or None for the public mirrors."""
    return _env("DIGITCORE_MNIST_URL")


def reference_data_dir() -> Path:
    """The MNIST folder the tests and benchmarks read (never downloaded).

    ``DIGITCORE_TEST_DATA``, else ``shared/data/mnist`` beside the project folder.
    """
    configured = _env("DIGITCORE_TEST_DATA")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "data" / "mnist"


def data_home() -> Path:
    """The app's own data folder: ``DIGITCORE_HOME``, else ``$XDG_DATA_HOME/digitcore``.

    Falls back to ``~/.local/share/digitcore`` when ``XDG_DATA_HOME`` is unset. Not created here.
    """
    configured = _env("DIGITCORE_HOME")
    if configured:
        return Path(configured)
    base = _env("XDG_DATA_HOME")
    return (Path(base) if base else Path.home() / ".local" / "share") / "digitcore"


def db_url() -> str:
    """The drawings database's URL: ``DIGITCORE_DB``, else an SQLite file in :func:`data_home`."""
    configured = _env("DIGITCORE_DB")
    if configured:
        return configured
    return f"sqlite:///{data_home() / 'drawings.sqlite'}"


def dask_scheduler() -> str | None:
    """The Dask scheduler ``DIGITCORE_DASK_SCHEDULER`` names, or None for a local cluster."""
    return _env("DIGITCORE_DASK_SCHEDULER")
