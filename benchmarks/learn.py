"""Benchmark: does training on a few hundred user drawings read *other* such drawings better?

The digits come from writers MNIST never saw (:mod:`learn_proxies`: scikit-learn's optdigits
and pen-stroke writers), each proxy split in two by writer. The first half is stored in a fresh
drawings database the way ``drawings import`` stores digits, and a model is trained with
``train_model(drawings=...)`` exactly as ``python -m digitcore train --drawings`` does (its own
25% held back included); the second half (other writers, never trained on) is read by the
model trained without drawings ("before") and the new one ("after"), beside the MNIST test set.

Run::

    python benchmarks/learn.py --limit 20000                  # fits before and after, 20k MNIST
    python benchmarks/learn.py --baseline models/x.joblib     # all 60,000; before = a saved model
    python benchmarks/learn.py --copies 0 5 10 20 --limit 20000   # compare numbers of copies
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import learn_proxies

from digitcore import drawings, evaluation, settings, store
from digitcore.data import Dataset, load_mnist
from digitcore.drawing_rows import image_rows
from digitcore.training import train_model

PROXIES = ("optdigits", "pen")


def check_sets() -> dict[str, Dataset]:
    """The second half of each proxy: writers the drawings trained on never include."""
    out = {}
    for kind in PROXIES:
        x, y, half = learn_proxies.load(kind)
        out[kind] = Dataset(x[half == 1], y[half == 1], f"{kind}-check", f"{kind}, check writers")
    return out


def store_train_halves(
    folder: Path, kinds: list[str], per_proxy: int | None
) -> drawings.DrawingStore:
    """A drawings database holding the first half of each proxy (or a stratified, seeded
    ``per_proxy`` of it), stored as an import is."""
    saved = drawings.open_store(f"sqlite:///{folder / 'drawings.sqlite'}")
    for kind in kinds:
        x, y, half = learn_proxies.load(kind)
        first = Dataset(x[half == 0], y[half == 0], kind)
        if per_proxy:
            first = first.subset(per_proxy, seed=0)
        saved.save_rows(image_rows(first.images, first.labels))
    return saved


def scores(model, meta, test, checks) -> dict[str, dict[str, float]]:
    out = {"mnist": evaluation.evaluate_unseen(model, test, training=meta).accuracy}
    for kind, check in checks.items():
        out[kind] = evaluation.evaluate(model, check.images, check.labels).accuracy
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(settings.reference_data_dir()))
    parser.add_argument("--limit", type=int, help="MNIST training digits (default: all)")
    parser.add_argument("--baseline", help="saved model for 'before' (default: fit one)")
    parser.add_argument("--copies", type=int, nargs="+", default=[10])
    parser.add_argument("--proxies", nargs="+", default=list(PROXIES), choices=PROXIES)
    parser.add_argument(
        "--per-proxy", type=int, metavar="N", help="store N digits of each train half (all)"
    )
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()

    test = load_mnist("test", args.data)
    checks = check_sets()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        saved = store_train_halves(folder, args.proxies, args.per_proxy)
        print(f"{saved.count():,} drawings stored ({', '.join(args.proxies)}: first halves)")
        if args.baseline:
            before, meta = store.load(args.baseline)
        else:
            start = time.perf_counter()
            info = train_model(limit=args.limit, data_dir=args.data, folder=folder / "before")
            print(f"before: fitted in {time.perf_counter() - start:.0f} s")
            before, meta = store.load(info.path)
        results["before"] = scores(before, meta, test, checks)
        for copies in args.copies:
            start = time.perf_counter()
            info = train_model(
                limit=args.limit, data_dir=args.data, folder=folder / f"after-{copies}",
                drawings=saved.dataset(), copies=copies, baseline=(before, meta),
            )  # fmt: skip
            seconds = time.perf_counter() - start
            after, after_meta = store.load(info.path)
            results[f"after, {copies} copies"] = {
                **scores(after, after_meta, test, checks),
                "held_back": after_meta["drawings"]["after"],
                "n_train": after_meta["n_train"],
                "seconds": round(seconds, 1),
            }
            print(f"after, {copies} copies: fitted in {seconds:.0f} s")
    print(f"\n{'':22s}" + "".join(f"{k:>20s}" for k in ["mnist", *checks]))
    for name, row in results.items():
        cells = []
        for kind in ["mnist", *checks]:
            acc = row[kind]
            members = "/".join(f"{100 * acc[m]:.1f}" for m in ("svc", "knn", "rf"))
            cells.append(f"{100 * acc['ensemble']:6.2f} ({members})")
        print(f"{name:22s}" + "".join(f"{c:>20s}" for c in cells))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
