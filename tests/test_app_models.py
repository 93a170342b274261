"""Which model each visitor uses, and the Train and Evaluate pages, run by ``AppTest``.

A model trained by one visitor is theirs; it becomes everyone's default only when it reads at
least as well as the default on the same unseen digits, or when someone says so explicitly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
import test_app
from streamlit.testing.v1 import AppTest

from digitcore import data, ensemble, registry, settings, store, training
from pages import _shared

APP = str(Path(__file__).resolve().parent.parent / "app.py")


# Every page runs through app.py's st.navigation, as on a server (see tests/test_app.py).
routed_by_app_py = test_app.routed_by_app_py


@pytest.fixture(autouse=True)
def fresh_data_caches():
    """Counts and test digits are cached per process; each test sees its own data."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def copy_model(
    info: store.ModelInfo, folder: Path, name: str | None = None, **meta
) -> store.ModelInfo:
    """A copy of a saved model in ``folder``, its metadata updated by ``meta``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (f"{name}.joblib" if name else info.path.name)
    shutil.copy(info.path, path)
    metadata = {**info.metadata, **meta, "file": path.name}
    store.metadata_path(path).write_text(json.dumps(metadata))
    return store.ModelInfo(path, metadata)


@pytest.fixture
def models(small_model_info, mnist_dir, tmp_path, monkeypatch) -> Path:
    """A models folder holding the small model; the app's settings point at it."""
    folder = tmp_path / "models"
    copy_model(small_model_info, folder)
    monkeypatch.setenv("DIGITCORE_MODELS", str(folder))
    monkeypatch.setenv("DIGITCORE_DATA", str(mnist_dir))
    return folder


def with_score(info: store.ModelInfo, score: float) -> dict:
    """``info``'s scores with the ensemble's set to ``score``."""
    return {"scores": {**info.metadata["scores"], "ensemble": score}}


class WeakTraining:
    """Stands in for ``training.train_model``: saves a copy of the small model whose metadata
    says it scored ``score`` on the same test digits, as a quick run on few digits would."""

    def __init__(self, model: store.ModelInfo, score: float) -> None:
        self.model, self.score = model, score
        self.calls: list[dict] = []

    def __call__(self, **kwargs) -> store.ModelInfo:
        self.calls.append(kwargs)
        kwargs["progress"](1.0, "Saved")
        return copy_model(
            self.model,
            settings.models_dir(),
            f"ensemble-trained-{len(self.calls)}",
            created=f"2999-01-0{len(self.calls)}T00:00:00+00:00",
            n_train=1_000,
            **with_score(self.model, self.score),
        )


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def train_once(at: AppTest, size: int = 1_000) -> AppTest:
    at.select_slider[0].set_value(size)
    at.button[0].click()  # the form's Train button
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def messages(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.success, *at.info, *at.error, *at.warning])


# --- one visitor's new model is not everyone's ------------------------------------------------


def test_a_weaker_model_trained_by_one_visitor_is_not_another_visitors_model(
    models, small_model_info, monkeypatch
):
    default = small_model_info.metadata["scores"]["ensemble"]
    fake = WeakTraining(small_model_info, 0.30)
    monkeypatch.setattr(training, "train_model", fake)
    trainer = train_once(open_page("pages/train.py"))
    new = store.list_models(models)[0]
    assert new.name == "ensemble-trained-1"
    # The trainer uses it at once and is told, with both scores, that nobody else does.
    assert trainer.session_state.model_path == str(new.path)
    said = messages(trainer)
    assert "Saved **ensemble-trained-1**" in said
    assert f"Not made the default for everyone: ensemble 30.00% vs {default:.2%}" in said
    # Another visitor, arriving afterwards, reads with the default: not the newest model.
    other = AppTest.from_file(APP, default_timeout=120).run()
    assert not other.exception, other.exception
    assert other.sidebar.selectbox[0].value == _shared.DEFAULT
    assert registry.default_model(models).name == small_model_info.name
    assert other.sidebar.selectbox[0].options[0] == (
        f"Default for everyone ({registry.default_model(models).summary})"
    )


def test_a_model_at_least_as_good_becomes_the_default_and_the_page_says_so(
    models, small_model_info, monkeypatch
):
    score = small_model_info.metadata["scores"]["ensemble"]
    monkeypatch.setattr(training, "train_model", WeakTraining(small_model_info, score))
    at = train_once(open_page("pages/train.py"))
    assert f"Now the default for everyone: ensemble {score:.2%} vs {score:.2%}" in messages(at)
    assert registry.default_model(models).name == "ensemble-trained-1"


def test_make_default_changes_every_visitors_model_and_shows_both_scores(
    models, small_model_info, monkeypatch
):
    weak = copy_model(
        small_model_info,
        models,
        "ensemble-weak",
        created="2999-01-01T00:00:00+00:00",
        **with_score(small_model_info, 0.30),
    )
    registry.set_default(store.ModelInfo(models / small_model_info.path.name, {}))
    at = open_page("pages/train.py")
    at.selectbox(key="manage-model").set_value(weak.name).run()
    default = small_model_info.metadata["scores"]["ensemble"]
    caption = next(c.value for c in at.caption if c.value.startswith("This model:"))
    assert "ensemble 30.00% on 10,000 unseen test digits (mnist-test)" in caption
    assert f"The default for everyone ({small_model_info.name}): ensemble {default:.2%}" in caption
    click(at, "Make this the default for everyone")
    assert registry.default_model(models).name == weak.name
    assert f"{weak.name} is now the default for everyone: ensemble 30.00%" in messages(at)
    other = AppTest.from_file(APP, default_timeout=120).run()
    assert other.sidebar.selectbox[0].options[0] == f"Default for everyone ({weak.summary})"


