"""Evaluation: per-member and ensemble scores that agree with scikit-learn's own answers."""

from __future__ import annotations

import numpy as np
import pytest

from digitcore import evaluation


def test_ensemble_answers_match_votingclassifier_predict(small_model, mnist_test):
    test = mnist_test.head(500)
    answers = evaluation.member_predictions(small_model, test.images)
    np.testing.assert_array_equal(answers["ensemble"], small_model.predict(test.images))
    for name, member in small_model.named_estimators_.items():
        np.testing.assert_array_equal(answers[name], member.predict(test.images))


def test_report_counts_every_digit_once(small_model, mnist_test):
    test = mnist_test.head(1000)
    report = evaluation.evaluate(small_model, test.images, test.labels)
    assert set(report.accuracy) == {"svc", "knn", "rf", "ensemble"}
    for name, matrix in report.confusion.items():
        assert matrix.shape == (10, 10)
        assert matrix.sum() == 1000
        assert np.trace(matrix) / 1000 == pytest.approx(report.accuracy[name])
        np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(test.labels, minlength=10))


def test_small_model_beats_a_floor_on_the_test_set(small_model_info):
    """Check an ensemble trained on 3,000 images scores well above chance on all 10k tests."""
    scores = small_model_info.metadata["scores"]
    assert small_model_info.metadata["n_test"] == 10000
    assert scores["ensemble"] >= 0.90


def test_json_report_has_the_documented_shape(small_model, mnist_test):
    test = mnist_test.head(200)
    doc = evaluation.evaluate(small_model, test.images, test.labels).to_json()
    assert doc["n_test"] == 200
    assert list(doc["models"]) == ["svc", "knn", "rf", "ensemble"]
    matrix = doc["models"]["ensemble"]["confusion_matrix"]
    assert len(matrix) == 10 and all(len(row) == 10 for row in matrix)
    assert all(isinstance(v, int) for row in matrix for v in row)


def test_wrong_shape_is_refused_with_what_arrived(small_model):
    with pytest.raises(ValueError, match=r"got images \(3, 784\) and 3 labels"):
        evaluation.evaluate(small_model, np.zeros((3, 784), np.uint8), np.zeros(3))
