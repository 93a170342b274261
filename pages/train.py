"""Train: fit a new ensemble with your hyperparameters, save it, and switch between saved models."""

from __future__ import annotations

from typing import Any

import streamlit as st

from digitcore import ensemble, settings, store, training
from pages import _render, _shared

SIZES = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000]


def param_input(member: str, name: str, default: Any) -> Any:
    """A widget fitting a hyperparameter's default: a checkbox, a number or free text."""
    key = f"param-{member}-{name}"
    if isinstance(default, bool):
        return st.checkbox(name, value=default, key=key)
    if isinstance(default, int):
        return int(st.number_input(name, min_value=1, value=default, step=1, key=key))
    if isinstance(default, float):
        return float(st.number_input(name, min_value=1e-6, value=default, format="%g", key=key))
    return training.parse_param(
        st.text_input(name, value="None" if default is None else str(default), key=key)
    )


def params_form() -> tuple[dict[str, dict[str, Any]], int] | None:
    """The hyperparameters of every member and the training-set size; None until submitted."""
    with st.form("train"):
        params = {}
        members = ensemble.DEFAULT_PARAMS.items()
        for column, (member, defaults) in zip(st.columns(len(members)), members, strict=True):
            with column:
                st.markdown(f"**{_render.label(member)}**")
                params[member] = {
                    name: param_input(member, name, v) for name, v in defaults.items()
                }
        limit = st.select_slider(
            "Training digits",
            SIZES,
            value=10_000,
            help="More digits read better but take longer and need more memory (60,000 is all).",
        )
        submitted = st.form_submit_button("Train", type="primary", icon=":material/model_training:")
    return (params, limit) if submitted else None


_shared.ensure_routed()
st.title("Train a model")
st.caption(
    f"Choose the {_render.in_words(len(ensemble.MEMBERS))} models' hyperparameters and how many "
    "MNIST digits to train on. The new model is saved to the models folder and becomes the "
    "newest one."
)
_shared.chosen_model()

asked = params_form()
if asked is not None:
    params, limit = asked
    run = _shared.run_training(f"Training on {limit:,} digits...", params=params, limit=limit)
    st.session_state.model_path = _shared.NEWEST
    st.session_state.trained = run
    st.rerun()  # the sidebar and the list of saved models now show the new model

if "trained" in st.session_state:
    run = st.session_state.pop("trained")  # said once, right after training
    _render.show_training_result(run.info, run.log)

st.subheader("Saved models")
st.caption(f"In `{settings.models_dir()}`; pick the one you use in the sidebar.")
_render.show_models(store.list_models())
