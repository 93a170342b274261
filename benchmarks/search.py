"""The search on Dask against the same search on joblib's default backend, side by side.

One run, the same digits, grid and folds: scikit-learn's ``GridSearchCV`` with joblib's
default backend (loky processes, ``n_jobs=-1``), then ``digitcore.search.run_search`` on a
Dask ``LocalCluster`` (one single-threaded worker process per core), and optionally on a
separately started ``dask scheduler`` with two ``dask worker`` processes (127.0.0.1 only,
stopped afterwards). Prints each wall time, the ratio Dask / joblib, and whether the ranking
and scores are the same.

    python benchmarks/search.py [--limit 3000] [--cv 3] [--grid FILE.json] [--separate]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the scheduler and workers are started as the tests do

import daskprocs  # noqa: E402
from sklearn.model_selection import GridSearchCV, ParameterGrid  # noqa: E402

from digitcore import data, ensemble, grids, search, settings  # noqa: E402


def _scores(results: list[dict]) -> list[tuple]:
    return [(row["params"], row["mean_score"], row["std_score"]) for row in results]


@contextlib.contextmanager
def separate_cluster(n_workers: int = 2):
    """A ``dask scheduler`` and ``n_workers`` ``dask worker`` processes on 127.0.0.1."""
    with (
        tempfile.TemporaryDirectory() as folder,
        daskprocs.separate_cluster(folder, n_workers=n_workers) as (address, _),
    ):
        yield address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=3000, help="training digits (stratified)")
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--grid", help="JSON grid named as the train flags (default: the CLI's)")
    parser.add_argument(
        "--separate", action="store_true", help="also run on a dask scheduler + 2 workers"
    )
    args = parser.parse_args()
    grid = grids.read_grid(args.grid) if args.grid else grids.DEFAULT_GRID
    reference = settings.reference_data_dir()
    folder = reference if reference.is_dir() else None
    digits = data.load_mnist("train", folder).subset(args.limit, seed=0)
    n_fits = len(ParameterGrid(grids.sklearn_grid(grid))) * args.cv
    print(f"{n_fits} fits: {args.cv}-fold CV over {json.dumps(grid)} on {len(digits):,} digits")
    print(f"  ({digits.describe()['source']}, stratified with seed 0); {os.cpu_count()} cores")

    start = time.perf_counter()
    joblib_search = GridSearchCV(
        ensemble.build_ensemble(n_jobs=1),
        grids.sklearn_grid(grid),
        cv=search.folds(args.cv),
        n_jobs=-1,
        refit=False,
    ).fit(digits.images, digits.labels)
    joblib_seconds = time.perf_counter() - start
    expected = search.ranked_results(joblib_search.cv_results_)
    print(f"joblib default backend (loky, n_jobs=-1): {joblib_seconds:7.1f} s")

    runs = [("Dask LocalCluster", None)]
    if args.separate:
        runs.append(("dask scheduler + 2 dask workers", "separate"))
    for name, kind in runs:
        begin = time.perf_counter()
        with contextlib.ExitStack() as stack:
            address = stack.enter_context(separate_cluster()) if kind else None
            client = stack.enter_context(search.cluster(address))
            if address:
                client.wait_for_workers(2, timeout=60)
            up = time.perf_counter() - begin
            found = search.run_search(digits, grid=grid, cv=args.cv, client=client)
        same = _scores(found.results) == _scores(expected)
        if not same:
            for mine, theirs in zip(found.results, expected, strict=True):
                print("  dask  ", _scores([mine]), "\n  joblib", _scores([theirs]))
        print(
            f"{name}: search {found.seconds:7.1f} s (ratio {found.seconds / joblib_seconds:.2f} "
            f"of joblib's), cluster start {up:.1f} s; same ranking and scores: {same}"
        )
    best = expected[0]
    print(
        f"best: {json.dumps(best['params'])} mean {best['mean_score']:.4f} ± {best['std_score']:.4f}"
    )


if __name__ == "__main__":
    main()
