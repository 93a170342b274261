"""How the pages show things: charts, tables, galleries and sentences built from results.

Every function here takes results that ``digitcore`` computed and only formats them, so a page
reads as title, widgets, one call into ``digitcore``, then these. Functions that return a chart
or a table do not touch the page (tests call them directly); the ``show_*`` ones write to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from numpy.typing import NDArray

from digitcore import ensemble, evaluation, registry, store
from digitcore.data import Dataset
from digitcore.recognize import Reading

#: Words for small counts: a reading's caption holds no figures but the number read.
NUMBER_WORDS = (
    "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
)  # fmt: skip
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
ENSEMBLE = "ensemble"
#: Images shown in a gallery at most.
GALLERY = 24


def label(name: str) -> str:
    """The display name of a member (``"knn"`` -> ``"k-nearest neighbours"``), of a group of
    hyperparameters (``"front"``: the shared front end) or the ensemble.

    A name the recipe does not know (a model saved by another version) is shown as it is.
    """
    return ensemble.GROUPS.get(name, name)


def count(value: Any) -> str:
    """A number with thousands separators, or "?" when unknown."""
    return f"{value:,}" if isinstance(value, int) else "?"


def in_words(n: int) -> str:
    """A small count in words (``3`` -> ``"three"``); ``"many"`` past twelve."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else "many"


def models_phrase(names: Sequence[str]) -> str:
    """The members by display name, counted in words: ``"Three models (SVC, ...)"``."""
    shown = ", ".join(label(name) for name in names)
    noun = "model" if len(names) == 1 else "models"
    return f"{in_words(len(names)).capitalize()} {noun} ({shown})"


def enlarge(image: NDArray[np.uint8], factor: int = 4) -> NDArray[np.uint8]:
    """A 28x28 digit scaled up by whole pixels, so the browser shows it sharp, not blurred."""
    return np.kron(np.asarray(image, dtype=np.uint8), np.ones((factor, factor), dtype=np.uint8))


# --- Draw: one reading -------------------------------------------------------------------------


def agreement_words(agreement: int, members: int) -> str:
    """How many of ``members`` voted for the answer, in words, e.g. "two of three models agree"."""
    if members == 1:
        return "one model voted"
    if agreement >= members:
        return "both models agree" if members == 2 else f"all {in_words(members)} models agree"
    if agreement <= 1:
        return "the models disagree"
    return f"{in_words(agreement)} of {in_words(members)} models agree"


def describe(reading: Reading) -> str:
    """How much the models agree, in words (no figures: the number must be the only digits).

    Worded from each digit's ``agreement`` and number of votes, so any number of members works.
    """
    digits = reading.digits
    if len(digits) == 1:
        return agreement_words(digits[0].agreement, len(digits[0].votes)).capitalize() + "."
    split = [i for i, d in enumerate(digits) if not d.unanimous]
    if not split:
        members = len(digits[0].votes)
        every = "both models" if members == 2 else f"all {in_words(members)} models"
        return f"{every.capitalize()} agree on every digit."
    where = ", ".join(ORDINALS[i] if i < len(ORDINALS) else "a later" for i in split)
    return f"The models do not all agree on the {where} digit{'s' if len(split) > 1 else ''}."


def votes_table(reading: Reading) -> pd.DataFrame:
    """One row per digit read: each member's vote (with its confidence), the answer, agreement."""
    rows = []
    for position, d in enumerate(reading.digits, start=1):
        row: dict[str, Any] = {"digit": position}
        for member, vote in d.votes.items():
            confidence = d.confidence.get(member)
            row[label(member)] = (
                f"{vote} ({confidence:.0%})" if confidence is not None else str(vote)
            )
        row[ENSEMBLE] = str(d.digit)
        row["agreement"] = f"{d.agreement}/{len(d.votes)}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("digit")


#: The number read, large. A style rule, not HTML in the markdown: markdown with HTML needs the
#: browser's HTML-in-markdown code (rehype-raw), which it fetches and compiles only when the
#: first answer arrives; under load that held each page's first answer back by seconds.
NUMBER_STYLE = (
    "<style>.st-key-number-read p {font-size: 5.5rem; font-weight: 700; line-height: 1.1;"
    " margin: 0}</style>"
)


def show_number_read(reading: Reading) -> None:
    """The number read, large, and in words how much the models agree."""
    with st.container(key="number-read"):
        st.html(NUMBER_STYLE)
        st.markdown(reading.text)
    st.caption(describe(reading))


