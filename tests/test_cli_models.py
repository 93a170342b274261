"""The command line and the default model: train says whether it replaced everyone's, models
marks the default, --set-default and --delete change it."""

from __future__ import annotations

import json
import shutil

import pytest

from digitcore import registry, store, training
from digitcore.__main__ import main


def copy_model(info, folder, name, **meta) -> store.ModelInfo:
    """A copy of a saved model in ``folder`` under ``name``, its metadata updated by ``meta``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.joblib"
    shutil.copy(info.path, path)
    metadata = {**info.metadata, **meta, "file": path.name}
    store.metadata_path(path).write_text(json.dumps(metadata))
    return store.ModelInfo(path, metadata)


def scored(info, score: float) -> dict:
    return {"scores": {**info.metadata["scores"], "ensemble": score}}


@pytest.fixture
def two_models(small_model_info, tmp_path):
    """The small model as the default and a weaker, newer one beside it."""
    folder = tmp_path / "models"
    default = copy_model(small_model_info, folder, "ensemble-default", created="2026-01-01")
    weak = copy_model(
        small_model_info, folder, "ensemble-weak", created="2026-01-02", **scored(default, 0.3)
    )
    registry.set_default(default)
    return folder, default, weak


def test_models_marks_the_default_for_everyone(two_models, capsys):
    folder, default, weak = two_models
    assert main(["models", "--folder", str(folder)]) == 0
    assert capsys.readouterr().out == (
        f"{weak.path}\t{weak.summary}\n{default.path}\t{default.summary}\tdefault for everyone\n"
    )


def test_set_default_makes_a_model_everyones_and_shows_both_scores(two_models, capsys):
    folder, _, weak = two_models
    assert main(["models", "--folder", str(folder), "--set-default", "ensemble-weak"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == (
        "ensemble-weak is now the default for everyone: ensemble 30.00% on 10,000 unseen test "
        "digits (mnist-test)"
    )
    assert said[1].startswith("the default before, ensemble-default: ensemble ")
    assert registry.default_model(folder).path == weak.path


def test_delete_refuses_the_default_in_one_line_and_deletes_another(two_models, capsys):
    folder, _, _ = two_models
    assert main(["models", "--folder", str(folder), "--delete", "ensemble-default"]) == 1
    assert capsys.readouterr().err == (
        "error: ensemble-default is the default model for everyone and cannot be deleted; "
        "make another model the default first\n"
    )
    assert main(["models", "--folder", str(folder), "--delete", "ensemble-weak.joblib"]) == 0
    assert capsys.readouterr().out == "deleted ensemble-weak\n"
    assert [m.name for m in store.list_models(folder)] == ["ensemble-default"]


def test_an_unknown_model_name_is_one_line_naming_the_saved_ones(two_models, capsys):
    folder, _, _ = two_models
    assert main(["models", "--folder", str(folder), "--set-default", "nope"]) == 1
    assert capsys.readouterr().err == (
        "error: no saved model named 'nope'; saved models: ensemble-weak, ensemble-default\n"
    )


@pytest.mark.parametrize(("score", "promoted"), [(0.3, False), (1.0, True)])
def test_train_says_whether_the_new_model_became_the_default(
    two_models, monkeypatch, capsys, score, promoted
):
    folder, default, _ = two_models

    def fake_train_model(**kwargs):
        return copy_model(
            default, folder, "ensemble-new", created="2026-01-03", **scored(default, score)
        )

    monkeypatch.setattr(training, "train_model", fake_train_model)
    assert main(["train", "--out", str(folder), "--limit", "1000"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    old = default.metadata["scores"]["ensemble"]
    both = f"ensemble {score:.2%} vs {old:.2%} for ensemble-default on the same 10,000 unseen"
    if promoted:
        assert last.startswith(f"now the default for everyone: {both}")
        assert registry.default_model(folder).name == "ensemble-new"
    else:
        assert last.startswith(f"not made the default for everyone: {both}")
        assert last.endswith("; the default stays ensemble-default")
        assert registry.default_model(folder).name == "ensemble-default"
