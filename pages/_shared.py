"""What the pages share: the active model (one copy for all sessions), the model picker and the
first-run preparation of a model when none is saved.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import streamlit as st
from numpy.typing import NDArray

from digitcore import ensemble, store, training
from digitcore.recognize import recognize

#: Training-set size of the model the app prepares itself on a machine with none saved.
FIRST_RUN_LIMIT = 20_000
#: The picker's choice that follows the newest saved model.
NEWEST = "newest"


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


def model_label(info: store.ModelInfo) -> str:
    """One line for people: when, on how many digits, how good."""
    meta = info.metadata
    created = str(meta.get("created", "?")).replace("T", " ")[:16]
    score = meta.get("scores", {}).get("ensemble")
    score_text = f" · ensemble {score:.1%}" if isinstance(score, float) else ""
    return f"{created} · {count(meta.get('n_train'))} digits{score_text}"


def count(value: Any) -> str:
    """A number with thousands separators, or "?" when unknown."""
    return f"{value:,}" if isinstance(value, int) else "?"


def progress_reporter(bar: Any, log: Any | None = None):
    """A ``progress(fraction, message)`` callback that moves ``bar`` and writes each new message
    (one line per stage: download, each model fitted with its time, scoring, saving) to ``log``."""
    written: list[str] = []

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)
        if log is not None and message not in written[-1:]:
            written.append(message)
            log.write(message)

    report.lines = written
    return report


def prepare_first_model() -> None:
    """Train and save a first model, with visible progress, when the models folder has none.

    One session does the work; others arriving meanwhile wait for it. Stops the page with an
    explanation when it cannot be done.
    """
    lock = training_lock()
    if not lock.acquire(blocking=False):
        with st.spinner(
            "Another visitor's session is preparing the first model; waiting for it..."
        ):
            lock.acquire()
    try:
        if store.latest() is not None:  # prepared by the session we waited for
            return
        st.info(
            f"No saved model in `{store.models_dir()}` yet, so the app is preparing one: MNIST "
            f"is loaded (downloaded once if needed) and {FIRST_RUN_LIMIT:,} digits are used "
            "for training. This happens once and takes a minute or two."
        )
        with st.status("Preparing the first model...", expanded=True) as status:
            bar = st.progress(0.0, text="Starting")
            info = training.train_model(limit=FIRST_RUN_LIMIT, progress=progress_reporter(bar, st))
            status.update(label=f"Prepared {info.name}", state="complete", expanded=False)
    except Exception as exc:  # any failure is explained on the page, never as a traceback
        st.error(
            f"The app could not prepare a model: {exc}. Set `DIGITCORE_DATA` to a folder of the "
            "MNIST files, or put a saved model into the models folder, then reload."
        )
        st.stop()
    finally:
        lock.release()


def pick_model(models: list[store.ModelInfo]) -> store.ModelInfo:
    """The sidebar picker: newest model (the default) or any saved one; the choice is per session."""
    paths = [str(info.path) for info in models]
    current = st.session_state.get("model_path", NEWEST)
    if current not in paths:
        current = NEWEST
    labels = {NEWEST: f"Newest ({model_label(models[0])})"}
    labels.update({str(info.path): model_label(info) for info in models})
    options = [NEWEST, *paths]
    choice = st.sidebar.selectbox(
        "Active model",
        options,
        index=options.index(current),
        format_func=labels.__getitem__,
        help="The newest saved model is used unless you pick another one (for you only).",
    )
    st.session_state.model_path = choice
    return models[0] if choice == NEWEST else models[paths.index(choice)]


def chosen_model() -> store.ModelInfo:
    """The saved model this session uses (picked in the sidebar); prepares one on first run.

    Stops the page with an explanation when there is none and none can be prepared.
    """
    try:
        models = store.list_models()
        if not models:
            prepare_first_model()
            models = store.list_models()
    except OSError as exc:
        st.error(f"The models folder `{store.models_dir()}` cannot be read: {exc}")
        st.stop()
    if not models:
        st.error(f"No model could be found or prepared in `{store.models_dir()}`.")
        st.stop()
    info = pick_model(models)
    meta = info.metadata
    st.sidebar.caption(
        f"Trained on {count(meta.get('n_train'))} digits from {meta.get('data_source', '?')}."
    )
    return info


def active_model() -> tuple[Any, store.ModelInfo]:
    """The model this session uses, loaded once for all sessions, and what is known about it.

    Stops the page with an explanation when it cannot be loaded.
    """
    info = chosen_model()
    try:
        model, _ = get_model(str(info.path), str(info.metadata.get("sha256")))
    except store.ModelError as exc:
        st.error(
            f"The model {info.name} cannot be used: {exc}. Pick another model in the sidebar, "
            "or train a new one on the Train page."
        )
        st.stop()
    return model, info


def member_names() -> dict[str, str]:
    """Display names of the members and of the ensemble, by name."""
    return {**ensemble.MEMBERS, "ensemble": "ensemble"}


def enlarge(image: NDArray[np.uint8], factor: int = 4) -> NDArray[np.uint8]:
    """A 28x28 digit scaled up by whole pixels, so the browser shows it sharp, not blurred."""
    return np.kron(np.asarray(image, dtype=np.uint8), np.ones((factor, factor), dtype=np.uint8))
