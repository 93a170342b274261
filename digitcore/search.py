"""Cross-validated hyperparameter search of the ensemble, on a Dask cluster.

scikit-learn's ``GridSearchCV`` does the search; joblib's Dask backend runs its fits on a
``dask.distributed`` cluster: an existing scheduler (``--scheduler`` or
``DIGITCORE_DASK_SCHEDULER``), else a ``LocalCluster`` on this machine. The digits are
scattered to every worker once (not shipped with each fit, and still there when a worker is
lost); a lost worker's fits are rerun by Dask elsewhere. A fit that had ended on a worker lost
before its result was gathered cannot be: then the search starts again on the workers left
(:data:`RESTARTS` times at most; every fit is seeded, so the results are the same).
Parameters are named as the ``train`` flags name them (``svc-C``, ``knn-n-neighbors``,
``front-gamma-scale``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from digitcore import data, ensemble, files, grids
from digitcore.errors import ClusterError, ParamError

#: Seconds to wait for a scheduler to answer before saying it cannot be reached.
CONNECT_TIMEOUT = 5

#: progress(fraction 0-1, message for people)
SearchProgress = Callable[[float, str], None]


#: Times a search starts again after losing finished fits with a worker (see :func:`run_search`).
RESTARTS = 2
RESTART = object()  #: marks a restart in the queue of ended fits


@contextlib.contextmanager
def cluster(scheduler: str | None = None, *, n_workers: int | None = None) -> Iterator[Any]:
    """A ``dask.distributed`` client: of the scheduler at ``scheduler``, else of a
    ``LocalCluster`` of single-threaded worker processes on this machine, closed on exit.

    Raises
    ------
    digitcore.errors.ClusterError
        When the scheduler does not answer within :data:`CONNECT_TIMEOUT` seconds.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(
                f"no Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT} s "
                f"({type(exc).__name__}); expected a running `dask scheduler` there"
            ) from None
        with client:
            yield client
        return
    # One single-threaded process per core: the fits are numeric and hold the GIL in places.
    with (
        LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as local,
        Client(local, set_as_default=False) as client,
    ):
        yield client


def scheduler_address(path: str | Path, *, timeout: float = 60.0) -> str:
    """The address in a ``dask scheduler --scheduler-file`` file, once it is there and whole.

    The scheduler creates the file before it writes it, so an early read finds it empty.

    Raises
    ------
    ClusterError
        When no address is there after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return str(json.loads(Path(path).read_text())["address"])
        except (OSError, ValueError, KeyError):
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"{path}: no scheduler address after {timeout:g} s; expected the file "
                    "that 'dask scheduler --scheduler-file' writes"
                ) from None
            time.sleep(0.2)


@contextlib.contextmanager
def on_cluster(client: Any, *, scatter: list[Any] | None = None) -> Iterator[None]:
    """Run joblib's parallel work in this thread on ``client``'s cluster, with ``scatter``'s
    arrays sent to every worker once, up front."""
    from joblib import parallel_config

    with parallel_config(backend="dask", client=client, scatter=scatter or None):
        yield


class ProgressScorer:
    """Accuracy, as the ensemble's own ``score`` gives, that also tells the client each fit
    that ends (a Dask event on ``topic``); outside a Dask worker it only scores."""

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def __call__(self, estimator: Any, X: Any, y: Any) -> float:
        score = float(estimator.score(X, y))
        try:
            from distributed import get_worker

            get_worker().log_event(self.topic, {"score": score})
        except (ImportError, ValueError):  # not in a Dask worker
            pass
        return score


@dataclass
class SearchResult:
    """A finished search: candidates ranked best first (flag-named params, mean and spread of
    the CV score, mean fit seconds), and how it was run."""

    results: list[dict[str, Any]]
    cv: int
    training_data: dict[str, Any]
    dashboard: str | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.results[0]["params"])

    @property
    def best_score(self) -> float:
        return float(self.results[0]["mean_score"])

    def to_json(self) -> dict[str, Any]:
        """``{"best_params", "best_score", "results": [{params, mean_score, std_score,
        fit_time}, ...]}``, ranked best first, plus how the search was run."""
        return {
            "best_params": self.best_params,
            "best_score": self.best_score,
            "results": self.results,
            "cv": self.cv,
            "training_data": self.training_data,
            "seconds": self.seconds,
        }


def ranked_results(cv_results: dict[str, Any]) -> list[dict[str, Any]]:
    """``GridSearchCV.cv_results_`` as flag-named rows, best mean score first (ties: grid
    order, as ``rank_test_score`` has them)."""
    names = {path: flag for flag, (_, _, path) in grids.paths().items()}
    order = np.lexsort((np.arange(len(cv_results["params"])), cv_results["rank_test_score"]))
    return [
        {
            "params": {names[k]: _plain(v) for k, v in cv_results["params"][i].items()},
            "mean_score": float(cv_results["mean_test_score"][i]),
            "std_score": float(cv_results["std_test_score"][i]),
            "fit_time": float(cv_results["mean_fit_time"][i]),
        }
        for i in order
    ]


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number JSON writes."""
    return value.item() if isinstance(value, np.generic) else value


