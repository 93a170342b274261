"""The Train page's search section: a cross-validated hyperparameter search on Dask (the
cluster ``DIGITCORE_DASK_SCHEDULER`` names, else a small one on this machine), with progress,
the ranked table, and training the best candidate."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from digitcore import data, grids, search, settings
from pages import _shared

#: Digits a search may use: on this machine only a few (it shares two cores with the app).
LOCAL_SIZES = [500, 1_000, 2_000]
CLUSTER_SIZES = [1_000, 2_000, 5_000, 10_000, 20_000, 60_000]
#: Digits the best candidate is trained on.
TRAIN_SIZES = [5_000, 10_000, 20_000, 30_000, 60_000]


def ranked_frame(results: list[dict[str, Any]]) -> pd.DataFrame:
    """The candidates best first: their parameters (as the train flags name them), the mean
    and spread (standard deviation across folds) of the CV score, and the mean fit time."""
    rows = [
        {
            **row["params"],
            "mean score": row["mean_score"],
            "spread": row["std_score"],
            "fit time (s)": row["fit_time"],
        }
        for row in results
    ]
    return pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="rank"))


def _search_form(scheduler: str | None, available: int) -> tuple[dict, int, int] | None:
    """The grid (JSON), the number of digits and of folds; None until submitted."""
    sizes = _shared.offered_sizes(CLUSTER_SIZES if scheduler else LOCAL_SIZES, available)
    with st.form("search"):
        grid_text = st.text_area(
            "Values to try",
            value=json.dumps(grids.DEFAULT_GRID),
            help="A JSON object: each key a hyperparameter named as the `train` command's "
            "flags (`svc-C`, `knn-n-neighbors`, `front-gamma-scale`, ...), each value a list "
            "of values to try. Every combination is tried.",
        )
        left, right = st.columns(2)
        size = left.select_slider(
            "Digits to search on",
            sizes,
            value=_shared.nearest(sizes, 10_000 if scheduler else 1_000),
            key="search-size",
        )
        cv = right.select_slider("Folds", [2, 3, 4, 5], value=3)
        submitted = st.form_submit_button("Search", icon=":material/manage_search:")
    if not submitted:
        return None
    try:
        grid = json.loads(grid_text)
        grids.sklearn_grid(grid)
    except ValueError as exc:  # bad JSON, or a ParamError naming what was expected
        st.error(_shared.explain("Reading the values to try", exc))
        return None
    return grid, size, cv


def _run(scheduler: str | None, grid: dict, size: int, cv: int) -> dict[str, Any] | None:
    """Run the search under a status box with a progress bar; the results as JSON."""
    lock = _shared.training_lock()
    if not scheduler and not lock.acquire(blocking=False):  # local work shares the CPU
        st.warning("Another visitor is training a model right now; try again in a few minutes.")
        return None
    try:
        with st.status(f"Searching on {size:,} digits...", expanded=True) as status:
            progress = _shared.ProgressLog(st.progress(0.0, text="Starting the Dask cluster"))
            with search.cluster(scheduler) as client:
                st.caption(f"Dask dashboard: {client.dashboard_link}")
                found = data.load_mnist("train", settings.data_dir()).subset(size, seed=0)
                result = search.run_search(
                    found, grid=grid, cv=cv, client=client, progress=progress
                )
            status.update(label=f"Searched in {result.seconds:.0f} s", state="complete")
    except Exception as exc:  # an unreachable scheduler, no data: explain, no traceback
        st.error(_shared.explain("The search", exc))
        return None
    finally:
        if not scheduler:
            lock.release()
    return result.to_json()


def search_section(available: int) -> None:
    """The search: the form, the ranked results of the last search, and training the best."""
    st.subheader("Search hyperparameters")
    scheduler = settings.dask_scheduler()
    if scheduler:
        st.caption(
            f"Tries every combination by cross-validation on the Dask cluster at `{scheduler}`."
        )
    else:
        st.caption(
            "Tries every combination by cross-validation, here on this machine (a local Dask "
            "cluster), so it is kept to a few digits. Set `DIGITCORE_DASK_SCHEDULER` to search "
            "on a cluster."
        )
    asked = _search_form(scheduler, available)
    if asked is not None:
        result = _run(scheduler, *asked)
        if result is not None:
            st.session_state.search_result = result
    result = st.session_state.get("search_result")
    if result is None:
        return
    st.dataframe(ranked_frame(result["results"]))
    best = result["best_params"]
    st.caption(f"Best: `{json.dumps(best)}`, mean score {result['best_score']:.2%}.")
    sizes = _shared.offered_sizes(TRAIN_SIZES, available)
    with st.form("train-best"):
        size = st.select_slider("Train the best on", sizes, value=_shared.nearest(sizes, 10_000))
        go = st.form_submit_button("Train the best", type="primary")
    if go:
        run = _shared.run_training(
            f"Training the best on {size:,} digits...",
            params=grids.params_from_flags(best),
            limit=None if size >= available else size,
        )
        st.session_state.model_path = str(run.info.path)  # this visitor's model from now on
        st.session_state.trained = run
        st.rerun()