def test_delete_refuses_the_only_model(models, small_model_info):
    at = open_page("pages/train.py")
    click(at, "Delete this model")
    assert "Not deleted" in messages(at) and "only saved model" in messages(at)
    assert len(store.list_models(models)) == 1


def test_delete_refuses_the_default_and_removes_another_model(models, small_model_info):
    other = copy_model(small_model_info, models, "ensemble-other", created="2000-01-01T00:00:00")
    at = open_page("pages/train.py")
    at.selectbox(key="manage-model").set_value(small_model_info.name).run()
    click(at, "Delete this model")
    assert "default model for everyone" in messages(at)
    assert len(store.list_models(models)) == 2
    at.selectbox(key="manage-model").set_value(other.name).run()
    click(at, "Delete this model")
    assert f"Deleted {other.name}." in messages(at)
    assert [m.name for m in store.list_models(models)] == [small_model_info.name]


def test_a_visitor_whose_model_was_deleted_falls_back_to_the_default(models, small_model_info):
    other = copy_model(small_model_info, models, "ensemble-other", created="2000-01-01T00:00:00")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.selectbox[0].select(str(other.path)).run()
    registry.delete(other)
    at.run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox[0].value == _shared.DEFAULT


# --- the Train form ----------------------------------------------------------------------------


def test_every_hyperparameter_is_explained_in_words_on_the_train_form(models):
    at = open_page("pages/train.py")
    for member, defaults in ensemble.DEFAULT_PARAMS.items():
        for name in defaults:
            widget = next(w for w in at.main if getattr(w, "key", None) == f"param-{member}-{name}")
            assert widget.help == ensemble.PARAM_HELP[member][name]
            assert "Larger values" in widget.help or "larger values" in widget.help


@pytest.fixture
def few_training_digits(monkeypatch):
    """A training set of 4,500 digits, as a stand-in for a smaller offline one."""
    load = data.load_mnist

    def load_mnist(split, *args, **kwargs):
        found = load(split, *args, **kwargs)
        return found.subset(4_500) if split == "train" else found

    monkeypatch.setattr(data, "load_mnist", load_mnist)


def test_train_sizes_stop_at_the_training_digits_available(models, few_training_digits):
    at = open_page("pages/train.py")
    assert at.select_slider[0].options == ["1,000", "2,000", "4,500 (all)"]


def test_training_on_all_the_digits_available_takes_no_subset(
    models, small_model_info, few_training_digits, monkeypatch
):
    fake = WeakTraining(small_model_info, 0.5)
    monkeypatch.setattr(training, "train_model", fake)
    train_once(open_page("pages/train.py"), size=4_500)
    assert fake.calls[0]["limit"] is None


# --- the Evaluate page -------------------------------------------------------------------------


def test_evaluate_sizes_stop_at_the_test_digits_available(models):
    at = open_page("pages/evaluate.py")
    assert at.select_slider[0].options == ["1,000", "2,000", "5,000", "10,000 (all)"]


def test_evaluate_scores_a_stratified_seeded_subset_and_says_which(models, mnist_test):
    at = open_page("pages/evaluate.py")
    words = next(c.value for c in at.caption if c.value.startswith("Scored on"))
    assert words.startswith("Scored on 2,000 of the 10,000 digits of the MNIST test set")
    assert "same share of each digit (seed 0)" in words
    assert "None of them is among the digits this model trained on: 3,000 digits of the " in words
    counted = at.dataframe[0].value["test digits"]  # per digit, from the confusion matrix
    expected = mnist_test.subset(2_000, seed=0).labels
    assert counted.tolist() == [int((expected == d).sum()) for d in range(10)]
    # Stratified: each digit keeps its share of the 10,000 (not the first 2,000's).
    share = [int((mnist_test.labels == d).sum()) / 5 for d in range(10)]
    assert all(abs(c - s) <= 1 for c, s in zip(counted, share, strict=True))


def test_evaluate_on_all_the_test_digits_says_all(models):
    at = open_page("pages/evaluate.py")
    at.select_slider[0].set_value(10_000).run()
    words = next(c.value for c in at.caption if c.value.startswith("Scored on"))
    assert words.startswith("Scored on all 10,000 digits of the MNIST test set")


def test_evaluate_refuses_a_model_trained_on_the_test_digits(models, small_model_info):
    trained = {**small_model_info.metadata["training_data"], "name": "mnist-test"}
    copy_model(small_model_info, models, training_data=trained)
    at = open_page("pages/evaluate.py")
    assert "is not scored here" in at.error[0].value
    assert "trained on" in at.error[0].value
    assert not at.subheader


# --- the sidebar names data, never a machine path ----------------------------------------------


def test_the_sidebar_shows_no_machine_path(models, small_model_info, mnist_dir):
    # Metadata written before issue 10 named the folder the digits were read from, and
    # recorded no description of them.
    copy_model(small_model_info, models, data_source=f"folder {mnist_dir}", training_data=None)
    at = AppTest.from_file(APP, default_timeout=120).run()
    shown = [c.value for c in at.sidebar.caption] + list(at.sidebar.selectbox[0].options)
    assert shown[0] == "Trained on 3,000 digits, source not recorded."
    for text in shown:
        assert "/" not in text and str(mnist_dir) not in text and str(models) not in text


def test_the_first_run_model_becomes_the_default(small_model_info, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path / "empty"))
    monkeypatch.setattr(training, "train_model", WeakTraining(small_model_info, 0.5))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    pointer = json.loads((tmp_path / "empty" / registry.DEFAULT_FILE).read_text())
    assert pointer == {"file": "ensemble-trained-1.joblib"}
