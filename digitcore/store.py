"""Saved models: a joblib file and its JSON metadata side by side, hash-checked on load.

A model file is a pickle, and unpickling runs code, so :func:`load` only opens a file whose
SHA-256 matches the metadata that :func:`save` wrote beside it, and whose library versions
match the ones running now.

One model in a folder is the default, the one everybody uses unless they pick another: the
model that ``default.json`` names, else the newest. Saving a model does not change it;
:func:`promote` does, only for a model at least as accurate on the same unseen digits, and
:func:`set_default` does when someone asks for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import platform
from collections.abc import Iterator
from contextlib import contextmanager
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
#: The file in a models folder that names its default model.
DEFAULT_FILE = "default.json"
#: Locked while a model is compared with the default (hidden, and not a ``*.joblib``).
LOCK_FILE = ".default.lock"
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


def _folder(folder: str | Path | None) -> Path:
    return Path(folder) if folder is not None else settings.models_dir()


def _pointed_at(folder: Path, models: list[ModelInfo]) -> ModelInfo | None:
    """The model that ``default.json`` in ``folder`` names, if it is one of ``models``."""
    try:
        named = json.loads((folder / DEFAULT_FILE).read_text()).get("file")
    except (OSError, ValueError, AttributeError):
        return None  # missing or unreadable: the newest model is the default
    return next((info for info in models if info.path.name == named), None)


def default_model(folder: str | Path | None = None) -> ModelInfo | None:
    """The model everyone uses unless they pick another one; None when there is no model.

    It is the model that ``default.json`` in ``folder`` names; when that file is missing or
    names no valid model (deleted, tampered metadata), the newest model.
    ``folder`` is :func:`digitcore.settings.models_dir` by default.
    """
    folder = _folder(folder)
    models = list_models(folder)
    if not models:
        return None
    return _pointed_at(folder, models) or models[0]


def set_default(info: ModelInfo) -> None:
    """Make ``info`` the default model of the folder it is saved in, for everyone.

    Raises
    ------
    ModelError
        When ``info`` is not a saved model with readable metadata.
    """
    read_metadata(info.path)  # never point at a file that could not be loaded
    text = json.dumps({"file": info.path.name}, indent=2)
    write_atomic(info.path.parent / DEFAULT_FILE, lambda tmp: tmp.write_text(text))


def delete(info: ModelInfo) -> None:
    """Delete a saved model and its metadata.

    Raises
    ------
    ModelError
        When ``info`` is the only saved model in its folder or the default one (choose
        another default first), or is not a saved model.
    """
    folder = info.path.parent
    models = list_models(folder)
    if not any(m.path == info.path for m in models):
        raise ModelError(f"{info.name}: no such saved model in {folder.name}/")
    if len(models) == 1:
        raise ModelError(
            f"{info.name} is the only saved model and cannot be deleted; train another one first"
        )
    default = default_model(folder)
    if default is not None and default.path == info.path:
        raise ModelError(
            f"{info.name} is the default model for everyone and cannot be deleted; make "
            "another model the default first"
        )
    # Metadata first: a model without it is never listed, so a half-done delete shows nothing.
    metadata_path(info.path).unlink(missing_ok=True)
    info.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Promotion:
    """What :func:`promote` decided.

    Attributes
    ----------
    promoted : bool
        Whether the model is now the default for everyone.
    reason : str
        The decision in words, with both scores, e.g. ``"now the default for everyone:
        ensemble 99.10% vs 98.70% for ensemble-... on the same 10,000 unseen test digits
        (mnist-test)"``.
    new_score, default_score : float or None
        The ensemble accuracy of the model and of the default it was compared with (None when
        unknown, or when there was no other model).
    previous : ModelInfo or None
        The default before (None when there was no other model).
    """

    promoted: bool
    reason: str
    new_score: float | None
    default_score: float | None
    previous: ModelInfo | None = None


def ensemble_score(info: ModelInfo) -> float | None:
    """The ensemble's accuracy on its test digits, from the metadata; None when not recorded."""
    score = info.metadata.get("scores", {}).get("ensemble")
    return float(score) if isinstance(score, (int, float)) else None


def scored_on(info: ModelInfo) -> tuple[str, int] | None:
    """Which digits the model's scores were measured on: (data set name, number of digits).

    None when the metadata does not record it (models saved before it was recorded).
    """
    test = info.metadata.get("test_data")
    if not isinstance(test, dict) or not test.get("name") or not isinstance(test.get("n"), int):
        return None
    return str(test["name"]), test["n"]


def score_words(info: ModelInfo) -> str:
    """A model's ensemble accuracy and the digits it was measured on, in words, e.g.
    ``"ensemble 99.50% on 10,000 unseen test digits (mnist-test)"``."""
    score = ensemble_score(info)
    if score is None:
        return "no recorded score"
    on = scored_on(info)
    where = f"on {on[1]:,} unseen test digits ({on[0]})" if on else "(test digits not recorded)"
    return f"ensemble {score:.2%} {where}"


def _digits_words(on: tuple[str, int] | None) -> str:
    return f"{on[1]:,} digits ({on[0]})" if on else "digits not recorded"


def promote(info: ModelInfo, *, folder: str | Path | None = None) -> Promotion:
    """Make a newly saved model the default only if it reads at least as well as the default.

    The two are compared by ensemble accuracy on the same unseen test digits (same test data
    set and number of digits, as their metadata records). When the new model is not made the
    default, the current default is written to ``default.json``, so that the new model does
    not become the default by being the newest. A model with no other beside it becomes the
    default.

    Parameters
    ----------
    info : ModelInfo
        The model just saved (e.g. by :func:`digitcore.training.train_model`).
    folder : str or Path, optional
        The models folder; the folder ``info`` is saved in by default.

    Returns
    -------
    Promotion
        Whether it was made the default, why in words, and both scores.
    """
    folder = Path(folder) if folder is not None else info.path.parent
    with _folder_lock(folder):
        return _promote(info, folder)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One promotion at a time in ``folder``, across processes: app replicas share the folder,
    and two comparing themselves with the same old default could leave the weaker one default.
    """
    with open(folder / LOCK_FILE, "a") as handle:  # flock: local disks and NFS alike
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # released when the file is closed, also if the process dies


def _promote(info: ModelInfo, folder: Path) -> Promotion:
    others = [m for m in list_models(folder) if m.path != info.path]
    new_score = ensemble_score(info)
    if not others:
        set_default(info)
        return Promotion(
            True, "now the default for everyone: it is the only saved model", new_score, None
        )
    current = _pointed_at(folder, others) or others[0]
    old_score = ensemble_score(current)
    new_on, old_on = scored_on(info), scored_on(current)
    if new_on is None or new_on != old_on or new_score is None or old_score is None:
        set_default(current)
        return Promotion(
            False,
            f"not made the default for everyone: its scores cannot be compared with the default's "
            f"({current.name}), which were measured on other test digits (this model: "
            f"{_digits_words(new_on)}; the default: {_digits_words(old_on)}); make it the "
            "default yourself if you want everyone to use it",
            new_score,
            old_score,
            current,
        )
    both = f"ensemble {new_score:.2%} vs {old_score:.2%} for {current.name}"
    same = f"on the same {new_on[1]:,} unseen test digits ({new_on[0]})"
    if new_score >= old_score:
        set_default(info)
        return Promotion(
            True, f"now the default for everyone: {both} {same}", new_score, old_score, current
        )
    set_default(current)
    return Promotion(
        False,
        f"not made the default for everyone: {both} {same}; the default stays {current.name}",
        new_score,
        old_score,
        current,
    )
