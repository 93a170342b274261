"""What the pages share: the active model (one copy for all sessions), the model picker, a
training run with its lock, status and progress, how many digits there are to train and test
on, and how errors are explained.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import streamlit as st

from digitcore import data, registry, settings, store, training
from digitcore.errors import DigitcoreError, ModelError
from digitcore.recognize import recognize
from pages import _render

#: Training-set size of the model the app prepares itself on a machine with none saved.
FIRST_RUN_LIMIT = 20_000
#: The picker's choice that follows the default model (the one for everyone, see registry.promote).
DEFAULT = "default"


def ensure_routed() -> None:
    """Make sure the page runs inside ``app.py``'s navigation.

    Until some session has run ``app.py``, Streamlit treats the ``pages/`` folder as an old-style
    multipage app, so a deep link (``/train``) opened first after the server starts would run
    the page alone, with every file in ``pages/`` listed as a page. Switch that mode off and
    rerun: ``app.py`` then routes to the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def internal_problem(doing: str, exc: BaseException) -> str:
    """Words for an exception nobody expected: a bug in the app, not the visitor's input."""
    return (
        f"{doing} failed because of an internal problem in the app ({type(exc).__name__}: "
        f"{exc}). This is a bug, not something you did."
    )


def explain(doing: str, exc: BaseException, hint: str = "") -> str:
    """Words for a failure: the reason ``digitcore`` gave for bad input, data or a model, or an
    internal problem for anything else."""
    if not isinstance(exc, (DigitcoreError, OSError)):
        return internal_problem(doing, exc)
    return f"{doing} failed: {str(exc).rstrip('.')}." + (f" {hint}" if hint else "")


def stop_with(message: str) -> NoReturn:
    """Show ``message`` as an error and end this run of the page."""
    st.error(message)
    st.stop()


@st.cache_resource(max_entries=2, show_spinner="Loading the model...")
def get_model(path: str, sha256: str) -> tuple[Any, dict[str, Any]]:
    """Load a saved model once for every session; ``sha256`` keys the cache to the file's content.

    Never fit or change what this returns: all sessions hold the same object.
    """
    model, metadata = store.load(path)
    # One reading now, so the first visitor's drawing does not pay for lazy imports and warm-up.
    stroke = np.zeros((64, 64), dtype=np.uint8)
    stroke[8:56, 28:36] = 255
    recognize(model, stroke)
    return model, metadata


@st.cache_resource
def training_lock() -> threading.Lock:
    """One training at a time on this server: fitting needs most of the memory a host gives."""
    return threading.Lock()


@dataclass
class ProgressLog:
    """A ``progress(fraction, message)`` callback that moves ``bar`` and writes each new message
    (one line per stage: download, each model fitted with its time, scoring, saving) to ``log``.
    """

    bar: Any
    log: Any | None = None
    lines: list[str] = field(default_factory=list)

    def __call__(self, fraction: float, message: str) -> None:
        self.bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)
        if self.log is not None and message not in self.lines[-1:]:
            self.lines.append(message)
            self.log.write(message)


@dataclass(frozen=True)
class TrainingRun:
    """A finished training run: the model it saved, the progress lines it wrote, and whether
    the model became the default for everyone (:func:`digitcore.registry.promote`)."""

    info: store.ModelInfo
    log: list[str]
    promotion: registry.Promotion


def run_training(
    title: str,
    *,
    done: str = "Saved",
    failure: str = "Training",
    hint: str = "",
    intro: str = "",
    wait: str | None = None,
    still_needed: Callable[[], bool] | None = None,
    **train_kwargs: Any,
) -> TrainingRun | None:
    """Train and save a model under a status box with a progress bar and a line per stage.

    One training runs at a time on the server. The model saved becomes the default for
    everyone only when :func:`digitcore.registry.promote` says it reads at least as well as the
    default. Stops the page with an explanation when training fails, or when another session
    is training and ``wait`` is not given.

    Parameters
    ----------
    title : str
        The status box's label while training, e.g. "Training on 10,000 digits...".
    done : str
        The label's first word once the model is saved, followed by the model's name.
    failure, hint : str
        Said when training fails: "{failure} failed: {reason}. {hint}".
    intro : str
        Said above the status box (once the lock is held and training is still needed).
    wait : str, optional
        When another session is training, wait for it with this message instead of giving up.
    still_needed : callable, optional
        Asked once the lock is held: train only if it returns True (a session waited for may
        have done the work already).
    **train_kwargs
        Passed to :func:`digitcore.training.train_model` (keywords only).

    Returns
    -------
    TrainingRun or None
        None when ``still_needed`` said training was no longer needed.
    """
    lock = training_lock()
    if not lock.acquire(blocking=False):
        if wait is None:
            st.warning("Another visitor is training a model right now; try again in a few minutes.")
            st.stop()
        with st.spinner(wait):
            lock.acquire()
    try:
        if still_needed is not None and not still_needed():
            return None
        if intro:
            st.info(intro)
        with st.status(title, expanded=True) as status:
            progress = ProgressLog(st.progress(0.0, text="Starting"), st)
            info = training.train_model(progress=progress, **train_kwargs)
            # Under the lock: two runs never compare themselves with the same old default.
            promotion = registry.promote(info)
            status.update(label=f"{done} {info.name}", state="complete", expanded=False)
    except Exception as exc:  # bad hyperparameters, no data, a full disk: explain, no traceback
        stop_with(explain(failure, exc, hint))
    finally:
        lock.release()
    return TrainingRun(info, progress.lines, promotion)


