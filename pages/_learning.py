"""What the Train and Evaluate pages show about the saved drawings: the before/after table of a
model trained with them, and the drawings as a data set to score on."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from digitcore import drawings, learning, registry
from digitcore.drawing_rows import DrawingSet
from pages import _shared


def saved_drawings() -> DrawingSet:
    """Every saved drawing (read fresh: people save new ones all the time)."""
    return drawings.open_store().dataset()


def training_extra() -> dict[str, Any]:
    """What :func:`digitcore.training.train_model` needs to add the saved drawings: them, and
    the default model to compare with (the copy already loaded for all sessions)."""
    extra: dict[str, Any] = {"drawings": saved_drawings()}
    default = registry.default_model()
    if default is not None:
        extra["baseline"] = _shared.get_model(str(default.path), default.metadata["sha256"])
    return extra


def saved_count() -> int:
    """How many drawings are saved."""
    return drawings.open_store().count()


def before_after_table(metadata: dict[str, Any]) -> pd.DataFrame:
    """Ensemble accuracy before (the default model) and after, on the held-back drawings and
    on the MNIST test digits, one row each (:func:`digitcore.learning.before_after`)."""
    rows = learning.before_after(metadata)
    return pd.DataFrame(
        {
            "model": [f"{r['when']}: {r['model']}" for r in rows],
            "held-back drawings": [r["held_back"] for r in rows],
            "MNIST test": [r["mnist"] for r in rows],
        }
    ).set_index("model")


def show_before_after(metadata: dict[str, Any]) -> None:
    """The drawings a model trained on and the before/after table, under the training result."""
    said = metadata.get("drawings")
    if not said:
        return
    st.subheader("Learning from the saved drawings")
    st.caption(
        f"Trained on {said['trained']:,} saved drawings ({said['copies']} distorted copies of "
        f"each) besides MNIST. {said['held_back']:,} other saved drawings were held back (always "
        "the same ones, chosen by their content) to measure whether the new model reads such "
        "drawings better than the default model did, beside MNIST test accuracy."
    )
    if said["held_back"] < learning.FEW:
        st.warning(
            f"Only {said['held_back']} drawings are held back: one more or less read right "
            "moves the figure a lot. Save more drawings for a surer comparison."
        )
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        before_after_table(metadata),
        column_config={"held-back drawings": percent, "MNIST test": percent},
    )


def drawings_words(digits: DrawingSet, everything: int, metadata: dict[str, Any]) -> str:
    """Which saved drawings are scored, and that the model never trained on them."""
    left_out = everything - len(digits)
    also = f" ({left_out:,} it trained on are left out)" if left_out else ""
    return (
        f"Scored on {len(digits):,} of the {everything:,} saved drawings{also}: digits people "
        "drew in this app and confirmed or corrected. None of them is among the digits this "
        "model trained on."
    )
