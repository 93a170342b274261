"""digitcore.training: the training job fits, scores and saves on the digits it is given."""

from __future__ import annotations

import pytest

from digitcore import data, ensemble, store
from digitcore.data import Dataset
from digitcore.errors import ParamError
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
    drawn = Dataset(mnist_train.images[:2000], mnist_train.labels[:2000], "my drawings")
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
    assert meta["n_train"] == 1500 and meta["n_test"] == 500
    assert meta["data_source"] == "my drawings" and "folder" in meta["test_source"]
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
    info = train_model(mnist_train.head(1000), folder=tmp_path)
    assert loaded == ["test"] and info.metadata["n_test"] == 300


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
