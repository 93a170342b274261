"""Your drawings: the digits people confirmed or corrected, how well the model reads them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from digitcore import data, evaluation
from digitcore.errors import DataError
from pages import _correct, _render, _shared

#: Digits shown per page of the gallery.
GALLERY = 60


@st.cache_data(show_spinner="Scoring the model on your drawings...", max_entries=8)
def score(sha256: str, digits_sha256: str, _model: Any, _digits: data.Dataset) -> Any:
    """Evaluate once per model and set of drawings (both keyed by their hashes)."""
    return evaluation.evaluate(_model, _digits.images, _digits.labels)


def delete(ids: list[int]) -> None:
    st.session_state.deleted = _correct.open_drawings().delete(ids)


_shared.ensure_routed()
st.title("Your drawings")
st.caption(
    "Every digit confirmed or corrected on the Draw page (or added with `python -m digitcore "
    "drawings add`), and how well the current model reads them."
)
model, info = _shared.active_model()
try:
    store = _correct.open_drawings()
    counts = store.counts_by_digit()
except Exception as exc:  # a database that cannot be opened: explain and stop
    _shared.stop_with(_shared.explain("Opening the drawings database", exc))
total = sum(counts.values())
if deleted := st.session_state.pop("deleted", None):
    st.success(f"Deleted {deleted} digit(s).")
if total == 0:
    st.info(
        "No drawings saved yet. On the Draw page, read a digit, then confirm it or type the "
        "right digits and save."
    )
    st.stop()

st.subheader(f"{total:,} saved digit{'' if total == 1 else 's'}")
st.bar_chart(
    pd.DataFrame({"digit": [str(d) for d in counts], "saved": list(counts.values())}),
    x="digit",
    y="saved",
    height=200,
)

st.subheader("How well the model reads them")
drawn = store.dataset()
try:
    evaluation.check_unseen(info.metadata.get("training_data") or {}, drawn)
    report = score(
        str(info.metadata.get("sha256")),
        data.digits_sha256(drawn.images, drawn.labels),
        model,
        drawn,
    )
except DataError as exc:
    st.warning(f"{info.name} is not scored here: {exc}.")
else:
    st.caption(f"{info.name} on all {total:,} saved digits.")
    st.altair_chart(_render.accuracy_chart(report), width="stretch")
    _render.show_confusion(report)

st.subheader("Gallery")
left, right = st.columns(2)
digit = left.selectbox("Digit", ["All", *range(10)], key="gallery-digit")
wrong = right.toggle("Only the ones the model got wrong", key="gallery-wrong")
chosen = {"digit": None if digit == "All" else digit, "wrong": True if wrong else None}
shown = store.count_where(**chosen)
pages = max(1, -(-shown // GALLERY))
page = st.number_input("Page", 1, pages, 1, key="gallery-page") if pages > 1 else 1
records = store.list(**chosen, limit=GALLERY, offset=(page - 1) * GALLERY)
st.caption(f"{shown:,} digit(s); newest first.")
_render.show_gallery(
    [r.image for r in records],
    [f"#{r.id} · {r.label}" + (f" (read {r.read})" if r.wrong else "") for r in records],
)
if records:
    with st.form("delete-form", border=False):
        doomed = st.multiselect(
            "Delete digits",
            [r.id for r in records],
            format_func=lambda i: f"#{i}",
            help="For a drawing saved by mistake, or with a wrong label.",
        )
        if st.form_submit_button("Delete", icon=":material/delete:") and doomed:
            delete(doomed)
            st.rerun()
