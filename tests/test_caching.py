"""Caching: content fingerprints, the last-result memo, derived caches left out of pickles."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from digitcore.caching import DerivedCacheMixin, LastResult, fingerprint


def test_fingerprint_changes_when_one_pixel_changes():
    digits = np.zeros((2, 28, 28), np.uint8)
    changed = digits.copy()
    changed[1, 14, 14] = 1
    assert fingerprint(digits) == fingerprint(digits.copy())  # content, not identity
    assert fingerprint(changed) != fingerprint(digits)


DIGITS = np.arange(2 * 28 * 28).reshape(2, 28, 28).astype(np.uint8)


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (np.asfortranarray(DIGITS), True),  # same content in another memory layout
        (DIGITS[:, ::-1][:, ::-1], True),  # a strided view of the same content
        (DIGITS.reshape(2, 784), False),  # same bytes, other shape
        (DIGITS.view(np.int32), False),  # same bytes, other dtype
    ],
)
def test_fingerprint_counts_dtype_and_shape_not_memory_layout(other, same):
    assert (fingerprint(other) == fingerprint(DIGITS)) == same


def test_fingerprint_of_bytes_and_extra_values():
    assert fingerprint(b"png") == fingerprint(b"png") != fingerprint(b"pnh")
    assert len(fingerprint(b"png")) == 32 and int(fingerprint(b"png"), 16) >= 0
    assert fingerprint(b"png", 1) != fingerprint(b"png", 2) != fingerprint(b"png")


def test_last_result_reuses_the_last_result_read_only_and_only_for_its_key():
    memo, calls = LastResult(), []

    def compute():
        calls.append(1)
        return np.arange(4.0)

    first = memo.get("a", compute)
    assert memo.get("a", compute) is first and len(calls) == 1
    assert not first.flags.writeable  # no caller can change what the next one gets
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 9
    memo.get("b", compute)  # another key: computed, and now the one remembered
    memo.get("a", compute)
    assert len(calls) == 3
    memo.clear()
    memo.get("a", compute)
    assert len(calls) == 4


def test_last_result_keeps_a_tuple_of_arrays_whole_and_read_only():
    memo, calls = LastResult(), []

    def search():  # as a nearest-neighbours search answers: distances and indices
        calls.append(1)
        return np.array([[0.5, 1.0]]), np.array([[3, 7]])

    distances, indices = memo.get("q", search)
    again = memo.get("q", search)
    assert len(calls) == 1 and again[0] is distances and again[1] is indices
    assert not distances.flags.writeable and not indices.flags.writeable


def test_last_result_does_not_keep_results_over_its_size_limit():
    memo, calls = LastResult(max_bytes=100), []
    big = lambda: calls.append(1) or np.zeros(13)  # noqa: E731  (104 bytes)
    small = lambda: calls.append(1) or np.zeros(12)  # noqa: E731  (96 bytes)
    assert not memo.get("big", big).flags.writeable
    memo.get("big", big)
    assert len(calls) == 2
    memo.get("small", small)
    memo.get("small", small)
    assert len(calls) == 3


def test_last_result_readers_in_threads_always_get_their_own_keys_result():
    memo, wrong = LastResult(), []

    def read(value: int) -> None:
        for _ in range(300):
            if memo.get(value, lambda: np.full(3, value))[0] != value:
                wrong.append(value)

    threads = [threading.Thread(target=read, args=(v,)) for v in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


class _Doubler(DerivedCacheMixin, BaseEstimator):
    _derived = ("_table",)

    def __init__(self, size: int = 3):
        self.size = size

    def fit(self):
        self._drop_derived()
        self.base_ = np.arange(self.size)
        return self

    def table(self):
        return self._derived_value("_table", lambda: self.base_ * 2)


def test_derived_caches_are_built_once_left_out_of_pickles_and_dropped_on_fit():
    model = _Doubler().fit()
    table = model.table()
    assert model.table() is table
    restored = pickle.loads(pickle.dumps(model))
    assert "_table" not in restored.__dict__ and restored.base_.tolist() == [0, 1, 2]
    assert model.table() is table  # pickling leaves the original's cache in place
    np.testing.assert_array_equal(restored.table(), table)
    model.size = 5
    assert model.fit().table().tolist() == [0, 2, 4, 6, 8]  # not the old table
