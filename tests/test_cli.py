"""The command line: train, evaluate, predict and models, with one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitcore import data, store
from digitcore.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digitcore", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_train_then_evaluate_json_gives_the_documented_report(mnist_dir, tmp_path):
    out = tmp_path / "models"
    trained = run_cli(
        "train",
        "--data",
        str(mnist_dir),
        "--limit",
        "1500",
        "--out",
        str(out),
        "--knn-n-neighbors",
        "3",
    )
    assert trained.returncode == 0, trained.stderr
    assert "fit" in trained.stdout and "ensemble" in trained.stdout
    (model_file,) = out.glob("*.joblib")
    meta = json.loads(model_file.with_suffix(".json").read_text())
    said = meta["training_data"]["styles"]  # 1 in 30 flagged, at most each upright 1 once
    flagged, slashed = said["flagged_ones"], said["slashed_zeros"]  # 1 in 120 slashed
    assert flagged == min(50, said["of_upright_ones"]) > 0
    assert slashed == min(12, said["of_slim_zeros"]) > 0
    assert meta["n_train"] == 1500 + flagged + slashed
    assert meta["params"]["knn"]["n_neighbors"] == 3
    assert meta["training_data"]["subset"]["seed"] == 0  # a stratified draw, recorded
    assert "stratified by digit, shuffled with seed 0" in trained.stdout
    assert "scored on 10,000 digits of the MNIST test set (verified SHA-256)" in trained.stdout

    evaluated = run_cli("evaluate", "--data", str(mnist_dir), "--model", str(model_file), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["n_test"] == 10000
    assert set(report["models"]) == {"svc", "knn", "rf", "ensemble"}
    assert report["test_data"]["name"] == "mnist-test" and report["test_data"]["n"] == 10000
    ensemble = report["models"]["ensemble"]
    assert ensemble["accuracy"] == pytest.approx(meta["scores"]["ensemble"])
    assert sum(map(sum, ensemble["confusion_matrix"])) == 10000

    said = run_cli("evaluate", "--data", str(mnist_dir), "--model", str(model_file))
    assert said.stdout.splitlines()[0] == (
        "10,000 digits of the MNIST test set (verified SHA-256), none of them seen in training"
    )


def test_offline_evaluate_scores_the_shipped_test_set(small_model_info, tmp_path):
    offline = {
        "DIGITCORE_DATA": "",  # empty counts as unset
        "DIGITCORE_MNIST_URL": "http://127.0.0.1:9/",  # the discard port: refused at once
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
    }
    result = run_cli("evaluate", "--json", "--model", str(small_model_info.path), env=offline)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n_test"] == 10000
    assert (
        report["test_data"]["source"] == "MNIST test set shipped with digitcore (verified SHA-256)"
    )
    assert (
        report["models"]["ensemble"]["accuracy"] == small_model_info.metadata["scores"]["ensemble"]
    )


def test_evaluate_refuses_the_models_training_set_even_as_test_files(
    small_model_info, mnist_dir, tmp_path
):
    # The training files the small model's digits were drawn from, renamed as the t10k files.
    for train_name, test_name in zip(data.SPLITS["train"], data.SPLITS["test"], strict=True):
        shutil.copy(mnist_dir / train_name, tmp_path / test_name)
    result = run_cli("evaluate", "--data", str(tmp_path), "--model", str(small_model_info.path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: refusing to score a model on digits it trained on")
    assert result.stderr.count("\n") == 1


def test_truncated_data_file_is_refused_in_one_line_without_traceback(
    mnist_dir, small_model_info, tmp_path
):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_dir / name, tmp_path / name)
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-784]))
    result = run_cli("evaluate", "--data", str(tmp_path), "--model", str(small_model_info.path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "t10k-images-idx3-ubyte.gz" in result.stderr
    assert "truncated" in result.stderr


def test_evaluate_without_any_model_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path))
    assert main(["evaluate"]) == 1
    assert "no saved model" in capsys.readouterr().err


def test_tampered_model_is_refused_by_the_command_line(small_model_info, tmp_path, capsys):
    copy = tmp_path / small_model_info.path.name
    shutil.copy(small_model_info.path, copy)
    shutil.copy(small_model_info.path.with_suffix(".json"), copy.with_suffix(".json"))
    copy.write_bytes(copy.read_bytes()[:-10] + b"0123456789")
    assert main(["predict", "--model", str(copy), "x.png"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to load" in err


def test_unknown_hyperparameter_value_is_refused_before_any_work(tmp_path, capsys, mnist_dir):
    argv = ["train", "--data", str(mnist_dir), "--limit", "50", "--out", str(tmp_path)]
    assert main([*argv, "--knn-n-neighbors", "many"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.match(r"error: k-nearest neighbours: .*'n_neighbors'.* Got 'many' instead", err)
    assert not list(tmp_path.iterdir())  # nothing trained, nothing saved


def test_a_training_limit_below_one_is_refused_in_one_line(tmp_path, capsys, mnist_dir):
    argv = ["train", "--data", str(mnist_dir), "--limit", "0", "--out", str(tmp_path)]
    assert main(argv) == 1
    assert capsys.readouterr().err == ("error: limit must be a positive number of images; got 0\n")


def test_a_bug_is_not_reported_as_bad_input(monkeypatch, tmp_path):
    """Check only the project's errors become one-line messages: a plain ValueError surfaces."""

    def broken(folder=None):
        raise ValueError("a bug in the code")

    monkeypatch.setattr(store, "list_models", broken)
    with pytest.raises(ValueError, match="a bug in the code"):
        main(["models", "--folder", str(tmp_path)])


