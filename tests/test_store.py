"""Saving and loading models: metadata beside the file, and refusal of what we did not write."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from digitcore import registry, store
from digitcore.errors import ModelError


@pytest.fixture
def saved(tmp_path):
    model = DummyClassifier(strategy="constant", constant=7).fit(np.zeros((2, 1)), [7, 3])
    return store.save(model, {"scores": {"ensemble": 0.5}, "n_train": 1234}, folder=tmp_path)


def test_saved_model_loads_back_with_its_metadata(saved):
    model, meta = store.load(saved.path)
    assert model.predict(np.zeros((1, 1))).tolist() == [7]
    assert meta["scores"] == {"ensemble": 0.5} and meta["n_train"] == 1234
    assert meta["sha256"] == saved.metadata["sha256"]
    assert meta["libraries"]["scikit-learn"] == store.LIBRARIES["scikit-learn"]
    assert meta["file_bytes"] == saved.path.stat().st_size


def test_tampered_model_file_is_refused(saved):
    raw = bytearray(saved.path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    saved.path.write_bytes(bytes(raw))
    with pytest.raises(ModelError, match="does not match .* refusing to load"):
        store.load(saved.path)


def test_model_from_other_library_versions_is_refused(saved):
    meta_file = store.metadata_path(saved.path)
    meta = json.loads(meta_file.read_text())
    meta["libraries"]["scikit-learn"] = "0.24.2"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"saved with scikit-learn 0.24.2 \(running "):
        store.load(saved.path)


def test_model_without_metadata_is_refused(saved):
    store.metadata_path(saved.path).unlink()
    with pytest.raises(ModelError, match="no metadata file"):
        store.load(saved.path)


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        store.load(tmp_path / "nothing.joblib")


def test_listing_offers_only_our_models_newest_first(saved, tmp_path):
    newer = store.save(DummyClassifier().fit([[0]], [1]), {}, folder=tmp_path)
    (tmp_path / "stranger.joblib").write_bytes(b"not ours")
    assert [m.path for m in store.list_models(tmp_path)] == [newer.path, saved.path]


def test_models_folder_comes_from_the_environment(saved, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path))
    assert registry.default_model().path == saved.path
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path / "empty"))
    assert registry.default_model() is None


def test_summary_says_when_on_how_many_digits_and_how_good(saved):
    created = saved.metadata["created"].replace("T", " ")[:16]
    assert saved.summary == f"{created} · 1,234 digits · ensemble 50.00%"


def test_summary_of_sparse_metadata_says_what_is_unknown(tmp_path):
    info = store.ModelInfo(tmp_path / "m.joblib", {"created": "2026-01-02T03:04:05+00:00"})
    assert info.summary == "2026-01-02 03:04 · ? digits"


def test_saved_files_are_world_readable(saved):
    for path in (saved.path, store.metadata_path(saved.path)):
        assert path.stat().st_mode & 0o777 == 0o644


def test_save_leaves_no_temporary_files(saved, tmp_path):
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [saved.path.name, store.metadata_path(saved.path).name]
    )


def test_shipped_model_loads_with_the_pinned_libraries_and_reads_test_digits(mnist_test):
    from pathlib import Path

    shipped = registry.default_model(Path(__file__).resolve().parent.parent / "models")
    assert shipped is not None, "the repository ships a full-MNIST model in models/"
    model, meta = store.load(shipped.path)  # checks its SHA-256 and library versions
    # All of MNIST's training digits, flagged copies of 2,000 of its 1s and slashed copies of
    # 500 of its 0s (digitcore.styles).
    assert meta["training_data"]["styles"]["flagged_ones"] == 2000
    assert meta["training_data"]["styles"]["slashed_zeros"] == 500
    assert meta["n_train"] == 62500 and meta["scores"]["ensemble"] > max(
        meta["scores"][name] for name in ("svc", "knn", "rf")
    )
    images, labels = mnist_test.images[:1000], mnist_test.labels[:1000]
    assert np.mean(model.predict(images) == labels) >= 0.99


# --- the default model: one for everyone, changed only by promote, set_default or delete ------


def saved_model(folder, score, *, test_data=("mnist-test", 10_000), created=None):
    """A tiny saved model whose metadata says it scored ``score`` on ``test_data``."""
    meta = {"scores": {"ensemble": score}}
    if test_data is not None:
        meta["test_data"] = {"name": test_data[0], "n": test_data[1]}
    info = store.save(DummyClassifier().fit([[0]], [1]), meta, folder=folder)
    if created is not None:  # save names files by the microsecond; order them explicitly
        meta = {**info.metadata, "created": created}
        store.metadata_path(info.path).write_text(json.dumps(meta))
        info = store.ModelInfo(info.path, meta)
    return info


def test_without_a_pointer_the_newest_model_is_the_default(tmp_path):
    assert registry.default_model(tmp_path) is None
    saved_model(tmp_path, 0.9, created="2026-01-01T00:00:00+00:00")
    newer = saved_model(tmp_path, 0.8, created="2026-01-02T00:00:00+00:00")
    assert registry.default_model(tmp_path).path == newer.path


def test_the_pointer_names_the_default_and_a_stale_pointer_falls_back_to_the_newest(tmp_path):
    older = saved_model(tmp_path, 0.9, created="2026-01-01T00:00:00+00:00")
    newer = saved_model(tmp_path, 0.8, created="2026-01-02T00:00:00+00:00")
    registry.set_default(older)
    assert registry.default_model(tmp_path).path == older.path
    (tmp_path / registry.DEFAULT_FILE).write_text('{"file": "gone.joblib"}')
    assert registry.default_model(tmp_path).path == newer.path
    (tmp_path / registry.DEFAULT_FILE).write_text("not json")
    assert registry.default_model(tmp_path).path == newer.path


def test_a_weaker_new_model_is_not_promoted_and_the_default_stays(tmp_path):
    default = saved_model(tmp_path, 0.987, created="2026-01-01T00:00:00+00:00")
    weaker = saved_model(tmp_path, 0.30, created="2026-01-02T00:00:00+00:00")
    promotion = registry.promote(weaker)
    assert not promotion.promoted
    assert (promotion.new_score, promotion.default_score) == (0.30, 0.987)
    assert promotion.reason == (
        f"not made the default for everyone: ensemble 30.00% vs 98.70% for {default.name} on the same "
        f"10,000 unseen test digits (mnist-test); the default stays {default.name}"
    )
    # Though it is the newest, the pointer keeps the default where it was.
    assert registry.default_model(tmp_path).path == default.path


@pytest.mark.parametrize("score", [0.987, 0.991])
def test_a_new_model_at_least_as_accurate_becomes_the_default(tmp_path, score):
    default = saved_model(tmp_path, 0.987, created="2026-01-01T00:00:00+00:00")
    registry.set_default(default)
    better = saved_model(tmp_path, score, created="2026-01-02T00:00:00+00:00")
    promotion = registry.promote(better)
    assert promotion.promoted
    assert promotion.reason.startswith(
        f"now the default for everyone: ensemble {score:.2%} vs 98.70% for "
    )
    assert registry.default_model(tmp_path).path == better.path


@pytest.mark.parametrize(
    "test_data", [("mnist-test", 500), ("mnist-train-sample", 10_000), None], ids=str
)
def test_scores_on_other_digits_are_not_compared(tmp_path, test_data):
    default = saved_model(tmp_path, 0.5, created="2026-01-01T00:00:00+00:00")
    other = saved_model(tmp_path, 0.99, test_data=test_data, created="2026-01-02T00:00:00+00:00")
    promotion = registry.promote(other)
    assert not promotion.promoted
    assert "cannot be compared" in promotion.reason
    assert registry.default_model(tmp_path).path == default.path


def test_the_first_model_becomes_the_default(tmp_path):
    first = saved_model(tmp_path, 0.3)
    promotion = registry.promote(first)
    assert promotion.promoted and promotion.default_score is None
    assert json.loads((tmp_path / registry.DEFAULT_FILE).read_text()) == {"file": first.path.name}


def test_delete_removes_a_model_that_is_not_the_default(tmp_path):
    default = saved_model(tmp_path, 0.9, created="2026-01-01T00:00:00+00:00")
    other = saved_model(tmp_path, 0.8, created="2026-01-02T00:00:00+00:00")
    registry.set_default(default)
    registry.delete(other)
    assert not other.path.exists() and not store.metadata_path(other.path).exists()
    assert [m.path for m in store.list_models(tmp_path)] == [default.path]


def test_delete_refuses_the_only_model(tmp_path):
    only = saved_model(tmp_path, 0.9)
    with pytest.raises(ModelError, match="only saved model and cannot be deleted; train another"):
        registry.delete(only)
    assert only.path.exists()


def test_delete_refuses_the_default_until_another_is_chosen(tmp_path):
    default = saved_model(tmp_path, 0.9, created="2026-01-01T00:00:00+00:00")
    other = saved_model(tmp_path, 0.8, created="2026-01-02T00:00:00+00:00")
    registry.set_default(default)
    with pytest.raises(ModelError, match="default model for everyone .* another model the default"):
        registry.delete(default)
    registry.set_default(other)
    registry.delete(default)
    assert [m.path for m in store.list_models(tmp_path)] == [other.path]


def test_delete_refuses_the_newest_model_when_it_is_the_default_by_default(tmp_path):
    saved_model(tmp_path, 0.9, created="2026-01-01T00:00:00+00:00")
    newest = saved_model(tmp_path, 0.8, created="2026-01-02T00:00:00+00:00")
    with pytest.raises(ModelError, match="default model for everyone"):
        registry.delete(newest)
