"""Evaluate: how well each model and the ensemble read the MNIST test digits, and where they fail."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from digitcore import data, evaluation
from pages import _shared

_shared.ensure_routed()

SIZES = [1_000, 2_000, 5_000, 10_000]
GALLERY = 24


@st.cache_data(show_spinner="Scoring the models on the test digits...", max_entries=8)
def score(model_path: str, sha256: str, n: int, _model) -> dict:
    """Evaluate once per model and test-set size, for all sessions (the model is keyed by path)."""
    test = data.load_mnist("test").head(n)
    report = evaluation.evaluate(_model, test.images, test.labels)
    return {"report": report, "images": test.images, "labels": test.labels, "source": test.source}


def accuracy_chart(report, names: dict[str, str]) -> alt.Chart:
    table = pd.DataFrame(
        {"model": [names[k] for k in report.accuracy], "accuracy": list(report.accuracy.values())}
    )
    low = max(0.0, float(table.accuracy.min()) - 0.05)
    bars = (
        alt.Chart(table)
        .mark_bar(clip=True)
        .encode(
            x=alt.X(
                "accuracy:Q",
                scale=alt.Scale(domain=[low, 1]),
                axis=alt.Axis(format="%"),
                title=None,
            ),
            y=alt.Y("model:N", sort=None, title=None, axis=alt.Axis(labelLimit=200)),
            color=alt.condition(
                alt.datum.model == "ensemble", alt.value("#3b5bdb"), alt.value("#91a7ff")
            ),
            tooltip=["model", alt.Tooltip("accuracy:Q", format=".2%")],
        )
    )
    labels = bars.mark_text(align="left", dx=4).encode(
        text=alt.Text("accuracy:Q", format=".2%"), color=alt.value("black")
    )
    return (bars + labels).properties(height=alt.Step(34))


def confusion_chart(confusion: np.ndarray) -> alt.Chart:
    true, predicted = np.indices(confusion.shape)
    rows = confusion.sum(axis=1, keepdims=True)
    table = pd.DataFrame(
        {
            "true": true.ravel(),
            "predicted": predicted.ravel(),
            "count": confusion.ravel(),
            "share of row": (confusion / np.maximum(rows, 1)).ravel(),
        }
    )
    base = alt.Chart(table).encode(
        x=alt.X("predicted:O", title="predicted"), y=alt.Y("true:O", title="true digit")
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share of row:Q", scale=alt.Scale(scheme="blues", type="sqrt"), legend=None
        ),
        tooltip=["true", "predicted", "count", alt.Tooltip("share of row:Q", format=".1%")],
    )
    counts = base.mark_text(fontSize=11).encode(
        text="count:Q",
        color=alt.condition(
            alt.datum["share of row"] > 0.5, alt.value("white"), alt.value("black")
        ),
    )
    return (cells + counts).properties(height=380)


def per_digit(confusion: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(evaluation.per_digit(confusion), index=pd.Index(range(10), name="digit"))


def gallery(images, captions) -> None:
    if len(images) == 0:
        st.caption("None.")
        return
    st.image([_shared.enlarge(image, 3) for image in images], caption=list(captions), width=84)


st.title("Evaluate")
st.caption(
    "Each model and the ensemble read MNIST test digits they never saw in training; "
    "the results are computed once per model and kept."
)
model, info = _shared.active_model()
n = st.select_slider("Test digits", SIZES, value=2_000, help="More digits take longer, once.")
try:
    scored = score(str(info.path), str(info.metadata.get("sha256")), n, model)
except Exception as exc:  # no data, or a model that cannot predict: explain and stop
    st.error(f"The test digits could not be scored: {exc}")
    st.stop()
report, labels, images = scored["report"], scored["labels"], scored["images"]
names = _shared.member_names()
st.caption(f"{report.n:,} test digits from {scored['source']}.")

st.subheader("Accuracy")
st.altair_chart(accuracy_chart(report, names), width="stretch")

st.subheader("Confusion and per-digit scores")
st.caption("Counts of test digits; colour is the share of each true digit's row.")
for tab, name in zip(st.tabs([names[k] for k in report.confusion]), report.confusion, strict=True):
    with tab:
        chart, table = st.columns([3, 2])
        chart.altair_chart(confusion_chart(report.confusion[name]), width="stretch")
        table.dataframe(
            per_digit(report.confusion[name]),
            column_config={
                "precision": st.column_config.NumberColumn(format="percent"),
                "recall": st.column_config.NumberColumn(format="percent"),
            },
        )

st.subheader("Misread by the ensemble")
wrong = np.flatnonzero(report.predictions["ensemble"] != labels)
st.caption(f"{len(wrong):,} of {report.n:,} test digits; the first {min(len(wrong), GALLERY)}:")
shown = wrong[:GALLERY]
gallery(
    images[shown],
    [f"true {labels[i]}, read {report.predictions['ensemble'][i]}" for i in shown],
)

st.subheader("Where the models disagree")
effect = evaluation.vote_effect(report, labels)
members = effect.members
st.write(
    f"The members disagree on **{len(effect.disagreed):,}** test digits "
    f"({len(effect.disagreed) / report.n:.1%}); the ensemble's vote is right on "
    f"{effect.vote_right:,} of them."
)
st.caption("Against each model, the vote fixes some of its mistakes and makes some new ones:")
st.dataframe(
    pd.DataFrame(
        {
            "its mistakes the vote fixes": [effect.fixed[m] for m in members],
            "new mistakes of the vote": [effect.broken[m] for m in members],
            "net digits gained": [effect.fixed[m] - effect.broken[m] for m in members],
        },
        index=[names[m] for m in members],
    )
)
pairs = pd.DataFrame(
    effect.agreement, index=[names[m] for m in members], columns=[names[m] for m in members]
)
st.caption("How often two members give the same answer:")
st.dataframe(pairs.style.format("{:.1%}"))
shown = effect.disagreed[:GALLERY]
gallery(
    images[shown],
    [
        f"true {labels[i]}: "
        + ", ".join(f"{name.upper()} {report.predictions[name][i]}" for name in members)
        for i in shown
    ],
)
