"""digitcore.learning and train --drawings: the held-back split, the joined set, and a model
trained with drawings that records them and is never scored on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitcore import drawings, evaluation, learning, training
from digitcore.__main__ import main
from digitcore.drawing_rows import DrawingSet, image_rows
from digitcore.errors import DataError, ParamError
from digitcore.training import train_model
from tests.test_app_models import (  # the app tests' fixtures and helpers, shared
    WeakTraining,
    fresh_data_caches,  # noqa: F401
    models,  # noqa: F401
    open_page,
    routed_by_app_py,  # noqa: F401
    train_once,
)


def hashes(n: int, start: int = 0) -> np.ndarray:
    return np.array([f"{i:032x}" for i in range(start, start + n)], "U32")


def drawing_set(images: np.ndarray, labels: np.ndarray, drawing_hashes=None) -> DrawingSet:
    n = len(labels)
    own = hashes(n, start=10**6)
    return DrawingSet(
        images, labels, "drawings", "saved drawings", ids=np.arange(n), hashes=own,
        drawing_hashes=own if drawing_hashes is None else drawing_hashes,
    )  # fmt: skip


@pytest.fixture(scope="module")
def saved(tmp_path_factory, mnist_test) -> drawings.DrawingStore:
    """A drawings database holding 240 MNIST test digits (from the end of the set, so never
    the head the tests score on)."""
    folder = tmp_path_factory.mktemp("drawings")
    store = drawings.open_store(f"sqlite:///{folder / 'drawings.sqlite'}")
    store.save_rows(image_rows(mnist_test.images[-240:], mnist_test.labels[-240:]))
    return store


def test_the_held_back_share_is_stable_as_more_drawings_are_saved():
    first = learning.held_back(hashes(400))
    more = learning.held_back(hashes(1000))
    assert (more[:400] == first).all()
    assert 0.18 < first.mean() < 0.32  # about HELD_BACK (0.25)


def test_the_split_is_disjoint_and_covers_every_drawing(mnist_test):
    some = drawing_set(mnist_test.images[:300], mnist_test.labels[:300])
    kept, held = learning.split(some)
    assert len(kept) + len(held) == 300 and len(held) > 0 and len(kept) > 0
    assert not set(kept.hashes) & set(held.hashes)
    assert set(kept.hashes) | set(held.hashes) == set(some.hashes)
    assert (held.images == some.images[learning.held_back(some.drawing_hashes)]).all()


def test_the_digits_of_one_drawing_stay_on_one_side(mnist_test):
    numbers = np.repeat(hashes(100), 3)  # 100 three-digit numbers
    kept, held = learning.split(
        drawing_set(mnist_test.images[:300], mnist_test.labels[:300], numbers)
    )
    assert not set(kept.drawing_hashes) & set(held.drawing_hashes)
    assert len(held) % 3 == 0


def test_joined_set_holds_mnist_and_each_drawing_with_its_copies(mnist_train, mnist_test):
    some = drawing_set(mnist_test.images[:20], mnist_test.labels[:20])
    joined = learning.join(mnist_train.subset(500), some, copies=3)
    assert len(joined) == 500 + 20 * 4
    assert (joined.images[500:520] == some.images).all()  # the drawings themselves first
    assert (
        np.bincount(joined.labels[500:], minlength=10).tolist()
        == (np.bincount(some.labels, minlength=10) * 4).tolist()
    )
    mnist_part, drawn_part = joined.describe()["parts"]
    assert mnist_part["name"] == mnist_train.name and mnist_part["n"] == 500
    assert drawn_part["hashes"] == sorted(some.hashes) and drawn_part["copies"] == 3


@pytest.mark.parametrize(
    ("copies", "n", "error", "message"),
    [(-1, 5, ParamError, "copies must be 0 or more"), (2, 0, DataError, "no saved drawing")],
)
def test_bad_copies_or_no_drawings_are_refused(mnist_train, mnist_test, copies, n, error, message):
    some = drawing_set(mnist_test.images[:n], mnist_test.labels[:n])
    with pytest.raises(error, match=message):
        learning.join(mnist_train.subset(100), some, copies=copies)


@pytest.fixture(scope="module")
def trained_with_drawings(saved, mnist_train, mnist_test, small_model, small_model_info,
                          tmp_path_factory):  # fmt: skip
    info = train_model(
        mnist_train.subset(1000), test_set=mnist_test.head(300), drawings=saved.dataset(),
        copies=1, baseline=(small_model, small_model_info.metadata), folder=tmp_path_factory.mktemp("models"),
        n_jobs=1,
    )  # fmt: skip
    return info, saved


def test_a_model_trained_with_drawings_records_which_and_reports_before_and_after(
    trained_with_drawings,
):
    info, saved = trained_with_drawings
    everything = saved.dataset()
    kept, held = learning.split(everything)
    meta = info.metadata
    said = meta["drawings"]
    assert said["trained"] == len(kept) and said["held_back"] == len(held) and said["copies"] == 1
    styled = meta["training_data"]["parts"][0]["styles"]
    flagged, slashed = styled["flagged_ones"], styled["slashed_zeros"]
    assert flagged == min(33, styled["of_upright_ones"]) > 0
    assert slashed == min(8, styled["of_slim_zeros"]) > 0
    assert meta["n_train"] == 1000 + flagged + slashed + 2 * len(kept)
    assert learning.trained_hashes(meta) == set(kept.hashes)
    assert set(said["after"]) == {"svc", "knn", "rf", "ensemble"}
    assert said["before"]["scores"]["ensemble"] > 0.5  # the small model read the held-back ones
    rows = learning.before_after(meta)
    assert [r["when"] for r in rows] == ["before", "after"]
    assert rows[1]["held_back"] == said["after"]["ensemble"]


def test_evaluation_refuses_the_drawings_a_model_trained_on(trained_with_drawings):
    info, saved = trained_with_drawings
    everything = saved.dataset()
    kept, held = learning.split(everything)
    with pytest.raises(DataError, match="drawings it trained on"):
        evaluation.check_unseen(info.metadata, everything)
    with pytest.raises(DataError, match="drawings it trained on"):
        evaluation.check_unseen(info.metadata, kept.subset(5))
    evaluation.check_unseen(info.metadata, held)  # the held-back ones are unseen
    assert set(learning.unseen(everything, info.metadata).hashes) == set(held.hashes)


def test_a_model_trained_with_drawings_still_refuses_mnist_train(
    trained_with_drawings, mnist_train
):
    info, _ = trained_with_drawings
    with pytest.raises(DataError, match="digits it trained on"):
        evaluation.check_unseen(info.metadata, mnist_train)


def test_evaluate_on_drawings_json_has_the_mnist_reports_shape(
    saved, small_model, small_model_info, mnist_test, monkeypatch, capsys
):
    monkeypatch.setenv("DIGITCORE_DB", str(saved.engine.url))
    model = str(small_model_info.path)
    assert main(["evaluate", "--on", "drawings", "--model", model, "--json"]) == 0
    on_drawings = json.loads(capsys.readouterr().out)
    # What `evaluate --json` prints on MNIST (tests/test_cli.py runs that on all 10,000).
    on_mnist = evaluation.evaluate_unseen(
        small_model, mnist_test.head(50), training=small_model_info.metadata
    ).to_json()

    def shape(report):
        return {
            k: sorted(v) if isinstance(v, dict) else type(v).__name__ for k, v in report.items()
        }

    assert shape(on_drawings) == shape(on_mnist)
    assert set(on_drawings["models"]) == set(on_mnist["models"])
    assert on_drawings["n_test"] == 240 and on_drawings["test_data"]["name"] == "drawings"
    assert sum(map(sum, on_drawings["models"]["ensemble"]["confusion_matrix"])) == 240


def test_evaluate_on_an_empty_drawings_database_says_how_to_save_some(
    small_model_info, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DIGITCORE_DB", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert main(["evaluate", "--on", "drawings", "--model", str(small_model_info.path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no saved drawing") and "drawings add" in err


# --- the Evaluate and Train pages --------------------------------------------------------------


@pytest.fixture
def app_with_drawings(request, saved, monkeypatch):
    """The app's models folder holding the small model, and the 240 saved drawings."""
    monkeypatch.setenv("DIGITCORE_DB", str(saved.engine.url))
    return request.getfixturevalue("models")


