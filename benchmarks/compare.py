"""The tutorial's recipe and ours, side by side on the same MNIST data in one run.

Each recipe is fitted in one fresh subprocess (data loading included in the fit time), saved with
``joblib.dump(compress=3)``, then loaded and evaluated in another fresh subprocess, so peak
memory (``ru_maxrss``) is that of a process doing only that.

    python benchmarks/compare.py                 # full MNIST, about 25 minutes on 2 cores
    python benchmarks/compare.py --limit 5000    # quick
    python benchmarks/compare.py --json out.json # also write the numbers as JSON

Training digits: MNIST's training set (``--limit N``: a stratified, shuffled draw of N, seed 0);
scored on MNIST's test set (``--limit N``: its first N), none of them seen in training (checked
with :func:`digitcore.evaluation.check_unseen`); the run prints which digits.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitcore import settings  # noqa: E402  (importable once the path is set)

RECIPES = ("tutorial", "ours")
LATENCY_RUNS = 50


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def flatten(images: np.ndarray) -> np.ndarray:
    """The tutorial's input: ``(n, 28, 28)`` uint8 digits as ``(n, 784)`` float32 rows in 0-1.

    Module-level so the pickled tutorial model can be loaded by the predicting subprocess.
    """
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def build(recipe: str):
    """The unfitted VotingClassifier of ``recipe``."""
    from digitcore.ensemble import build_ensemble

    if recipe == "ours":
        return build_ensemble(random_state=0)
    # The tutorial: raw pixels / 255, library defaults, plain hard voting.
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.svm import SVC

    def member(clf):
        return make_pipeline(FunctionTransformer(flatten), clf)

    return VotingClassifier(
        [
            ("svc", member(SVC())),
            ("knn", member(KNeighborsClassifier(5))),
            ("rf", member(RandomForestClassifier(random_state=0))),
        ],
        voting="hard",
    )


def _folder(data: str) -> str | None:
    """The MNIST folder given, or None for digitcore's own order (cache, download, offline)."""
    return data or None


def fit_job(recipe: str, data: str, limit: int | None, path: str) -> dict[str, Any]:
    """Load the training split, fit ``recipe`` with ``train`` (2 jobs) and save it to ``path``.

    Which digits it trained on goes beside the model (``path + ".train.json"``), for the
    predicting job to check that it scores unseen digits.
    """
    import joblib

    from digitcore.data import load_mnist
    from digitcore.ensemble import train

    start = time.perf_counter()
    tr = load_mnist("train", _folder(data))
    if limit:
        tr = tr.subset(limit, seed=0)  # stratified: a sorted set's head would lack digits
    Path(path + ".train.json").write_text(json.dumps(tr.describe()))
    model = build(recipe)
    member_seconds = train(model, tr.images, tr.labels, n_jobs=2)
    fit_s = time.perf_counter() - start
    joblib.dump(model, path, compress=3)
    return {
        "fit_s": fit_s,
        "member_fit_s": member_seconds,
        "fit_peak_mb": _rss_mb(),
        "size_mb": os.path.getsize(path) / 1e6,
        "training_data": {k: v for k, v in tr.describe().items() if k != "checksums"},
    }


def _drawing(digit: np.ndarray) -> np.ndarray:
    """A 280x280 canvas-like grey image (ink 255 on 0) of one MNIST digit, scaled up."""
    from PIL import Image

    canvas = Image.fromarray(digit).resize((200, 200), Image.BILINEAR)
    gray = np.zeros((280, 280), np.uint8)
    gray[40:240, 40:240] = np.asarray(canvas)
    return gray


def _median_ms(fn, runs: int = LATENCY_RUNS) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def predict_job(recipe: str, data: str, limit: int | None, path: str) -> dict[str, Any]:
    """Load the saved model, predict the test split, time one drawing; report memory."""
    import joblib

    from digitcore.data import load_mnist
    from digitcore.evaluation import check_unseen, member_predictions
    from digitcore.recognize import recognize
    from digitcore.segmentation import segment

    base_mb = _rss_mb()
    model = joblib.load(path)
    loaded_mb = _rss_mb()
    te = load_mnist("test", _folder(data)).head(limit)
    check_unseen(json.loads(Path(path + ".train.json").read_text()), te)
    start = time.perf_counter()
    answers = member_predictions(model, te.images)  # every member once; the vote from theirs
    predict_s = time.perf_counter() - start
    out: dict[str, Any] = {
        "acc": {name: float(np.mean(p == te.labels)) for name, p in answers.items()},
        "predict_s": predict_s,
        "test_data": {k: v for k, v in te.describe().items() if k != "checksums"},
    }
    one = te.images[:1]
    latency = {"ensemble": _median_ms(lambda: model.predict(one))}
    for name, member in model.named_estimators_.items():
        call = member.predict_proba if hasattr(member, "predict_proba") else member.predict
        latency[name] = _median_ms(lambda call=call: call(one))
    # One drawing as the app reads it: segmentation, each member's vote and confidence, tally.
    gray = _drawing(te.images[0])
    found = recognize(model, gray)
    if len(found.digits) != 1:
        raise RuntimeError(f"expected one digit in the benchmark drawing, found {found.text!r}")
    latency["preprocess"] = _median_ms(lambda: segment(gray))
    latency["drawing"] = _median_ms(lambda: recognize(model, gray))
    out["latency_ms"] = latency
    out["import_mb"], out["loaded_mb"], out["peak_mb"] = base_mb, loaded_mb, _rss_mb()
    return out


