"""Which saved model everyone uses: the default model, promotion, deletion.

One model in a folder is the default, the one everybody uses unless they pick another: the
model that ``default.json`` names, else the newest. Saving a model does not change it;
:func:`promote` does, only for a model at least as accurate on the same unseen digits, and
:func:`set_default` does when someone asks for it. App replicas sharing one models folder see
the same default at their next run.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from digitcore import settings
from digitcore.errors import ModelError
from digitcore.files import write_atomic
from digitcore.store import ModelInfo, list_models, metadata_path, read_metadata

#: The file in a models folder that names its default model.
DEFAULT_FILE = "default.json"
#: Locked while a model is compared with the default (hidden, and not a ``*.joblib``).
LOCK_FILE = ".default.lock"


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
