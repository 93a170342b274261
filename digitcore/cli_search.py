"""``python -m digitcore search``: a cross-validated hyperparameter search on a Dask cluster,
and what ``train --params FILE`` / ``train --scheduler ADDRESS`` share with it.

Errors are :class:`~digitcore.errors.DigitcoreError`s (an unreachable scheduler is a
:class:`~digitcore.errors.ClusterError`), which the command line prints as one line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from digitcore import data, grids, settings

# dask and distributed are imported by the commands that use them (digitcore.search imports
# them lazily), so the rest of the command line starts without them.


def ranked_table(results: list[dict[str, Any]]) -> str:
    """The candidates as a text table, best first: rank, parameters, mean CV score with its
    spread (standard deviation across folds) and mean fit time."""
    names = sorted({name for row in results for name in row["params"]})
    widths = [
        max(len(name), *(len(str(row["params"].get(name))) for row in results)) for name in names
    ]
    header = [
        "rank",
        *(n.ljust(w) for n, w in zip(names, widths, strict=True)),
        "mean score",
        "  spread",
        "fit s",
    ]
    lines = ["  ".join(header)]
    for rank, row in enumerate(results, start=1):
        cells = [str(row["params"].get(n)).ljust(w) for n, w in zip(names, widths, strict=True)]
        lines.append(
            "  ".join(
                [
                    f"{rank:4d}",
                    *cells,
                    f"{row['mean_score']:10.4f}",
                    f"±{row['std_score']:7.4f}",
                    f"{row['fit_time']:5.1f}",
                ]
            )
        )
    return "\n".join(lines)


def cmd_search(args: argparse.Namespace) -> int:
    from digitcore import search

    grid = grids.read_grid(args.grid) if args.grid else grids.DEFAULT_GRID
    grids.sklearn_grid(grid)  # refuse a bad grid before loading data or starting a cluster
    search.folds(args.cv)
    data.check_limit(args.limit)
    scheduler = args.scheduler or settings.dask_scheduler()
    where = scheduler or "a local Dask cluster (one worker per core)"
    print(f"connecting to {where}", file=sys.stderr)
    # Connect first: an unreachable scheduler is said before MNIST is read.
    with search.cluster(scheduler) as client:
        print(f"Dask dashboard: {client.dashboard_link}", file=sys.stderr)
        train_set = data.load_mnist("train", args.data, progress=args.progress_bar().bytes)
        if args.limit is not None:
            train_set = train_set.subset(args.limit, seed=0)
        result = search.run_search(
            train_set, grid=grid, cv=args.cv, client=client, progress=args.progress_bar()
        )
    if args.out:
        written = search.write_results(result, args.out)
        print(f"wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    print(
        f"{len(result.results)} candidates, {args.cv}-fold cross-validation on "
        f"{len(train_set):,} training digits, {result.seconds:.1f} s"
    )
    print(ranked_table(result.results))
    print(f"best: {json.dumps(result.best_params)} (mean score {result.best_score:.4f})")
    if args.out:
        print(f"train it: python -m digitcore train --params {args.out}/best_params.json")
    return 0


def register(commands: Any, *, data_help: str, progress_bar: Any) -> None:
    """Add the ``search`` command to the command line's subparsers; ``progress_bar()`` makes
    the command line's progress bar."""
    parser = commands.add_parser(
        "search",
        help="cross-validated hyperparameter search on a Dask cluster (local by default)",
        description="Search hyperparameters by cross-validation (scikit-learn's GridSearchCV) "
        "on a Dask cluster: --scheduler, else $DIGITCORE_DASK_SCHEDULER, else a local cluster.",
    )
    parser.add_argument("--data", help=data_help)
    parser.add_argument("--cv", type=int, default=3, metavar="K", help="folds (default 3)")
    parser.add_argument(
        "--grid",
        metavar="FILE.json",
        help='values to try, named as the train flags, e.g. {"svc-C": [1, 5], '
        '"knn-n-neighbors": [3, 5]} (default: svc-C, knn-n-neighbors and front-gamma-scale, '
        "12 candidates)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="search on N training digits, stratified by digit and shuffled (seed 0)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $DIGITCORE_DASK_SCHEDULER, "
        "else a local cluster)",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="write results.csv, results.json and best_params.json here"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(run=cmd_search, progress_bar=progress_bar)


def params_file(path: str | None) -> dict[str, dict[str, Any]]:
    """Hyperparameters by group from ``train --params FILE`` (none without a file)."""
    if not path:
        return {}

    return grids.params_from_flags(grids.read_params(path))


@contextlib.contextmanager
def maybe_on_cluster(scheduler: str | None) -> Iterator[None]:
    """``train --scheduler``: joblib's work in this thread (one task per member group) on the
    scheduler's cluster; nothing changes without one."""
    if not scheduler:
        yield
        return
    from digitcore import search

    with search.cluster(scheduler) as client, search.on_cluster(client):
        print(f"fitting on the Dask cluster at {scheduler}", file=sys.stderr)
        yield