def _in_subprocess(job: str, recipe: str, data: str, limit: int | None, path: str) -> dict:
    """Run ``job`` in a fresh interpreter so its memory and timings are its own."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        "from benchmarks.compare import fit_job, predict_job; "
        "limit = None if sys.argv[5] == 'None' else int(sys.argv[5]); "
        f"print(json.dumps({job}(sys.argv[2], sys.argv[3], limit, sys.argv[4])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), recipe, data, path, str(limit)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"{job} for {recipe} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(recipe: str, data: str, limit: int | None) -> dict[str, Any]:
    """Fit, save, load and evaluate one recipe; return all its numbers."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{recipe}.joblib")
        result = _in_subprocess("fit_job", recipe, data, limit, path)
        result.update(_in_subprocess("predict_job", recipe, data, limit, path))
    return result


ROWS = [
    ("accuracy ensemble", lambda r: r["acc"]["ensemble"] * 100, "{:.2f}%"),
    ("accuracy svc", lambda r: r["acc"]["svc"] * 100, "{:.2f}%"),
    ("accuracy knn", lambda r: r["acc"]["knn"] * 100, "{:.2f}%"),
    ("accuracy rf", lambda r: r["acc"]["rf"] * 100, "{:.2f}%"),
    ("fit wall incl. loading (s)", lambda r: r["fit_s"], "{:.1f}"),
    ("predict test set (s)", lambda r: r["predict_s"], "{:.2f}"),
    ("one digit, model.predict (ms)", lambda r: r["latency_ms"]["ensemble"], "{:.1f}"),
    (
        "one drawing, recognize() (ms)",
        lambda r: r["latency_ms"].get("drawing", np.nan),
        "{:.1f}",
    ),
    ("model file, compress=3 (MB)", lambda r: r["size_mb"], "{:.1f}"),
    ("memory, model loaded (MB)", lambda r: r["loaded_mb"], "{:.0f}"),
    ("peak memory, predicting (MB)", lambda r: r["peak_mb"], "{:.0f}"),
]


def _reference_folder() -> str:
    """The tests' MNIST folder when it holds the files, else "" (digitcore's own order)."""
    folder = settings.reference_data_dir()
    return str(folder) if (folder / "t10k-labels-idx1-ubyte.gz").is_file() else ""


def _words(described: dict[str, Any]) -> str:
    """Which digits, in words, from :meth:`digitcore.data.Dataset.describe`."""
    rule, how = described.get("subset"), ""
    if rule and "seed" in rule:
        how = f" ({rule['rule']} with seed {rule['seed']}, of {rule['of']:,})"
    elif rule:
        how = f" (the first {rule['n']:,} of {rule['of']:,})"
    return f"{described['n']:,} digits of the {described['source']}{how}"


def table(results: dict[str, dict[str, Any]]) -> str:
    """Plain-text table: one row per measure, one column per recipe, then ours/tutorial."""
    names = list(results)
    lines = [
        f"{'':38s}"
        + "".join(f"{n:>12s}" for n in names)
        + ("  ours/tutorial" if len(names) == 2 else "")
    ]
    for label, get, fmt in ROWS:
        values = [get(results[n]) for n in names]
        line = f"{label:38s}" + "".join(f"{fmt.format(v):>12s}" for v in values)
        if len(names) == 2 and values[0]:
            line += f"  {values[1] / values[0]:>12.2f}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=_reference_folder(),
        help="MNIST IDX folder (default: $DIGITCORE_TEST_DATA, else shared/data/mnist beside "
        "the project when present, else digitcore's order: cache, download, offline)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="train on a stratified N of the training digits (seed 0), score the first N test "
        "digits",
    )
    parser.add_argument(
        "--recipes", default=",".join(RECIPES), help=f"comma-separated, of {RECIPES}"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    recipes = args.recipes.split(",")
    if not set(recipes) <= set(RECIPES):
        parser.error(f"--recipes must be among {RECIPES}, got {recipes}")
    results = {}
    for recipe in recipes:
        print(f"running {recipe} ...", file=sys.stderr, flush=True)
        results[recipe] = run(recipe, args.data, args.limit)
    first = next(iter(results.values()))
    print(f"{os.cpu_count()} CPUs; trained on {_words(first['training_data'])}")
    print(f"scored on {_words(first['test_data'])}, none of them seen in training")
    print(table(results))
    for name, r in results.items():
        lat = ", ".join(f"{k} {v:.1f}" for k, v in r["latency_ms"].items())
        print(
            f"{name}: single-digit latency ms (median of {LATENCY_RUNS}; members incl. "
            f"predict_proba where they have it): {lat}"
        )
        print(
            f"{name}: member fit s: "
            + ", ".join(f"{k} {v:.1f}" for k, v in r["member_fit_s"].items())
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
