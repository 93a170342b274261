"""The ``models`` command: list the saved models, mark the default for everyone, change it,
delete one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from digitcore import registry, settings, store
from digitcore.errors import ModelError


def _find_model(models: list[store.ModelInfo], name: str) -> store.ModelInfo:
    """The saved model called ``name`` (file name, with or without ``.joblib``)."""
    wanted = Path(name).name.removesuffix(".joblib")
    for info in models:
        if info.name == wanted:
            return info
    known = ", ".join(info.name for info in models) or "none"
    raise ModelError(f"no saved model named {name!r}; saved models: {known}")


def cmd_models(args: argparse.Namespace) -> int:
    """List the saved models, marking the default, or change which is the default, or delete one."""
    models = store.list_models(args.folder)
    if args.set_default:
        info = _find_model(models, args.set_default)
        before = registry.default_model(args.folder)
        registry.set_default(info)
        print(f"{info.name} is now the default for everyone: {registry.score_words(info)}")
        if before is not None and before.path != info.path:
            print(f"the default before, {before.name}: {registry.score_words(before)}")
        return 0
    if args.delete:
        info = _find_model(models, args.delete)
        registry.delete(info)
        print(f"deleted {info.name}")
        return 0
    if not models:
        print(f"no saved models in {args.folder or settings.models_dir()}")
        return 0
    default = registry.default_model(args.folder)
    for info in models:
        mark = "\tdefault for everyone" if default and info.path == default.path else ""
        print(f"{info.path}\t{info.summary}{mark}")
    return 0


def register(commands: Any) -> None:
    """Add the ``models`` command to the command line's subparsers."""
    models = commands.add_parser(
        "models", help="list saved models, newest first, and mark the default for everyone"
    )
    models.add_argument("--folder", help="models folder (default: $DIGITCORE_MODELS)")
    change = models.add_mutually_exclusive_group()
    change.add_argument(
        "--set-default", metavar="NAME", help="make the model NAME the default for everyone"
    )
    change.add_argument(
        "--delete",
        metavar="NAME",
        help="delete the model NAME (never the default nor the only model)",
    )
    models.set_defaults(run=cmd_models)
