"""Search grids and parameter files, named as the ``train`` flags name hyperparameters.

``svc-C``, ``knn-n-neighbors``, ``front-gamma-scale``: the names a person types on the command
line, in a ``--grid`` file and in a search's ``best_params.json``, turned into the ensemble's
nested scikit-learn names (``svc__clf__C``) and checked before any slow work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from digitcore import ensemble
from digitcore.errors import ParamError

#: A grid over the members' and the shared front end's main parameters: 12 candidates.
DEFAULT_GRID: dict[str, list[Any]] = {
    "svc-C": [2.5, 5.0, 10.0],
    "knn-n-neighbors": [3, 5],
    "front-gamma-scale": [0.25, 0.5],
}


def flag_name(group: str, param: str) -> str:
    """The ``train`` flag's name (without ``--``) of a hyperparameter, e.g. ``svc-C``."""
    return f"{group}-{param.replace('_', '-')}"


def paths() -> dict[str, tuple[str, str, str]]:
    """Each flag name: (group, hyperparameter, the ensemble's nested parameter name)."""
    found = {}
    for group, defaults in ensemble.DEFAULT_PARAMS.items():
        # The front end is one object shared by k-NN and the forest: set through k-NN, it is
        # set for both (DigitEnsemble keeps the sharing through clone()).
        prefix = "knn__features__discriminants" if group == "front" else f"{group}__clf"
        for param in defaults:
            found[flag_name(group, param)] = (group, param, f"{prefix}__{param}")
    return found


def params_from_flags(flags: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Hyperparameters by group (as :func:`digitcore.ensemble.merge_params` takes them) from a
    dict keyed by ``train`` flag names, checked.

    >>> params_from_flags({"svc-C": 2.5, "knn-n-neighbors": 5})
    {'svc': {'C': 2.5}, 'knn': {'n_neighbors': 5}}

    Raises
    ------
    digitcore.errors.ParamError
        For an unknown name (the known ones are listed) or a value the ensemble refuses.
    """
    known = paths()
    params: dict[str, dict[str, Any]] = {}
    for name, value in flags.items():
        if name not in known:
            raise ParamError(f"unknown parameter {name!r}; expected some of {sorted(known)}")
        group, param, _ = known[name]
        params.setdefault(group, {})[param] = value
    ensemble.merge_params(params)
    return params


def sklearn_grid(grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``grid`` (flag names to lists of values) as ``GridSearchCV``'s ``param_grid``, checked.

    Raises
    ------
    digitcore.errors.ParamError
        For an unknown name, a value that is not a non-empty list, or a value refused.
    """
    if not isinstance(grid, dict) or not grid:
        raise ParamError(f"expected a grid: a non-empty JSON object, got {grid!r}")
    known = paths()
    converted = {}
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ParamError(f"expected a non-empty list of values for {name!r}, got {values!r}")
        for value in values:
            params_from_flags({name: value})
        converted[known[name][2]] = list(values)
    return converted


def read_grid(path: str | Path) -> dict[str, list[Any]]:
    """A grid from a JSON file such as ``{"svc-C": [1, 5], "knn-n-neighbors": [3, 5]}``."""
    try:
        grid = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ParamError(f"expected JSON in {path}, got a syntax error: {exc}") from None
    sklearn_grid(grid)
    return grid


def read_params(path: str | Path) -> dict[str, Any]:
    """Flag-named parameters from a JSON file: the ``best_params.json`` a search writes, or
    its whole results (``{"best_params": {...}, ...}``)."""
    try:
        found = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ParamError(f"expected JSON in {path}, got a syntax error: {exc}") from None
    if isinstance(found, dict) and isinstance(found.get("best_params"), dict):
        found = found["best_params"]
    if not isinstance(found, dict):
        raise ParamError(f"expected a JSON object of parameters in {path}, got {found!r}")
    params_from_flags(found)
    return found