def show_votes(reading: Reading) -> None:
    """Each model's votes and the 28x28 images the models saw."""
    st.table(votes_table(reading))  # static HTML: nothing for the browser to load lazily
    st.image(
        [enlarge(d.image) for d in reading.digits],
        caption=[f"read as {d.digit}" for d in reading.digits],
        width=84,
    )
    st.caption(
        "What the models saw: each digit cut out, scaled and centred in 28x28 pixels as in MNIST."
    )


# --- Evaluate: a report on test digits ---------------------------------------------------------


def training_words(metadata: dict[str, Any]) -> str:
    """Which digits a model trained on, for people: "60,000 digits of the MNIST training set"."""
    trained = metadata.get("training_data")
    source = trained.get("source") if isinstance(trained, dict) else None
    digits = f"{count(metadata.get('n_train'))} digits"
    # Older metadata named a folder on the machine that trained it: never shown.
    return f"{digits} of the {source}" if source else f"{digits}, source not recorded"


def scored_digits_words(digits: Dataset, of: int, metadata: dict[str, Any], *, seed: int) -> str:
    """Which test digits are scored (all ``of``, or a seeded stratified subset) and that the
    model never trained on them, in words."""
    if len(digits) >= of:
        chosen = f"all {of:,} digits of the {digits.source}"
    else:
        chosen = (
            f"{len(digits):,} of the {of:,} digits of the {digits.source}: a random subset "
            f"with the same share of each digit (seed {seed}), the same on every visit"
        )
    return (
        f"Scored on {chosen}. None of them is among the digits this model trained on: "
        f"{training_words(metadata)}."
    )


def accuracy_chart(report: evaluation.Report) -> alt.Chart:
    """Horizontal bars of each model's accuracy, the ensemble's in a darker colour."""
    table = pd.DataFrame(
        {"model": [label(k) for k in report.accuracy], "accuracy": list(report.accuracy.values())}
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
                alt.datum.model == ENSEMBLE, alt.value("#3b5bdb"), alt.value("#91a7ff")
            ),
            tooltip=["model", alt.Tooltip("accuracy:Q", format=".2%")],
        )
    )
    labels = bars.mark_text(align="left", dx=4).encode(
        text=alt.Text("accuracy:Q", format=".2%"), color=alt.value("black")
    )
    return (bars + labels).properties(height=alt.Step(34))


def confusion_chart(confusion: NDArray[np.integer]) -> alt.Chart:
    """A heatmap of a 10x10 confusion matrix with counts; colour is the share of its row."""
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


def per_digit_table(confusion: NDArray[np.integer]) -> pd.DataFrame:
    """Precision, recall and number of test digits for each digit 0-9."""
    return pd.DataFrame(evaluation.per_digit(confusion), index=pd.Index(range(10), name="digit"))


def show_confusion(report: evaluation.Report) -> None:
    """One tab per model: its confusion heatmap beside its per-digit scores."""
    names = list(report.confusion)
    for tab, name in zip(st.tabs([label(k) for k in names]), names, strict=True):
        with tab:
            chart, table = st.columns([3, 2])
            chart.altair_chart(confusion_chart(report.confusion[name]), width="stretch")
            table.dataframe(
                per_digit_table(report.confusion[name]),
                column_config={
                    "precision": st.column_config.NumberColumn(format="percent"),
                    "recall": st.column_config.NumberColumn(format="percent"),
                },
            )


def show_gallery(images: NDArray[np.uint8], captions: Sequence[str]) -> None:
    """Digits side by side, enlarged, each with its caption; "None." when there are none."""
    if len(images) == 0:
        st.caption("None.")
        return
    st.image([enlarge(image, 3) for image in images], caption=list(captions), width=84)


def show_misread(
    report: evaluation.Report, images: NDArray[np.uint8], labels: NDArray[np.integer]
) -> None:
    """How many test digits the ensemble reads wrong, and the first of them."""
    answers = report.predictions[ENSEMBLE]
    wrong = np.flatnonzero(answers != labels)
    shown = wrong[:GALLERY]
    st.caption(f"{len(wrong):,} of {report.n:,} test digits; the first {len(shown)}:")
    show_gallery(images[shown], [f"true {labels[i]}, read {answers[i]}" for i in shown])