def folds(cv: int, *, random_state: int = 0) -> StratifiedKFold:
    """The search's folds: stratified by digit, shuffled with ``random_state``."""
    if not isinstance(cv, int) or isinstance(cv, bool) or cv < 2:
        raise ParamError(f"expected --cv of at least 2 folds, got {cv!r}")
    return StratifiedKFold(cv, shuffle=True, random_state=random_state)


def run_search(
    train_set: data.Dataset,
    *,
    grid: dict[str, list[Any]] | None = None,
    cv: int = 3,
    client: Any,
    progress: SearchProgress | None = None,
    random_state: int = 0,
) -> SearchResult:
    """Search ``grid`` by ``cv``-fold cross-validation on ``train_set``, on ``client``'s cluster.

    Parameters
    ----------
    train_set : Dataset
        The digits to search on (e.g. a stratified :meth:`~digitcore.data.Dataset.subset`).
    grid : dict, optional
        Flag names to lists of values; :data:`digitcore.grids.DEFAULT_GRID` by default.
    cv : int
        Folds (:func:`folds`): the same folds for every candidate.
    client : distributed.Client
        The cluster to run on (:func:`cluster`).
    progress : callable, optional
        ``progress(fraction, message)``, called from this thread as fits end.
    random_state : int
        Seed of the folds and of the members.

    Returns
    -------
    SearchResult
    """
    import time

    param_grid = grids.sklearn_grid(grid or grids.DEFAULT_GRID)
    X, y = np.asarray(train_set.images), np.asarray(train_set.labels)
    # The folds' indices are sent to every worker up front, with the digits: joblib would
    # otherwise send each to one worker, and a fit whose indices died with that worker (or
    # whose finished result did, before it was gathered) could not be run again elsewhere.
    splits = list(folds(cv, random_state=random_state).split(X, y))
    # Fits run side by side on the workers, so each fits its members one after the other.
    model = ensemble.build_ensemble(random_state=random_state, n_jobs=1)
    topic = f"digitcore-search-{uuid.uuid4().hex}"
    search = GridSearchCV(
        model,
        param_grid,
        cv=splits,
        scoring=ProgressScorer(topic),
        n_jobs=-1,
        refit=False,
        error_score="raise",
    )
    total = int(np.prod([len(v) for v in param_grid.values()])) * cv
    report = progress or (lambda fraction, message: None)
    ended: queue.Queue = queue.Queue()
    failed: list[BaseException] = []
    start = time.perf_counter()

    def work() -> None:
        shared = [X, y, *(part for split in splits for part in split)]
        try:
            # Scattered once for every attempt: scattering the same arrays again while the
            # last attempt's copies are being released can itself be cancelled.
            with on_cluster(client, scatter=shared):
                for attempt in range(RESTARTS + 1):
                    try:
                        search.fit(X, y)
                        return
                    except CancelledError:
                        # A worker died holding a finished fit not yet gathered: Dask cannot
                        # run that one again, so the search starts again on the workers
                        # left. Every fit is seeded: the results are the same.
                        if attempt == RESTARTS or not client.nthreads():
                            raise
                        ended.put(RESTART)
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)
        finally:
            ended.put(None)

    client.subscribe_topic(topic, ended.put)
    try:
        report(0.0, f"Searching {total // cv} candidates x {cv} folds on {len(y):,} digits")
        thread = threading.Thread(target=work, name="digitcore-search", daemon=True)
        thread.start()
        done = 0
        # Progress is reported from the caller's thread (a page can only draw from its own).
        while (event := ended.get()) is not None:
            if event is RESTART:
                done = 0
                report(0.0, "A worker was lost with finished fits: searching again")
                continue
            done += 1
            score = event[1]["score"]
            report(
                min(done, total) / total, f"{min(done, total)} of {total} fits done ({score:.4f})"
            )
        thread.join()
    finally:
        client.unsubscribe_topic(topic)
    if failed:
        raise failed[0]
    dashboard = getattr(client, "dashboard_link", None)
    return SearchResult(
        ranked_results(search.cv_results_),
        cv,
        train_set.describe(),
        dashboard=dashboard,
        seconds=time.perf_counter() - start,
    )


def write_results(result: SearchResult, folder: str | Path) -> dict[str, Path]:
    """Write ``results.json`` (as ``search --json`` prints), ``results.csv`` (one row per
    candidate, ranked) and ``best_params.json`` (for ``train --params``) into ``folder``."""
    import csv
    import io

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted({name for row in result.results for name in row["params"]})
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["rank", *names, "mean_score", "std_score", "fit_time"])
    for rank, row in enumerate(result.results, start=1):
        values = [row["params"].get(name) for name in names]
        writer.writerow([rank, *values, row["mean_score"], row["std_score"], row["fit_time"]])
    texts = {
        "results.json": json.dumps(result.to_json(), indent=2),
        "results.csv": table.getvalue(),
        "best_params.json": json.dumps(result.best_params, indent=2),
    }
    written = {}
    for name, text in texts.items():
        written[name] = files.write_atomic(folder / name, lambda p, t=text: p.write_text(t))
    return written
