"""Saved models: a joblib file and its JSON metadata side by side, hash-checked on load.

A model file is a pickle, and unpickling runs code, so :func:`load` only opens a file whose
SHA-256 matches the metadata that :func:`save` wrote beside it, and whose library versions
match the ones running now.

Which of the saved models everyone uses is :mod:`digitcore.registry`'s job.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy
import sklearn

from digitcore import settings
from digitcore.errors import ModelError
from digitcore.files import sha256_file, write_atomic

FORMAT = 1
#: Libraries whose version must match for a pickle to load safely and predict the same.
LIBRARIES = {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__}


@dataclass(frozen=True)
class ModelInfo:
    """A saved model: where its file is and what its metadata says."""

    path: Path
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        """The file name without its suffix, e.g. ``"ensemble-20261126-181341-073976"``."""
        return self.path.stem

    @property
    def summary(self) -> str:
        """One line for people: when, on how many digits, how good.

        >>> meta = {"created": "2026-11-26T18:13:41+00:00", "n_train": 60000,
        ...         "scores": {"ensemble": 0.995}}
        >>> ModelInfo(Path("m.joblib"), meta).summary
        '2026-11-26 18:13 · 60,000 digits · ensemble 99.50%'
        """
        meta = self.metadata
        created = str(meta.get("created", "?")).replace("T", " ")[:16]
        n_train = meta.get("n_train")
        digits = f"{n_train:,}" if isinstance(n_train, int) else "?"
        score = meta.get("scores", {}).get("ensemble")
        score_text = f" · ensemble {score:.2%}" if isinstance(score, float) else ""
        return f"{created} · {digits} digits{score_text}"


def metadata_path(path: str | Path) -> Path:
    """The JSON metadata file that belongs to a model file."""
    return Path(path).with_suffix(".json")


def save(model: Any, metadata: dict[str, Any], *, folder: str | Path | None = None) -> ModelInfo:
    """Save a fitted model with joblib (compressed) and its metadata beside it.

    Parameters
    ----------
    model : estimator
        The fitted ensemble.
    metadata : dict
        JSON-serialisable facts about it (data source, scores, fit times, ...). The library
        versions, creation time, file size and SHA-256 of the model file are added here.
    folder : str or Path, optional
        Where to save; :func:`digitcore.settings.models_dir` by default.

    Returns
    -------
    ModelInfo
        The model file's path and the metadata as written.
    """
    folder = Path(folder) if folder is not None else settings.models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    path = folder / f"ensemble-{created:%Y%m%d-%H%M%S-%f}.joblib"
    write_atomic(path, lambda tmp: joblib.dump(model, tmp, compress=3))
    meta = {
        **metadata,
        "format": FORMAT,
        "created": created.isoformat(timespec="seconds"),
        "libraries": {**LIBRARIES, "python": platform.python_version()},
        "file": path.name,
        "file_bytes": path.stat().st_size,
        "sha256": sha256_file(path),
    }
    text = json.dumps(meta, indent=2, sort_keys=True)
    write_atomic(metadata_path(path), lambda tmp: tmp.write_text(text))
    return ModelInfo(path, meta)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read and check the metadata of a model file, without opening the model itself.

    Raises
    ------
    ModelError
        When the metadata is missing or unreadable, or the model file is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    meta_file = metadata_path(path)
    try:
        meta = json.loads(meta_file.read_text())
    except FileNotFoundError:
        raise ModelError(
            f"{path}: no metadata file {meta_file.name} beside it; only models saved by "
            "digitcore can be loaded"
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{meta_file}: unreadable metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "sha256" not in meta:
        raise ModelError(f"{meta_file}: not digitcore model metadata (format {FORMAT})")
    return meta


def load(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load a model that :func:`save` wrote, after checking its hash and library versions.

    Parameters
    ----------
    path : str or Path
        The ``.joblib`` model file; its ``.json`` metadata must be beside it.

    Returns
    -------
    model : estimator
    metadata : dict

    Raises
    ------
    ModelError
        When the file is missing, its SHA-256 differs from the metadata (tampered or
        corrupt), or it was saved by other versions of scikit-learn or numpy.
    """
    path = Path(path)
    meta = read_metadata(path)
    # Hash and unpickle the same bytes, read once: a file swapped in between cannot slip through.
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: could not be read ({exc})") from None
    actual = hashlib.sha256(raw).hexdigest()
    if actual != meta["sha256"]:
        raise ModelError(
            f"{path}: SHA-256 {actual[:12]}... does not match the {meta['sha256'][:12]}... "
            "recorded when it was saved; the file was changed, refusing to load it"
        )
    saved = meta.get("libraries", {})
    wrong = [
        f"{lib} {saved.get(lib)} (running {version})"
        for lib, version in LIBRARIES.items()
        if saved.get(lib) != version
    ]
    if wrong:
        raise ModelError(
            f"{path}: saved with {', '.join(wrong)}; retrain it with the installed libraries"
        )
    try:
        model = joblib.load(io.BytesIO(raw))
    except Exception as exc:  # a hash-checked file should load; say so if it does not
        raise ModelError(f"{path}: could not be loaded ({type(exc).__name__}: {exc})") from None
    return model, meta


def list_models(folder: str | Path | None = None) -> list[ModelInfo]:
    """Return the saved models in ``folder`` that have readable metadata, newest first.

    ``folder`` is :func:`digitcore.settings.models_dir` by default.
    """
    folder = Path(folder) if folder is not None else settings.models_dir()
    found = []
    for path in folder.glob("*.joblib"):
        try:
            found.append(ModelInfo(path, read_metadata(path)))
        except ModelError:
            continue  # not ours, or half-written: never offered for loading
    return sorted(
        found, key=lambda info: (info.metadata.get("created", ""), info.path.name), reverse=True
    )
