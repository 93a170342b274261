"""Train: fit a new ensemble with your hyperparameters, save it, and switch between saved models."""

import pandas as pd
import streamlit as st

from digitcore import ensemble, store, training
from pages import _shared

_shared.ensure_routed()

SIZES = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000]


def param_input(member: str, name: str, default):
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


def models_table(models: list[store.ModelInfo]) -> pd.DataFrame:
    names = _shared.member_names()
    rows = []
    for info in models:
        meta = info.metadata
        row = {
            "model": info.name,
            "created": str(meta.get("created", "")).replace("T", " "),
            "training digits": meta.get("n_train"),
        }
        row.update({names.get(k, k): v for k, v in meta.get("scores", {}).items()})
        row["fit seconds"] = sum(meta.get("fit_seconds", {}).values())
        rows.append(row)
    return pd.DataFrame(rows)


st.title("Train a model")
st.caption(
    "Choose the three models' hyperparameters and how many MNIST digits to train on. "
    "The new model is saved to the models folder and becomes the newest one."
)
_shared.chosen_model()

with st.form("train"):
    params = {}
    for column, (member, defaults) in zip(
        st.columns(len(ensemble.DEFAULT_PARAMS)), ensemble.DEFAULT_PARAMS.items(), strict=True
    ):
        with column:
            st.markdown(f"**{ensemble.MEMBERS[member]}**")
            params[member] = {name: param_input(member, name, v) for name, v in defaults.items()}
    limit = st.select_slider(
        "Training digits",
        SIZES,
        value=10_000,
        help="More digits read better but take longer and need more memory (60,000 is all).",
    )
    submitted = st.form_submit_button("Train", type="primary", icon=":material/model_training:")

if submitted:
    lock = _shared.training_lock()
    if not lock.acquire(blocking=False):
        st.warning("Another visitor is training a model right now; try again in a few minutes.")
        st.stop()
    try:
        with st.status(f"Training on {limit:,} digits...", expanded=True) as status:
            bar = st.progress(0.0, text="Starting")
            progress = _shared.progress_reporter(bar, st)
            info = training.train_model(params=params, limit=limit, progress=progress)
            status.update(label=f"Saved {info.name}", state="complete")
    except Exception as exc:  # bad hyperparameters, no data, a full disk: explain, no traceback
        st.error(f"Training failed: {exc}")
        st.stop()
    finally:
        lock.release()
    st.session_state.model_path = _shared.NEWEST
    st.session_state.trained = (info, progress.lines)
    st.rerun()  # the sidebar and the list of saved models now show the new model

if "trained" in st.session_state:
    info, lines = st.session_state.pop("trained")  # said once, right after training
    names = _shared.member_names()
    meta = info.metadata
    st.success(f"Saved **{info.name}**; it is now the newest model, used by everyone by default.")
    with st.expander("Training log", expanded=True):
        st.text("\n".join(lines))
    fit = meta.get("fit_seconds", {})
    st.dataframe(
        pd.DataFrame(
            {
                "test accuracy": [meta["scores"][k] for k in meta["scores"]],
                "fit seconds": [f"{fit[k]:.1f}" if k in fit else "" for k in meta["scores"]],
            },
            index=[names.get(k, k) for k in meta["scores"]],
        ),
        column_config={"test accuracy": st.column_config.NumberColumn(format="percent")},
    )
    st.caption(
        f"The whole job (data, fitting, scoring, saving) took {meta['train_seconds']:.0f} s."
    )

st.subheader("Saved models")
st.caption(f"In `{store.models_dir()}`; pick the one you use in the sidebar.")
st.dataframe(
    models_table(store.list_models()),
    hide_index=True,
    column_config={
        name: st.column_config.NumberColumn(format="percent")
        for name in _shared.member_names().values()
    },
)
