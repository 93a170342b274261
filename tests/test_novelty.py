"""Saying "not sure": calibrated on unseen MNIST digits, it flags scribbles and few real digits."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from browser_strokes import render, sample_digits, scribbles

from digitcore import novelty, registry, store
from digitcore.errors import DataError, ModelError
from digitcore.recognize import recognize

SHIPPED = Path(__file__).resolve().parent.parent / "models"


@pytest.fixture(scope="module")
def calibration(mnist_test):
    """The shipped full-MNIST model (what people get, in every setup, offline too) calibrated
    anew on the MNIST test set, with what calibrate returned."""
    model, _ = store.load(registry.default_model(SHIPPED).path)
    return model, novelty.calibrate(model, mnist_test, seed=0)


def test_calibration_flags_about_one_percent_of_unseen_test_digits(calibration, mnist_test):
    model, result = calibration
    assert set(result) == {
        "distance", "quantile", "flagged_heldout", "flagged_folds", "calibrated_on"
    }  # fmt: skip
    assert result["quantile"] == 0.99
    assert novelty.threshold(model) == result["distance"] > 0
    # Each half, judged by the other half's threshold: about 1% of digits it never saw.
    assert all(0.004 <= share <= 0.016 for share in result["flagged_folds"])
    assert result["flagged_heldout"] == pytest.approx(np.mean(result["flagged_folds"]))
    assert f"all {len(mnist_test):,} digits" in result["calibrated_on"]
    # The threshold kept is the 99th percentile of all the test digits' distances.
    share = float(np.mean(novelty.distances(model, mnist_test.images) > result["distance"]))
    assert share == pytest.approx(0.01, abs=0.0005)


def test_the_threshold_depends_on_the_digits_and_the_seed_only_on_the_measured_share(
    small_model, mnist_test
):
    subset = mnist_test.head(2000)
    model = copy.deepcopy(small_model)
    first = novelty.calibrate(model, subset, seed=0)
    again = novelty.calibrate(model, subset, seed=0)
    other = novelty.calibrate(model, subset, seed=1)
    assert again == first
    assert other["distance"] == first["distance"]
    assert other["flagged_folds"] != first["flagged_folds"]
    assert novelty.calibrate(model, mnist_test.head(1000), seed=0)["distance"] != first["distance"]


def test_most_scribbles_are_not_read_as_a_digit_and_drawn_digits_are(calibration):
    model, _ = calibration
    outcomes = [recognize(model, render(strokes)) for _, strokes in scribbles(60)]
    answered = [r for r in outcomes if r.status == "digits" and r.sure]
    print(f"scribbles answered as digits: {len(answered)} of {len(outcomes)}")
    assert len(answered) <= 0.5 * len(outcomes), [r.text for r in answered]
    drawn = [recognize(model, render(strokes)) for _, strokes in sample_digits(20)]
    assert all(r.sure for r in drawn), [r.text for r in drawn if not r.sure]


def test_a_lone_stroke_is_not_sure_and_offers_the_members_answers(calibration):
    model, _ = calibration
    stroke = next(strokes for kind, strokes in scribbles(12) if kind == "first stroke of a 4")
    (read,) = recognize(model, render(stroke)).digits
    assert not read.sure
    assert read.candidates[0] == read.digit
    assert sorted(read.candidates) == sorted(set(read.votes.values()))


def test_a_model_saved_before_calibration_existed_is_always_sure(calibration):
    model = copy.deepcopy(calibration[0])
    delattr(model, novelty.ATTRIBUTE)
    stroke = next(strokes for kind, strokes in scribbles(12) if kind == "first stroke of a 4")
    assert novelty.threshold(model) is None
    assert recognize(model, render(stroke)).sure


def test_the_threshold_is_saved_with_the_model(calibration, tmp_path):
    model, result = calibration
    info = store.save(model, {}, folder=tmp_path)
    loaded, _ = store.load(info.path)
    assert novelty.threshold(loaded) == result["distance"]


@pytest.mark.parametrize(
    ("votes", "flagged"),
    [
        ((3, 5, 7), True),
        ((3, 5, 5), False),
        ((4, 4, 4), False),
        ((1, 2, 3, 3), False),
        ((1, 2, 3, 4), True),
    ],
)
def test_only_members_that_all_disagree_are_flagged(votes, flagged):
    assert novelty.no_two_agree(np.array([votes])).tolist() == [flagged]


def test_calibration_refuses_too_few_digits(small_model, mnist_test):
    with pytest.raises(DataError, match="at least 20 unseen digits.*got 10"):
        novelty.calibrate(copy.deepcopy(small_model), mnist_test.head(10))


def test_a_model_without_a_nearest_neighbours_member_cannot_be_calibrated(small_model, mnist_test):
    model = copy.deepcopy(small_model)
    model.named_estimators_.pop("knn")
    with pytest.raises(ModelError, match=r"nearest-neighbours member 'knn'.*\['rf', 'svc'\]"):
        novelty.calibrate(model, mnist_test.head(100))