def prepare_first_model() -> None:
    """Train and save a first model, with visible progress, when the models folder has none.

    One session does the work; others arriving meanwhile wait for it. Stops the page with an
    explanation when it cannot be done.
    """
    run_training(
        "Preparing the first model...",
        done="Prepared",
        failure="Preparing a model",
        intro="No saved model yet, so the app is preparing one: MNIST is loaded (downloaded "
        f"once if needed) and up to {FIRST_RUN_LIMIT:,} of its training digits, the same "
        "share of each digit, are used for training. This happens once and takes a minute or "
        "two; the model becomes the default for everyone.",
        hint="Set `DIGITCORE_DATA` to a folder of the MNIST files, or put a saved model into "
        "the models folder, then reload.",
        wait="Another visitor's session is preparing the first model; waiting for it...",
        still_needed=lambda: not store.list_models(),  # else prepared by the session waited for
        limit=FIRST_RUN_LIMIT,
    )


def pick_model(models: list[store.ModelInfo], default: store.ModelInfo) -> store.ModelInfo:
    """The sidebar picker: the default model (everyone's) or any saved one, for this session."""
    paths = [str(info.path) for info in models]
    current = st.session_state.get("model_path", DEFAULT)
    if current not in paths:
        current = DEFAULT  # never chosen, or deleted meanwhile
    labels = {DEFAULT: f"Default for everyone ({default.summary})"}
    labels.update({str(info.path): info.summary for info in models})
    options = [DEFAULT, *paths]
    choice = st.sidebar.selectbox(
        "Active model",
        options,
        index=options.index(current),
        format_func=labels.__getitem__,
        help="Everyone uses the default model unless they pick another one here; your choice "
        "is for you only, for this visit.",
    )
    st.session_state.model_path = choice
    return default if choice == DEFAULT else models[paths.index(choice)]


def chosen_model() -> store.ModelInfo:
    """The saved model this session uses (picked in the sidebar); prepares one on first run.

    Stops the page with an explanation when there is none and none can be prepared.
    """
    try:
        models = store.list_models()
        if not models:
            prepare_first_model()
            models = store.list_models()
        default = registry.default_model()
    except OSError as exc:
        stop_with(f"The models folder `{settings.models_dir()}` cannot be read: {exc}")
    if not models or default is None:
        stop_with(f"No model could be found or prepared in `{settings.models_dir()}`.")
    info = pick_model(models, default)
    st.sidebar.caption(f"Trained on {_render.training_words(info.metadata)}.")
    return info


@st.cache_data(show_spinner="Counting the digits available (downloaded once if needed)...")
def available_digits(split: str, data_dir: str | None) -> int:
    """How many digits of the MNIST split ``"train"`` or ``"test"`` can be used here.

    ``data_dir`` (:func:`digitcore.settings.data_dir`) keys the cache to where they come from.
    """
    return len(data.load_mnist(split, data_dir))


def offered_sizes(sizes: list[int], available: int) -> list[int]:
    """The sizes a slider offers: those below ``available``, then ``available`` itself (all).

    >>> offered_sizes([1_000, 2_000, 5_000, 10_000], 5_000)
    [1000, 2000, 5000]
    """
    return [size for size in sizes if size < available] + [available]


def nearest(sizes: list[int], wanted: int) -> int:
    """The size in ``sizes`` closest to ``wanted`` (a slider's starting value)."""
    return min(sizes, key=lambda size: abs(size - wanted))


def active_model() -> tuple[Any, store.ModelInfo]:
    """The model this session uses, loaded once for all sessions, and what is known about it.

    Stops the page with an explanation when it cannot be loaded.
    """
    info = chosen_model()
    try:
        model, _ = get_model(str(info.path), str(info.metadata.get("sha256")))
    except ModelError as exc:
        stop_with(
            f"The model {info.name} cannot be used: {exc}. Pick another model in the sidebar, "
            "or train a new one on the Train page."
        )
    except Exception as exc:  # explain, never show a traceback
        stop_with(internal_problem(f"Loading the model {info.name}", exc))
    return model, info
