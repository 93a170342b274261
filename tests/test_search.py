"""The search: on a LocalCluster and on a separately started scheduler with two workers, the
same ranking and scores as a plain sequential GridSearchCV on the same grid and folds; a lost
worker survived; an unreachable scheduler in one line; the CLI's outputs; train --params and
train --scheduler."""

from __future__ import annotations

import contextlib
import json
import signal
import time

import daskprocs
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from digitcore import data, ensemble, grids, search, settings
from digitcore.__main__ import main
from digitcore.errors import ClusterError, ParamError

#: Small and quick: 2 candidates x 2 folds, few landmarks and trees.
GRID = {"knn-n-neighbors": [1, 7], "front-n-components": [150], "rf-n-estimators": [10]}
CV, N_DIGITS = 2, 240


@pytest.fixture(scope="module")
def digits(mnist_dir):
    """The digits ``search --data DIR --limit N`` takes: a stratified subset, seed 0, of the
    training files as stored (offline the sample is stored sorted, unlike ``mnist_train``)."""
    return data.read_split(mnist_dir, "train").subset(N_DIGITS, seed=0)


@pytest.fixture(scope="module")
def sequential(digits):
    """A plain GridSearchCV, one fit after another in this process, on the same grid and folds."""
    reference = GridSearchCV(
        ensemble.build_ensemble(n_jobs=1), grids.sklearn_grid(GRID), cv=search.folds(CV)
    )
    return search.ranked_results(reference.fit(digits.images, digits.labels).cv_results_)


@pytest.fixture(scope="module")
def local_client():
    with search.cluster(n_workers=2) as client:
        yield client


def _scores(results):
    return [(row["params"], row["mean_score"], row["std_score"]) for row in results]


def test_search_on_a_local_cluster_ranks_and_scores_as_a_sequential_grid_search(
    digits, sequential, local_client
):
    seen = []
    found = search.run_search(
        digits, grid=GRID, cv=CV, client=local_client, progress=lambda f, m: seen.append(f)
    )
    assert _scores(found.results) == _scores(sequential)
    assert found.best_params == sequential[0]["params"]
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) == 1 + 2 * CV  # one line per fit


def test_a_search_that_lost_a_finished_fit_starts_again_with_the_same_results(
    digits, sequential, local_client, monkeypatch
):
    # A worker killed after a fit ended but before its result was gathered: joblib raises
    # CancelledError, and Dask cannot run that fit again. Here the first attempt says so.
    from concurrent.futures import CancelledError

    fit = search.GridSearchCV.fit
    calls = []

    def lose_a_result_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise CancelledError("batch_of__fit_and_score cancelled for reason: already forgotten")
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(search.GridSearchCV, "fit", lose_a_result_once)
    said = []
    found = search.run_search(
        digits, grid=GRID, cv=CV, client=local_client, progress=lambda f, m: said.append((f, m))
    )
    assert len(calls) == 2
    assert any("searching again" in m for _, m in said)
    assert said[-1][0] == 1.0
    assert _scores(found.results) == _scores(sequential)


def test_a_search_that_keeps_losing_fits_says_so(digits, local_client, monkeypatch):
    from concurrent.futures import CancelledError

    calls = []

    def always_lost(self, *args, **kwargs):
        calls.append(1)
        raise CancelledError("lost")

    monkeypatch.setattr(search.GridSearchCV, "fit", always_lost)
    said = []
    with pytest.raises(CancelledError):
        search.run_search(
            digits, grid=GRID, cv=CV, client=local_client, progress=lambda f, m: said.append(m)
        )
    assert len(calls) == 1 + search.RESTARTS  # started again, but not for ever
    assert sum("searching again" in m for m in said) == search.RESTARTS


def test_grid_keys_are_train_flag_names_and_unknown_ones_are_listed():
    assert grids.sklearn_grid({"svc-C": [1, 5], "front-gamma-scale": [0.5]}) == {
        "svc__clf__C": [1, 5],
        "knn__features__discriminants__gamma_scale": [0.5],
    }
    with pytest.raises(ParamError, match=r"unknown parameter 'svc_C'.*knn-n-neighbors"):
        grids.sklearn_grid({"svc_C": [1]})
    with pytest.raises(ParamError, match="non-empty list of values for 'svc-C', got 5"):
        grids.sklearn_grid({"svc-C": 5})
    with pytest.raises(ParamError, match="k-nearest neighbours: .*n_neighbors"):
        grids.sklearn_grid({"knn-n-neighbors": [3, 0]})


