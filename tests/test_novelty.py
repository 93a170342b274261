"""Saying "not sure": calibrated on unseen MNIST digits, it flags scribbles and few real digits."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from browser_strokes import render, sample_digits, scribbles

from digitcore import novelty, store
from digitcore.errors import DataError, ModelError
from digitcore.recognize import recognize


@pytest.fixture(scope="module")
def calibration(small_model, mnist_test):
    """A copy of the small model calibrated on the test set, with what calibrate returned."""
    model = copy.deepcopy(small_model)
    return model, novelty.calibrate(model, mnist_test, seed=0)


def test_calibration_flags_about_one_percent_of_unseen_test_digits(calibration, mnist_test):
    model, result = calibration
    assert set(result) == {"distance", "quantile", "flagged_heldout", "calibrated_on"}
    assert result["quantile"] == 0.99
    assert novelty.threshold(model) == result["distance"] > 0
    assert 0.002 <= result["flagged_heldout"] <= 0.025
    assert f"{len(mnist_test) // 2:,} of {len(mnist_test):,}" in result["calibrated_on"]
    # The threshold is the calibration half's 99th percentile: about 1% of all test digits lie past it.
    share = float(np.mean(novelty.distances(model, mnist_test.images) > result["distance"]))
    assert 0.005 <= share <= 0.02


def test_the_same_seed_gives_the_same_threshold_and_another_seed_another(small_model, mnist_test):
    subset = mnist_test.head(2000)
    model = copy.deepcopy(small_model)
    first = novelty.calibrate(model, subset, seed=0)["distance"]
    assert novelty.calibrate(model, subset, seed=0)["distance"] == first
    assert novelty.calibrate(model, subset, seed=1)["distance"] != first


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
