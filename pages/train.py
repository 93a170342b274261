"""Train: fit a new ensemble with your hyperparameters, and manage the saved models."""

from __future__ import annotations

from typing import Any

import streamlit as st

from digitcore import ensemble, learning, registry, settings, store, training
from digitcore.errors import ModelError
from pages import _learning, _render, _search, _shared

SIZES = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000]


def param_input(member: str, name: str, default: Any) -> Any:
    """A widget fitting a hyperparameter's default (a checkbox, a number or free text), with
    what the hyperparameter does in words as its help."""
    key = f"param-{member}-{name}"
    help_text = ensemble.PARAM_HELP.get(member, {}).get(name)
    if isinstance(default, bool):
        return st.checkbox(name, value=default, key=key, help=help_text)
    if isinstance(default, int):
        return int(
            st.number_input(name, min_value=1, value=default, step=1, key=key, help=help_text)
        )
    if isinstance(default, float):
        return float(
            st.number_input(
                name, min_value=1e-6, value=default, format="%g", key=key, help=help_text
            )
        )
    return training.parse_param(
        st.text_input(
            name, value="None" if default is None else str(default), key=key, help=help_text
        )
    )


def params_form(
    available: int, saved: int
) -> tuple[dict[str, dict[str, Any]], int | None, int, bool] | None:
    """The hyperparameters of every member, the training-set size (None for all ``available``
    digits), the number of digits and whether to add the ``saved`` drawings; None until
    submitted."""
    sizes = _shared.offered_sizes(SIZES, available)
    with st.form("train"):
        params = {}
        members = ensemble.DEFAULT_PARAMS.items()
        for column, (member, defaults) in zip(st.columns(len(members)), members, strict=True):
            with column:
                st.markdown(f"**{_render.label(member)}**")
                params[member] = {
                    name: param_input(member, name, v) for name, v in defaults.items()
                }
        size = st.select_slider(
            "Training digits",
            sizes,
            value=_shared.nearest(sizes, 10_000),
            format_func=lambda n: f"{n:,} (all)" if n == available else f"{n:,}",
            help=f"{available:,} training digits are available here. A smaller number is a "
            "random subset with the same share of each digit. More digits read better but take "
            "longer and need more memory.",
        )
        with_drawings = st.checkbox(
            f"Add the {saved:,} saved drawings" if saved else "Add the saved drawings (none yet)",
            value=False,
            disabled=not saved,
            key="train-drawings",
            help="Digits people drew here and confirmed or corrected join the MNIST digits, "
            f"each with {learning.COPIES} distorted copies. A fixed "
            f"{learning.HELD_BACK:.0%} of them (chosen by their content, always the same) is "
            "held back to show whether the new model reads them better than the default "
            "model, beside its MNIST test accuracy.",
        )
        submitted = st.form_submit_button("Train", type="primary", icon=":material/model_training:")
    if not submitted:
        return None
    return params, (None if size >= available else size), size, with_drawings


def manage_models(models: list[store.ModelInfo], default: store.ModelInfo) -> None:
    """Pick a saved model to make the default for everyone (both scores shown) or to delete."""
    names = [info.name for info in models]
    picked = st.selectbox(
        "Saved model",
        names,
        format_func=lambda name: name + (" (default for everyone)" if name == default.name else ""),
        key="manage-model",
    )
    info = models[names.index(picked)]
    if info.path == default.path:
        st.caption(f"{info.name} is the default for everyone: {registry.score_words(info)}.")
    else:
        st.caption(
            f"This model: {registry.score_words(info)}. The default for everyone "
            f"({default.name}): {registry.score_words(default)}."
        )
    make, drop = st.columns(2)
    if make.button(
        "Make this the default for everyone",
        disabled=info.path == default.path,
        help="Every visitor who has not picked a model in the sidebar then uses it.",
    ):
        registry.set_default(info)
        st.session_state.models_said = (
            "success",
            f"{info.name} is now the default for everyone: {registry.score_words(info)}; the "
            f"previous default {default.name}: {registry.score_words(default)}.",
        )
        st.rerun()
    if drop.button("Delete this model", help="Removes its files for everyone."):
        try:
            registry.delete(info)
        except ModelError as exc:
            st.session_state.models_said = ("error", f"Not deleted: {exc}.")
        else:
            st.session_state.models_said = ("success", f"Deleted {info.name}.")
        st.rerun()


_shared.ensure_routed()
st.title("Train a model")
st.caption(
    f"Choose the {_render.in_words(len(ensemble.MEMBERS))} models' hyperparameters and how many "
    "MNIST digits to train on. The new model is yours at once; it becomes the default for "
    "everyone only if it reads at least as well as the current default on the same unseen "
    "test digits."
)
_shared.chosen_model()

try:
    data_dir = settings.data_dir()
    available = _shared.available_digits("train", str(data_dir) if data_dir else None)
except Exception as exc:  # no training data: say so, the saved models below still work
    st.error(_shared.explain("Finding the training digits", exc))
    available = None
try:
    saved = _learning.saved_count()
except Exception as exc:  # a database that cannot be opened: train on MNIST alone
    st.warning(_shared.explain("Counting the saved drawings", exc))
    saved = 0
asked = params_form(available, saved) if available else None
if asked is not None:
    params, limit, size, with_drawings = asked
    extra = _learning.training_extra() if with_drawings else {}
    run = _shared.run_training(
        f"Training on {size:,} digits{' and the saved drawings' if extra else ''}...",
        params=params,
        limit=limit,
        **extra,
    )
    st.session_state.model_path = str(run.info.path)  # this visitor's model from now on
    st.session_state.trained = run
    st.rerun()  # the sidebar and the list of saved models now show the new model

if "trained" in st.session_state:
    run = st.session_state.pop("trained")  # said once, right after training
    _render.show_training_result(run.info, run.log, run.promotion)
    _learning.show_before_after(run.info.metadata)

if available:
    _search.search_section(available)  # a cross-validated search on Dask: pages/_search.py

st.subheader("Saved models")
said = st.session_state.pop("models_said", None)
if said is not None:
    (st.success if said[0] == "success" else st.error)(said[1])
models, default = store.list_models(), registry.default_model()
if default is not None:
    _render.show_models(models, default)
    manage_models(models, default)
