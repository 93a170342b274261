"""Evaluate: how well each model and the ensemble read test digits they never trained on."""

from __future__ import annotations

from typing import Any

import streamlit as st

from digitcore import data, evaluation, learning, settings
from digitcore.errors import DataError
from pages import _learning, _render, _shared

SIZES = [1_000, 2_000, 5_000, 10_000]
#: The data sets to score on.
MNIST, DRAWINGS = "MNIST test set", "Saved drawings"
#: Seed of the stratified subset of the test digits, so every visitor scores the same ones.
SEED = 0


@st.cache_data(show_spinner="Loading the test digits...", max_entries=4)
def test_digits(n: int, data_dir: str | None) -> tuple[data.Dataset, int]:
    """``n`` test digits (a stratified subset, seeded, or all of them) and how many there are."""
    test = data.load_mnist("test", data_dir)
    return (test if n >= len(test) else test.subset(n, seed=SEED)), len(test)


@st.cache_data(show_spinner="Scoring the models on the test digits...", max_entries=8)
def score(
    model_path: str,
    sha256: str,
    digits_key: int | str,
    data_dir: str | None,
    _model: Any,
    _digits: data.Dataset,
) -> dict[str, Any]:
    """Evaluate once per model and test digits, for all sessions (the model is keyed by hash,
    MNIST test digits by their number, saved drawings by their SHA-256)."""
    report = evaluation.evaluate(_model, _digits.images, _digits.labels)
    return {"report": report, "effect": evaluation.vote_effect(report, _digits.labels)}


def mnist_digits() -> tuple[data.Dataset, int, str | None]:
    """The MNIST test digits chosen with the slider, how many there are, and their folder."""
    source = str(settings.data_dir()) if settings.data_dir() else None
    try:
        available = _shared.available_digits("test", source)
        sizes = _shared.offered_sizes(SIZES, available)
        n = st.select_slider(
            "Test digits",
            sizes,
            value=_shared.nearest(sizes, 2_000),
            format_func=lambda size: f"{size:,} (all)" if size == available else f"{size:,}",
            help="More digits give a surer figure and take longer, once.",
        )
        digits, of = test_digits(n, source)
    except Exception as exc:  # no data: explain and stop
        _shared.stop_with(_shared.explain("Loading the test digits", exc))
    return digits, of, source


def drawing_digits(metadata: dict[str, Any]) -> tuple[data.Dataset, int]:
    """The saved drawings this model did not train on, and how many are saved in all."""
    try:
        everything = _learning.saved_drawings()
    except Exception as exc:  # a database that cannot be opened: explain and stop
        _shared.stop_with(_shared.explain("Reading the saved drawings", exc))
    digits = learning.unseen(everything, metadata)
    if len(digits) == 0:
        _shared.stop_with(
            "No saved drawing to score this model on yet"
            + (" (it trained on all of them)" if len(everything) else "")
            + ". Correct or confirm readings on the Draw page to save some."
        )
    return digits, len(everything)


_shared.ensure_routed()
st.title("Evaluate")
st.caption(
    "Each model and the ensemble read test digits they never saw in training: MNIST's test set "
    "or the drawings people saved here. The results are computed once per model and kept."
)
model, info = _shared.active_model()
on = (
    st.segmented_control(
        "Score on",
        [MNIST, DRAWINGS],
        default=MNIST,
        key="evaluate-on",
        help="The MNIST test set, or the digits people drew in this app and confirmed or "
        "corrected (those this model did not train on).",
    )
    or MNIST
)
if on == DRAWINGS:
    digits, of = drawing_digits(info.metadata)
    key, source = digits.describe()["digits_sha256"], None
else:
    digits, of, source = mnist_digits()
    key = len(digits)
try:
    evaluation.check_unseen(info.metadata.get("training_data") or {}, digits)
except DataError as exc:
    _shared.stop_with(
        f"{info.name} is not scored here: {str(exc).rstrip('.')}. A model scored on digits it "
        "trained on looks better than it is. Pick another model in the sidebar, or give the "
        "app MNIST's test set."
    )
try:
    scored = score(str(info.path), str(info.metadata.get("sha256")), key, source, model, digits)
except Exception as exc:  # a model that cannot predict: explain and stop
    _shared.stop_with(_shared.explain("Scoring the test digits", exc))
report, effect = scored["report"], scored["effect"]
images, labels = digits.images, digits.labels
if on == DRAWINGS:
    st.caption(_learning.drawings_words(digits, of, info.metadata))
else:
    st.caption(_render.scored_digits_words(digits, of, info.metadata, seed=SEED))

st.subheader("Accuracy")
st.altair_chart(_render.accuracy_chart(report), width="stretch")

st.subheader("Confusion and per-digit scores")
st.caption("Counts of test digits; colour is the share of each true digit's row.")
_render.show_confusion(report)

st.subheader("Misread by the ensemble")
_render.show_misread(report, images, labels)

st.subheader("Where the models disagree")
_render.show_vote_effect(effect, report, images, labels)
