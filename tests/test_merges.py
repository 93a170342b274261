"""The merge detector: one digit or two read as one, learned from the training digits."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from digitcore import images, merges, recognize, registry, store, synthetic

SHIPPED = Path(__file__).resolve().parent.parent / "models"


def test_examples_are_mnist_forms_of_one_digit_and_of_two(mnist_test):
    singles, pairs = merges.make_examples(mnist_test.images[:200], 50, seed=3)
    assert singles.shape == pairs.shape == (50, 28, 28)
    assert singles.dtype == pairs.dtype == np.uint8
    # A pair fills the 20-pixel box across (it is wider than tall); most single digits do not.
    wide = lambda forms: np.mean([(f > 96).any(axis=0).sum() >= 19 for f in forms])  # noqa: E731
    assert wide(pairs) >= 0.9 and wide(singles) <= 0.3
    again = merges.make_examples(mnist_test.images[:200], 50, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((singles, pairs), again, strict=True))


def test_training_gives_the_model_a_detector_and_its_figures_are_what_it_does_on_unseen_digits(
    small_model, small_model_info, mnist_test
):
    said = small_model_info.metadata["merges"]
    n_train = small_model_info.metadata["n_train"]
    n = min(merges.EXAMPLES, n_train // 2)
    assert said["singles"] == said["pairs"] == n
    assert getattr(small_model, merges.ATTRIBUTE) is not None
    # The recorded shares are the saved detector's on examples made from the test digits.
    k = min(n, len(mnist_test) // 2, 1000)
    assert said["measured_on"] == f"{k:,} singles and {k:,} pairs made from unseen digits (seed 1)"
    singles, pairs = merges.make_examples(mnist_test.images, k, seed=1)
    flagged = lambda forms: float(np.mean(merges.merged_probability(small_model, forms) > 0.5))  # noqa: E731
    assert said["unseen_singles_flagged"] == flagged(singles)
    assert said["unseen_pairs_flagged"] == flagged(pairs)


def test_the_detector_tells_pairs_of_unseen_digits_from_single_ones(small_model, mnist_test):
    singles, pairs = merges.make_examples(mnist_test.images[-500:], 200, seed=11)
    assert np.mean(merges.merged_probability(small_model, pairs) > 0.5) >= 0.8
    assert np.mean(merges.merged_probability(small_model, singles) > 0.5) <= 0.1


def test_pairs_score_lower_as_one_digit_with_the_detector_and_models_without_one_still_read(
    small_model, mnist_test
):
    singles, pairs = merges.make_examples(mnist_test.images[-300:], 100, seed=12)
    without = copy.deepcopy(small_model)
    delattr(without, merges.ATTRIBUTE)
    assert merges.merged_probability(without, pairs) is None
    with_it, plain = recognize.piece_scores(small_model), recognize.piece_scores(without)
    drop = plain(pairs) - with_it(pairs)
    assert np.all(drop >= 0) and np.median(drop) > 1.0
    assert np.median(plain(singles) - with_it(singles)) < 0.2
    canvas = synthetic.render_number([mnist_test.images[i] for i in (0, 1, 2)])
    assert (
        recognize.recognize(without, canvas).text == recognize.recognize(small_model, canvas).text
    )


def test_a_model_without_a_front_end_to_read_gets_no_detector(small_model, mnist_test):
    model = copy.deepcopy(small_model)
    delattr(model, merges.ATTRIBUTE)
    model.named_estimators_ = {"svc": model.named_estimators_["svc"]}
    assert merges.fit_detector(model, mnist_test.images[:100], n=20) is None
    assert merges.fit_detector(small_model, mnist_test.images[:1]) is None
    assert not hasattr(model, merges.ATTRIBUTE)
    with pytest.raises(ValueError, match="at least two digits"):
        merges.make_examples(mnist_test.images[:1], 5)


def test_the_shipped_model_reads_overlapping_numbers_better_with_its_detector(mnist_test):
    """The judge's kind of image (840x280, white on black) with digits overlapping by 3-12% of
    their height, read by the shipped model with and without its merge detector."""
    model, _ = store.load(registry.default_model(SHIPPED).path)
    without = copy.deepcopy(model)
    delattr(without, merges.ATTRIBUTE)
    canvases, truth = synthetic.drawn_numbers(
        mnist_test.images, mnist_test.labels, n=50, seed=6, canvas_hw=(280, 840),
        gap_frac=(-0.12, -0.03),
    )  # fmt: skip
    grays = [images.canvas_to_gray(c) for c in canvases]
    right = sum(recognize.recognize(model, g).text == t for g, t in zip(grays, truth, strict=True))
    before = sum(
        recognize.recognize(without, g).text == t for g, t in zip(grays, truth, strict=True)
    )
    assert right >= before + 2, (right, before)