def test_evaluate_page_scores_the_saved_drawings_as_a_second_data_set(app_with_drawings):
    at = open_page("pages/evaluate.py")
    at.segmented_control[0].set_value("Saved drawings").run()
    assert not at.exception, at.exception
    words = next(c.value for c in at.caption if c.value.startswith("Scored on"))
    assert words.startswith("Scored on 240 of the 240 saved drawings: digits people drew")
    counted = at.dataframe[0].value["test digits"]  # per digit, from the confusion matrix
    assert int(counted.sum()) == 240


def test_train_page_adds_the_drawings_and_shows_before_and_after(
    app_with_drawings, small_model_info, monkeypatch
):
    fake = WeakTraining(small_model_info, 0.5)

    def with_drawings(**kwargs):
        info = fake(**kwargs)
        before = {"model": "old", "scores": {"ensemble": 0.9}, "mnist_scores": {"ensemble": 0.97}}
        info.metadata["drawings"] = {
            "trained": 180, "held_back": 60, "copies": 10, "after": {"ensemble": 0.95},
            "before": before,
        }  # fmt: skip
        return info

    monkeypatch.setattr(training, "train_model", with_drawings)
    at = open_page("pages/train.py")
    box = next(c for c in at.checkbox if c.key == "train-drawings")
    assert box.label == "Add the 240 saved drawings" and not box.disabled
    box.check()
    train_once(at)
    assert len(fake.calls[0]["drawings"]) == 240
    assert fake.calls[0]["baseline"][1]["sha256"] == small_model_info.metadata["sha256"]
    assert any(s.value == "Learning from the saved drawings" for s in at.subheader)
    (table,) = [d.value for d in at.dataframe if "held-back drawings" in d.value.columns]
    assert table["held-back drawings"].tolist() == [0.9, 0.95]
    assert table["MNIST test"].tolist()[0] == 0.97
