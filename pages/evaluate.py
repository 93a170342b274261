"""Evaluate: how well each model and the ensemble read the MNIST test digits, and where they fail."""

from __future__ import annotations

from typing import Any

import streamlit as st

from digitcore import data, evaluation
from pages import _render, _shared

SIZES = [1_000, 2_000, 5_000, 10_000]


@st.cache_data(show_spinner="Scoring the models on the test digits...", max_entries=8)
def score(model_path: str, sha256: str, n: int, _model: Any) -> dict[str, Any]:
    """Evaluate once per model and test-set size, for all sessions (the model is keyed by path)."""
    test = data.load_mnist("test").head(n)
    report = evaluation.evaluate(_model, test.images, test.labels)
    return {"report": report, "images": test.images, "labels": test.labels, "source": test.source}


_shared.ensure_routed()
st.title("Evaluate")
st.caption(
    "Each model and the ensemble read MNIST test digits they never saw in training; "
    "the results are computed once per model and kept."
)
model, info = _shared.active_model()
n = st.select_slider("Test digits", SIZES, value=2_000, help="More digits take longer, once.")
try:
    scored = score(str(info.path), str(info.metadata.get("sha256")), n, model)
    effect = evaluation.vote_effect(scored["report"], scored["labels"])
except Exception as exc:  # no data, or a model that cannot predict: explain and stop
    _shared.stop_with(_shared.explain("Scoring the test digits", exc))
report, images, labels = scored["report"], scored["images"], scored["labels"]
st.caption(f"{report.n:,} test digits from {scored['source']}.")

st.subheader("Accuracy")
st.altair_chart(_render.accuracy_chart(report), width="stretch")

st.subheader("Confusion and per-digit scores")
st.caption("Counts of test digits; colour is the share of each true digit's row.")
_render.show_confusion(report)

st.subheader("Misread by the ensemble")
_render.show_misread(report, images, labels)

st.subheader("Where the models disagree")
_render.show_vote_effect(effect, report, images, labels)