def test_the_default_grid_covers_members_and_the_front_end_and_is_valid():
    grid = grids.sklearn_grid(grids.DEFAULT_GRID)
    assert {key.split("__")[0] for key in grid} >= {"svc", "knn"}
    assert any("discriminants" in key for key in grid)  # the shared front end's own
    assert np.prod([len(v) for v in grid.values()]) >= 8


def test_an_unreachable_scheduler_is_one_clear_line(capsys, monkeypatch):
    monkeypatch.setattr(search, "CONNECT_TIMEOUT", 1)
    status = main(["search", "--scheduler", "tcp://127.0.0.1:9", "--limit", "100"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert err[-1].startswith("error: no Dask scheduler answered at tcp://127.0.0.1:9")
    assert not any("Traceback" in line for line in err)
    with pytest.raises(ClusterError), search.cluster("tcp://127.0.0.1:9"):
        pass


def test_scheduler_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("DIGITCORE_DASK_SCHEDULER", "tcp://10.0.0.5:8786")
    assert settings.dask_scheduler() == "tcp://10.0.0.5:8786"
    monkeypatch.setenv("DIGITCORE_DASK_SCHEDULER", "")
    assert settings.dask_scheduler() is None


def test_search_json_prints_what_the_out_folder_holds_ranked_best_first(
    capsys, monkeypatch, tmp_path, mnist_dir, local_client, sequential
):
    @contextlib.contextmanager
    def the_local_cluster(scheduler=None, **kwargs):
        yield local_client  # started once for the module

    monkeypatch.setattr(search, "cluster", the_local_cluster)
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps(GRID))
    out = tmp_path / "out"
    argv = ["search", "--data", str(mnist_dir), "--limit", str(N_DIGITS), "--cv", str(CV)]
    assert main([*argv, "--grid", str(grid), "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= {"best_params", "best_score", "results"}
    assert [set(row) for row in printed["results"]] == [
        {"params", "mean_score", "std_score", "fit_time"}
    ] * 2
    assert _scores(printed["results"]) == _scores(sequential)
    assert printed["best_score"] == printed["results"][0]["mean_score"]
    assert json.loads((out / "results.json").read_text()) == printed
    assert json.loads((out / "best_params.json").read_text()) == printed["best_params"]
    rows = (out / "results.csv").read_text().splitlines()
    assert rows[0].startswith("rank,") and rows[1].startswith("1,") and len(rows) == 3


def test_train_params_file_trains_with_the_searchs_best_params(tmp_path, monkeypatch):
    from digitcore import training

    asked = {}

    def spy(**kwargs):
        asked.update(kwargs)
        raise ParamError("stopped after reading the parameters")

    monkeypatch.setattr(training, "train_model", spy)
    best = tmp_path / "best_params.json"
    best.write_text(json.dumps({"svc-C": 2.5, "front-gamma-scale": 0.5}))
    assert main(["train", "--params", str(best), "--knn-n-neighbors", "5"]) == 1
    assert asked["params"] == {
        "svc": {"C": 2.5},
        "front": {"gamma_scale": 0.5},
        "knn": {"n_neighbors": 5},
    }
    (tmp_path / "bad.json").write_text(json.dumps({"svc-gamma-typo": 1}))
    assert main(["train", "--params", str(tmp_path / "bad.json")]) == 1


def test_training_on_a_cluster_is_one_task_per_member_group_and_the_same_model(
    digits, mnist_test, local_client
):
    from distributed import get_task_stream

    local = ensemble.build_ensemble(GRID_PARAMS)
    ensemble.train(local, digits.images, digits.labels)
    remote = ensemble.build_ensemble(GRID_PARAMS)
    with get_task_stream(local_client) as stream, search.on_cluster(local_client):
        ensemble.train(remote, digits.images, digits.labels)
    tasks = [t for t in stream.data if "fit_group" in t["key"]]
    assert len(tasks) == 2  # the SVC; k-NN and the forest on their one shared front end
    assert remote.named_estimators_["knn"][0] is remote.named_estimators_["rf"][0]
    images = mnist_test.images[:300]
    np.testing.assert_array_equal(remote.predict(images), local.predict(images))


GRID_PARAMS = {"front": {"n_components": 150}, "rf": {"n_estimators": 10}}


# --- a separately started scheduler and two workers -------------------------------------------


@pytest.fixture(scope="module")
def separate_cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, stopped afterwards."""
    with daskprocs.separate_cluster(tmp_path_factory.mktemp("dask"), n_workers=2) as started:
        yield started


def _wait_for_workers(client, n: int) -> None:
    client.wait_for_workers(n, timeout=60)


def _workers_left(client) -> int:
    """How many workers the scheduler has, once it has noticed a lost one (within 10 s)."""
    deadline = time.monotonic() + 10
    while len(client.nthreads()) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(client.nthreads())


def test_search_on_a_separate_scheduler_and_two_workers_matches_the_sequential_search(
    digits, sequential, separate_cluster
):
    address, _ = separate_cluster
    with search.cluster(address) as client:
        _wait_for_workers(client, 2)
        found = search.run_search(digits, grid=GRID, cv=CV, client=client)
        assert len(client.nthreads()) == 2
    assert _scores(found.results) == _scores(sequential)


def test_a_worker_lost_mid_search_is_survived_with_the_same_results(
    digits, sequential, separate_cluster
):
    address, workers = separate_cluster
    killed = []

    def kill_one_worker(fraction, message):
        if fraction > 0 and not killed:  # the first fit has ended; others are running
            workers["w1"].send_signal(signal.SIGKILL)
            killed.append(message)

    with search.cluster(address) as client:
        _wait_for_workers(client, 2)
        found = search.run_search(digits, grid=GRID, cv=CV, client=client, progress=kill_one_worker)
        assert _workers_left(client) == 1
    assert killed and workers["w1"].wait(timeout=10) == -signal.SIGKILL
    assert _scores(found.results) == _scores(sequential)


# --- the Train page's search section ----------------------------------------------------------


def test_the_train_page_searches_shows_the_ranked_table_and_trains_the_best(
    small_model_info, mnist_dir, tmp_path, monkeypatch, local_client
):
    import shutil

    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest, app_test

    from digitcore import training

    class Routed(PagesManager):  # pages run through app.py's navigation, as on a server
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test, "PagesManager", Routed)
    folder = tmp_path / "models"
    folder.mkdir()
    for path in (small_model_info.path, small_model_info.path.with_suffix(".json")):
        shutil.copy(path, folder / path.name)
    monkeypatch.setenv("DIGITCORE_MODELS", str(folder))
    monkeypatch.setenv("DIGITCORE_DATA", str(mnist_dir))
    monkeypatch.delenv("DIGITCORE_DASK_SCHEDULER", raising=False)

    @contextlib.contextmanager
    def the_local_cluster(scheduler=None, **kwargs):
        yield local_client  # started once for the module

    monkeypatch.setattr(search, "cluster", the_local_cluster)
    asked = {}

    def spy(**kwargs):
        asked.update(kwargs)
        raise ParamError("stopped after reading the parameters")

    monkeypatch.setattr(training, "train_model", spy)
    at = AppTest.from_file(str(settings.PROJECT_ROOT / "app.py"), default_timeout=600)
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    area = next(t for t in at.text_area if t.label == "Values to try")
    assert json.loads(area.value) == grids.DEFAULT_GRID
    area.set_value(json.dumps(GRID))
    next(s for s in at.select_slider if s.key == "search-size").set_value(500)
    next(b for b in at.button if b.label == "Search").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "mean score" in d.value.columns)
    assert list(table.index) == [1, 2] and {"mean score", "spread"} <= set(table.columns)
    found = at.session_state["search_result"]
    assert table.iloc[0]["mean score"] == found["best_score"]
    assert set(found["best_params"]) == set(GRID)
    next(b for b in at.button if b.label == "Train the best").click().run()
    assert asked["params"] == grids.params_from_flags(found["best_params"])


def test_the_scheduler_file_is_read_once_it_is_whole_and_never_read_empty(tmp_path):
    import threading

    path = tmp_path / "scheduler.json"
    path.write_text("")  # what the scheduler leaves between creating the file and writing it
    later = threading.Timer(0.5, lambda: path.write_text('{"address": "tcp://127.0.0.1:1"}'))
    later.start()
    assert search.scheduler_address(path, timeout=10) == "tcp://127.0.0.1:1"
    later.join()
    path.write_text("")
    with pytest.raises(ClusterError, match="no scheduler address after 0.5 s"):
        search.scheduler_address(path, timeout=0.5)