def test_models_lists_saved_models_with_their_summary(small_model_info, capsys):
    assert main(["models", "--folder", str(small_model_info.path.parent)]) == 0
    # The only model is the default (tests/test_cli_models.py checks the marks with two).
    assert capsys.readouterr().out == (
        f"{small_model_info.path}\t{small_model_info.summary}\tdefault for everyone\n"
    )


@pytest.fixture
def number_files(mnist_test, tmp_path):
    """A scan-like PNG of a three-digit number (black on white), a blank one and a broken file."""
    from PIL import Image

    from digitcore.synthetic import render_number

    picks = [int(np.flatnonzero(mnist_test.labels == d)[0]) for d in (2, 0, 7)]
    rgba = render_number([mnist_test.images[i] for i in picks], polarity="black_on_white")
    number = tmp_path / "number.png"
    Image.fromarray(rgba).save(number)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 100), "white").save(blank)
    broken = tmp_path / "broken.png"
    broken.write_bytes(number.read_bytes()[:100])
    return number, blank, broken


def test_predict_prints_each_path_as_given_with_its_digits(small_model_info, number_files, capsys):
    number, blank, _ = number_files
    code = main(["predict", "--model", str(small_model_info.path), str(number), str(blank)])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [f"{number}\t207", f"{blank}\t-"]


def test_predict_json_gives_every_models_vote_per_digit(small_model_info, number_files, capsys):
    number, _, _ = number_files
    assert main(["predict", "--json", "--model", str(small_model_info.path), str(number)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["path"] == str(number) and doc["text"] == "207"
    for digit in doc["digits"]:
        assert set(digit["votes"]) == {"svc", "knn", "rf"}
        assert digit["agreement"] == sum(v == digit["digit"] for v in digit["votes"].values())
        assert 0 < digit["confidence"]["knn"] <= 1 and 0 < digit["confidence"]["rf"] <= 1


def test_unreadable_image_is_named_and_the_others_are_still_read(
    small_model_info, number_files, capsys
):
    number, _, broken = number_files
    code = main(["predict", "--model", str(small_model_info.path), str(broken), str(number)])
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == f"{number}\t207\n"
    assert captured.err.count("\n") == 1 and str(broken) in captured.err


def test_download_from_a_dead_mirror_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DIGITCORE_MNIST_URL", "http://127.0.0.1:9/")  # the discard port: refused
    assert main(["download", "--to", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "error: could not download train-images-idx3-ubyte.gz; http://127.0.0.1:9/"
    )
    assert not list(tmp_path.iterdir())


def _commands() -> list[str]:
    from digitcore.__main__ import build_parser

    (subparsers,) = [a for a in build_parser()._actions if a.dest == "command"]
    return sorted(subparsers.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_explains_itself_with_help(command, capsys):
    with pytest.raises(SystemExit) as ended:
        main([command, "--help"])
    assert ended.value.code == 0
    assert f"usage: python -m digitcore {command}" in capsys.readouterr().out
