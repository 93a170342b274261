"""digitcore.training: the training job fits, scores on unseen digits and saves what it used."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitcore import data, ensemble, store, styles
from digitcore.data import Dataset
from digitcore.errors import DataError, ParamError
from digitcore.training import parse_param, train_model


def test_given_digits_are_trained_on_and_mnist_is_not_loaded(
    mnist_train, mnist_test, tmp_path, monkeypatch
):
    def no_loading(*args, **kwargs):
        raise AssertionError("train_model loaded MNIST although both sets were given")

    monkeypatch.setattr(data, "load_mnist", no_loading)
    calls = []
    real_train = ensemble.train

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(ensemble, "train", spy)
    some = mnist_train.subset(2000)
    drawn = Dataset(some.images, some.labels, "my-drawings", "my drawings")
    seen = []
    info = train_model(
        drawn,
        test_set=mnist_test.head(500),
        limit=1500,
        folder=tmp_path,
        n_jobs=1,
        progress=lambda fraction, message: seen.append(fraction),
    )
    meta = info.metadata
    # The 1,500 digits, flagged copies of 1 in 30 of them (50), at most each upright 1 once
    # (the offline sample's 1,500 hold 48), and slashed copies of 1 in 120 (12) of its slim 0s.
    said = meta["training_data"]["styles"]
    flagged, slashed = said["flagged_ones"], said["slashed_zeros"]
    assert 40 <= flagged <= 50 and flagged == min(50, said["of_upright_ones"])
    assert slashed == min(12, said["of_slim_zeros"]) > 0
    assert meta["n_train"] == 1500 + flagged + slashed and meta["n_test"] == 500
    assert meta["data_source"] == (
        f"my drawings, {flagged} of them flagged copies of its upright 1s and {slashed} slashed "
        "copies of its slim 0s"
    )
    assert meta["training_data"]["name"] == "my-drawings"
    assert meta["test_data"]["name"] == "mnist-test" and meta["test_data"]["n"] == 500
    assert meta["scores"]["ensemble"] > 0.8
    assert calls[0]["n_jobs"] == 1
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert store.list_models(tmp_path)[0].path == info.path


def test_only_the_missing_split_is_loaded(mnist_train, mnist_test, tmp_path, monkeypatch):
    loaded = []

    def load_mnist(split, data_dir=None, **kwargs):
        loaded.append(split)
        return mnist_test.head(300)

    monkeypatch.setattr(data, "load_mnist", load_mnist)
    info = train_model(mnist_train.subset(1000), folder=tmp_path)
    assert loaded == ["test"] and info.metadata["n_test"] == 300


@pytest.fixture(scope="module")
def limited(mnist_train, mnist_test, tmp_path_factory):
    """A model trained with ``limit=1000`` and ``random_state=7``, scored on 500 test digits."""
    folder = tmp_path_factory.mktemp("limited")
    return train_model(
        mnist_train, test_set=mnist_test.head(500), limit=1000, random_state=7, folder=folder
    )


def test_a_limit_trains_on_a_stratified_subset_seeded_by_random_state(limited, mnist_train):
    described = limited.metadata["training_data"]
    expected = mnist_train.subset(1000, seed=7)
    # Those digits, then up to 33 of their upright 1s with a flag and up to 8 of their slim 0s
    # with a slash, drawn with the same seed.
    styled = styles.with_styles(expected, random_state=7)
    assert 0 < len(styled) - 1000 <= 33 + 8
    assert described["n"] == len(styled) and described["name"] == mnist_train.name
    rule = described["subset"]
    assert rule["n"] == 1000 and rule["seed"] == 7 and rule["of"] == len(mnist_train)
    assert rule["rule"] == "stratified by digit, shuffled"
    assert described["digits_sha256"] == data.digits_sha256(styled.images, styled.labels)
    # Stratified: each digit keeps its share, so a set sorted by digit still gives all ten.
    assert np.bincount(expected.labels, minlength=10).min() >= 80


def test_metadata_records_which_digits_and_no_machine_path(limited, mnist_dir):
    meta = limited.metadata
    assert meta["test_data"]["subset"]["rule"] == "first" and meta["test_data"]["n"] == 500
    assert meta["data_source"] == meta["training_data"]["source"]  # words for people
    text = json.dumps(meta)
    for path in (str(mnist_dir), str(limited.path.parent), "/"):
        assert path not in text
    assert "test_source" not in meta and "data_sha256" not in meta


def test_the_unsure_calibration_is_stored(limited):
    unsure = limited.metadata["unsure"]
    assert unsure["distance"] > 0 and unsure["quantile"] == 0.99


def test_testing_on_the_training_set_is_refused_before_fitting(mnist_train, tmp_path, monkeypatch):
    monkeypatch.setattr(ensemble, "train", lambda *a, **k: pytest.fail("fitted anyway"))
    with pytest.raises(DataError, match="refusing to score a model on digits it trained on"):
        train_model(
            mnist_train, test_set=mnist_train.subset(100, seed=1), limit=200, folder=tmp_path
        )
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"limit": 0}, "limit must be a positive number of images; got 0"),
        ({"params": {"svm": {}}}, "unknown member 'svm'"),
    ],
)
def test_bad_options_are_refused_before_loading_anything(kwargs, message, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: pytest.fail("loaded MNIST"))
    with pytest.raises(ParamError, match=message):
        train_model(folder=tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "text, value", [("3", 3), ("0.5", 0.5), ("None", None), ("", None), (" scale ", "scale")]
)
def test_typed_hyperparameters_become_numbers_none_or_words(text, value):
    assert parse_param(text) == value


def test_drawings_with_none_left_to_train_on_are_refused_before_fitting(
    mnist_train, mnist_test, tmp_path, monkeypatch
):
    from digitcore import learning
    from digitcore.drawing_rows import DrawingSet

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted although there was no drawing to add")

    monkeypatch.setattr(ensemble, "train", no_fit)
    # Two drawings, both held back: nothing is left to train on.
    monkeypatch.setattr(learning, "held_back", lambda hashes, share=1.0: np.ones(len(hashes), bool))
    two = DrawingSet(
        mnist_test.images[:2], mnist_test.labels[:2], "drawings", ids=np.arange(2),
        hashes=np.array(["a" * 32, "b" * 32]), drawing_hashes=np.array(["a" * 32, "b" * 32]),
    )  # fmt: skip
    with pytest.raises(DataError, match="no saved drawing to train on"):
        train_model(mnist_train.subset(200), test_set=mnist_test.head(50), drawings=two,
                    folder=tmp_path)  # fmt: skip
