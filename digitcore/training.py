"""The whole training job, shared by the command line and the Train page: data, fit, score, save."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digitcore import data, ensemble, evaluation, learning, merges, novelty, registry, store
from digitcore.drawing_rows import DrawingSet
from digitcore.errors import DataError
from digitcore.styles import with_styles

#: progress(fraction 0-1, message for people)
JobProgress = Callable[[float, str], None]

# Share of the progress bar each stage takes: fitting dominates.
_LOAD, _FIT, _SCORE, _CALIBRATE = 0.1, 0.64, 0.1, 0.14


def parse_param(text: str) -> Any:
    """A hyperparameter typed by a person: ``"none"`` or empty, an int, a float, or a word.

    >>> [parse_param(t) for t in ("3", "0.5", "None", "scale")]
    [3, 0.5, None, 'scale']
    """
    text = text.strip()
    if text.lower() in ("", "none"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def train_model(
    train_set: data.Dataset | None = None,
    *,
    test_set: data.Dataset | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    drawings: DrawingSet | None = None,
    copies: int = learning.COPIES,
    styles: bool = True,
    baseline: tuple[Any, dict[str, Any]] | None = None,
    limit: int | None = None,
    data_dir: str | Path | None = None,
    folder: str | Path | None = None,
    progress: JobProgress | None = None,
    random_state: int = 0,
    n_jobs: int = 2,
) -> store.ModelInfo:
    """Fit the ensemble, score it on unseen test digits and save it with its metadata.

    The metadata records exactly which digits it trained and was scored on
    (:meth:`digitcore.data.Dataset.describe`: name, source for people, checksums, the subset
    rule, the digits' SHA-256), never a machine path. Saving does not make the model anyone's
    default: the caller decides (:func:`digitcore.registry.promote`).

    Parameters
    ----------
    train_set : Dataset, optional
        The digits to train on; MNIST's training split by default.
    test_set : Dataset, optional
        The digits to score on and to calibrate "not sure" on; MNIST's test split by default.
        Never digits of the set trained on (:func:`digitcore.evaluation.check_unseen`).
    params : dict, optional
        Hyperparameters by member, over :data:`digitcore.ensemble.DEFAULT_PARAMS`.
    drawings : DrawingSet, optional
        Saved drawings (:meth:`digitcore.drawings.DrawingStore.dataset`) to add to the training
        digits: the held-back share (:func:`digitcore.learning.split`) is never trained on and
        is what the ``"drawings"`` entry of the metadata scores before and after; the others
        join with ``copies`` distorted copies each (:func:`digitcore.learning.join`).
    copies : int
        Distorted copies per drawing trained on.
    styles : bool
        Add flagged copies of some of the training digits' upright 1s and slashed copies of
        some of their 0s (:func:`digitcore.styles.with_styles`), ways of writing that MNIST
        lacks.
    baseline : (model, metadata), optional
        The model to compare with on the held-back drawings ("before"); the default model for
        everyone in ``folder`` when None. Only used with ``drawings``.
    limit : int, optional
        Train on ``limit`` digits of the training set, stratified by digit and shuffled with
        ``random_state`` (:meth:`digitcore.data.Dataset.subset`); all of them by default.
    data_dir : str or Path, optional
        Folder of the MNIST files for the split(s) not given; otherwise as
        :func:`digitcore.data.load_mnist` finds them.
    folder : str or Path, optional
        Where to save the model; :func:`digitcore.settings.models_dir` by default.
    progress : callable, optional
        ``progress(fraction, message)``, fraction from 0 to 1.
    random_state : int
        Seed for the members that draw random numbers, the subset and the calibration.
    n_jobs : int
        Members fitted in parallel (see :func:`digitcore.ensemble.train`).

    Returns
    -------
    ModelInfo
        The saved model's path and metadata (scores, fit times, data source, ...).

    Raises
    ------
    digitcore.errors.ParamError
        For refused hyperparameters or a ``limit`` below 1, before any slow work.
    digitcore.errors.DataError
        When MNIST is needed and cannot be read, or the test digits are from the set trained
        on (before fitting).
    """
    report = progress or (lambda fraction, message: None)
    # Refuse bad hyperparameters and limits before any slow work.
    merged = ensemble.merge_params(params)
    data.check_limit(limit)
    start = time.perf_counter()

    def downloading(done: int, total: int | None, message: str) -> None:
        report(_LOAD * done / total if total else 0.0, message)

    if train_set is None or test_set is None:
        report(0.0, "Loading MNIST")
    if train_set is None:
        train_set = data.load_mnist("train", data_dir, progress=downloading)
    if limit is not None:
        train_set = train_set.subset(limit, seed=random_state)
    if styles:
        train_set = with_styles(train_set, random_state=random_state)
    if drawings is not None:
        kept, held = learning.split(drawings)
        train_set = learning.join(train_set, kept, copies=copies, random_state=random_state)
    if test_set is None:
        test_set = data.load_mnist("test", data_dir, progress=downloading)
    training_data = train_set.describe()
    evaluation.check_unseen(training_data, test_set)  # before the slow fit
    model = ensemble.build_ensemble(merged, random_state=random_state)

    def fitted(name: str, done: int, total: int, seconds: float | None) -> None:
        if seconds is None:
            report(_LOAD, f"Fitting {total} models on {len(train_set):,} images")
        else:
            report(
                _LOAD + _FIT * done / total, f"Fitted {ensemble.MEMBERS[name]} in {seconds:.1f} s"
            )

    fit_seconds = ensemble.train(
        model, train_set.images, train_set.labels, progress=fitted, n_jobs=n_jobs
    )
    train_seconds = time.perf_counter() - start

    report(_LOAD + _FIT, f"Scoring on {len(test_set):,} test images")
    scores = evaluation.evaluate_unseen(model, test_set, training=training_data)
    report(_LOAD + _FIT + _SCORE, "Calibrating when to say 'not sure'")
    unsure = novelty.calibrate(model, test_set, seed=random_state)
    report(_LOAD + _FIT + _SCORE + _CALIBRATE / 2, "Learning what two touching digits look like")
    detector = merges.fit_detector(
        model, train_set.images, unseen=test_set.images, seed=random_state
    )
    extra = {}
    if drawings is not None:
        report(_LOAD + _FIT + _SCORE + _CALIBRATE, "Scoring on the held-back drawings")
        extra["drawings"] = _before_after(
            model, held, training_data, baseline=baseline, folder=folder, copies=copies
        )
    report(_LOAD + _FIT + _SCORE + _CALIBRATE, "Saving")
    info = store.save(
        model,
        {
            **extra,
            "params": merged,
            "random_state": random_state,
            "n_train": len(train_set),
            "n_test": scores.n,
            # For people (the sidebar, the CLI): a name, never a folder.
            "data_source": train_set.source,
            "training_data": training_data,
            "test_data": scores.test_data,
            "scores": scores.accuracy,
            "unsure": unsure,
            "merges": detector,
            "fit_seconds": fit_seconds,
            "train_seconds": train_seconds,
        },
        folder=folder,
    )
    report(1.0, f"Saved {info.path.name}: ensemble accuracy {scores.accuracy['ensemble']:.2%}")
    return info


def _before_after(
    model: Any,
    held: DrawingSet,
    training_data: dict[str, Any],
    *,
    baseline: tuple[Any, dict[str, Any]] | None,
    folder: str | Path | None,
    copies: int,
) -> dict[str, Any]:
    """What the metadata says about the drawings: how many trained and held back, and the
    held-back drawings' scores with the new model ("after") and the baseline ("before")."""
    kept = training_data["parts"][1]
    said: dict[str, Any] = {
        "trained": kept["n"], "held_back": len(held), "copies": copies,
        "held_back_data": held.describe(), "after": None, "before": None,
    }  # fmt: skip
    if len(held) == 0:
        return said
    said["after"] = evaluation.evaluate_unseen(model, held, training=training_data).accuracy
    if baseline is None:
        info = registry.default_model(folder)
        baseline = store.load(info.path) if info is not None else None
    if baseline is not None:
        old, meta = baseline
        try:
            scores = evaluation.evaluate_unseen(old, held, training=meta).accuracy
        except DataError:  # it trained on some of them: no fair "before"
            scores = None
        said["before"] = {
            "model": meta.get("name") or meta.get("file"),
            "sha256": meta.get("sha256"),
            "scores": scores,
            "mnist_scores": meta.get("scores"),
        }
    return said
