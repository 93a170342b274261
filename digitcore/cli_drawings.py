"""``python -m digitcore drawings count | add | export | import``: the saved drawings.

The database is ``DIGITCORE_DB``, else the SQLite file in the app's data folder
(:func:`digitcore.settings.db_url`). Errors are :class:`~digitcore.errors.DigitcoreError`s,
which the command line prints as one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from digitcore import registry, settings, store
from digitcore.errors import LabelError, ModelError


def _model(path: str | None) -> tuple[Any, store.ModelInfo]:
    """The model to read with: ``--model FILE``, else the default model for everyone."""
    if path:
        model, meta = store.load(path)
        return model, store.ModelInfo(Path(path), meta)
    info = registry.default_model()
    if info is None:
        raise ModelError(
            f"no saved model in {settings.models_dir()} to read the images with; run "
            "`python -m digitcore train` first or pass --model FILE"
        )
    model, _ = store.load(info.path)
    return model, info


# The database modules (and SQLAlchemy) are imported by the commands that use them, so the
# rest of the command line starts without them.


def cmd_count(args: argparse.Namespace) -> int:
    from digitcore import drawings

    saved = drawings.open_store()
    if args.by_digit:
        for digit, n in saved.counts_by_digit().items():
            print(f"{digit}\t{n}")
    print(saved.count())
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from digitcore import drawings
    from digitcore.recognize import recognize

    drawings.label_digits(args.label)  # a label that is not digits is refused before any work
    saved = drawings.open_store()  # a bad database too
    model, info = _model(args.model)
    readings = []
    for path in args.images:  # read and check every file before saving any
        gray = drawings.ink_map(path)
        reading = recognize(model, gray)
        try:
            drawings.check_labels(args.label, len(reading.digits))
        except LabelError as exc:
            raise LabelError(f"{path}: {exc}; nothing was saved") from None
        readings.append((reading, gray))
    ids = [
        i
        for reading, gray in readings
        for i in saved.save(reading, labels=args.label, source="cli", model=info, crops=gray)
    ]
    files = len(args.images)
    print(
        f"saved {len(ids)} digit{'s' if len(ids) != 1 else ''} from {files} "
        f"file{'s' if files != 1 else ''}; {saved.count()} saved in {saved.where}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from digitcore import drawings, drawings_io

    n = drawings_io.export(drawings.open_store(), args.folder)
    folder = Path(args.folder)
    print(
        f"exported {n} digits to {folder}: {drawings_io.IMAGES}, {drawings_io.LABELS} "
        f"(MNIST's IDX format) and {folder / drawings_io.PNG_DIR}/<digit>/*.png"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from digitcore import drawings, drawings_io

    saved = drawings.open_store()
    held, new = drawings_io.import_folder(saved, args.folder)
    print(f"imported {held} digits from {args.folder} ({new} new); {saved.count()} saved")
    return 0


def register(commands: Any) -> None:
    """Add the ``drawings`` command and its subcommands to the command line's subparsers."""
    parser = commands.add_parser(
        "drawings",
        help="the saved drawings: count, add labelled images, export, import",
        description=(
            "The digits people confirmed or corrected, kept in the drawings database "
            "($DIGITCORE_DB, else an SQLite file in the app's data folder)."
        ),
    )
    sub = parser.add_subparsers(dest="drawings_command", required=True)
    count = sub.add_parser("count", help="print the number of saved digits")
    count.add_argument("--by-digit", action="store_true", help="also each digit's count")
    count.set_defaults(run=cmd_count)

    add = sub.add_parser(
        "add",
        help="store labelled image files (scans, photos), read the app's way",
        description=(
            "Read each image as the app does and store its digits with the true labels. "
            "Each file holds one digit, or as many digits as --label has; every file is "
            "checked before any is stored."
        ),
    )
    add.add_argument("--label", required=True, metavar="D", help="the true digits of each file")
    add.add_argument("--model", help="model file (default: the default model for everyone)")
    add.add_argument("images", nargs="+", metavar="IMAGE")
    add.set_defaults(run=cmd_add)

    export = sub.add_parser("export", help="write every saved digit as IDX files and PNGs")
    export.add_argument("folder", metavar="DIR")
    export.set_defaults(run=cmd_export)

    imported = sub.add_parser(
        "import", help="store the digits of an export folder (IDX pair, else PNGs named by label)"
    )
    imported.add_argument("folder", metavar="DIR")
    imported.set_defaults(run=cmd_import)