def vote_effect_table(effect: evaluation.VoteEffect) -> pd.DataFrame:
    """Against each member: its mistakes the vote fixes, the vote's new ones, and the net gain."""
    members = effect.members
    return pd.DataFrame(
        {
            "its mistakes the vote fixes": [effect.fixed[m] for m in members],
            "new mistakes of the vote": [effect.broken[m] for m in members],
            "net digits gained": [effect.fixed[m] - effect.broken[m] for m in members],
        },
        index=[label(m) for m in members],
    )


def pair_agreement_table(effect: evaluation.VoteEffect) -> pd.DataFrame:
    """Share of digits on which each two members give the same answer."""
    shown = [label(m) for m in effect.members]
    return pd.DataFrame(effect.agreement, index=shown, columns=shown)


def show_vote_effect(
    effect: evaluation.VoteEffect,
    report: evaluation.Report,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer],
) -> None:
    """Where the members disagree, what the vote gains against each, and those digits."""
    disagreed = len(effect.disagreed)
    st.write(
        f"The members disagree on **{disagreed:,}** test digits "
        f"({disagreed / max(report.n, 1):.1%}); the ensemble's vote is right on "
        f"{effect.vote_right:,} of them."
    )
    st.caption("Against each model, the vote fixes some of its mistakes and makes some new ones:")
    st.dataframe(vote_effect_table(effect))
    st.caption("How often two members give the same answer:")
    st.dataframe(pair_agreement_table(effect).style.format("{:.1%}"))
    shown = effect.disagreed[:GALLERY]
    show_gallery(
        images[shown],
        [
            f"true {labels[i]}: "
            + ", ".join(f"{name.upper()} {report.predictions[name][i]}" for name in effect.members)
            for i in shown
        ],
    )


# --- Train: saved models and a finished run ----------------------------------------------------


def models_table(
    models: Sequence[store.ModelInfo], default: store.ModelInfo | None = None
) -> pd.DataFrame:
    """One row per saved model: name, whether it is the default, when, on how many digits,
    scores and fitting time."""
    rows = []
    for info in models:
        meta = info.metadata
        row: dict[str, Any] = {
            "model": info.name,
            "default": "default for everyone"
            if default is not None and info.path == default.path
            else "",
            "created": str(meta.get("created", "")).replace("T", " "),
            "training digits": meta.get("n_train"),
        }
        row.update({label(k): v for k, v in meta.get("scores", {}).items()})
        row["fit seconds"] = sum(meta.get("fit_seconds", {}).values())
        rows.append(row)
    return pd.DataFrame(rows)


def show_models(models: Sequence[store.ModelInfo], default: store.ModelInfo | None = None) -> None:
    """The saved models table, the default marked, scores as percentages."""
    scores = {label(k) for info in models for k in info.metadata.get("scores", {})}
    st.dataframe(
        models_table(models, default),
        hide_index=True,
        column_config={name: st.column_config.NumberColumn(format="percent") for name in scores},
    )


def sentence(words: str) -> str:
    """``words`` as a sentence: capital first letter, one full stop."""
    return words[:1].upper() + words[1:].rstrip(".") + "."


def scores_table(metadata: dict[str, Any]) -> pd.DataFrame:
    """A trained model's test accuracy and fitting time, by model (from its metadata)."""
    scores = metadata.get("scores", {})
    fit = metadata.get("fit_seconds", {})
    return pd.DataFrame(
        {
            "test accuracy": list(scores.values()),
            "fit seconds": [f"{fit[k]:.1f}" if k in fit else "" for k in scores],
        },
        index=[label(k) for k in scores],
    )


def show_training_result(
    info: store.ModelInfo, log: Sequence[str], promotion: registry.Promotion
) -> None:
    """What a finished training run made: the model saved, whether it became the default for
    everyone (both scores, in words), its log, scores and times."""
    meta = info.metadata
    st.success(f"Saved **{info.name}** ({info.summary}); you are now using it.")
    (st.success if promotion.promoted else st.info)(sentence(promotion.reason))
    with st.expander("Training log", expanded=True):
        st.text("\n".join(log))
    st.dataframe(
        scores_table(meta),
        column_config={"test accuracy": st.column_config.NumberColumn(format="percent")},
    )
    seconds = meta.get("train_seconds")
    if isinstance(seconds, (int, float)):
        st.caption(f"The whole job (data, fitting, scoring, saving) took {seconds:.0f} s.")
