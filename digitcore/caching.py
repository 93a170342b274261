"""Content fingerprints, the last-result memo and the derived-cache mixin.

The one home of three small patterns: naming data by its content (:func:`fingerprint`),
remembering the last expensive result so the next caller with the same input reuses it
(:class:`LastResult`), and keeping caches that are derived from a fitted estimator out of its
pickle (:class:`DerivedCacheMixin`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Largest result (bytes) a :class:`LastResult` keeps by default: the features of a 10k test
#: set (23.5 MB), not those of a training set.
MEMO_MAX_BYTES = 64 * 2**20


def fingerprint(data: bytes | NDArray, *extra: Any) -> str:
    """A hex BLAKE2b-128 digest naming ``data`` by its content.

    Parameters
    ----------
    data : bytes or array-like
        Raw bytes (e.g. an uploaded file), or an array, whose dtype and shape count as well
        as its bytes (the same bytes read as another shape are other data).
    *extra
        Anything else the result depends on (e.g. parameters); their ``repr`` is hashed too.

    Returns
    -------
    str
        32 hexadecimal digits; equal inputs give equal fingerprints.
    """
    digest = hashlib.blake2b(digest_size=16)
    if isinstance(data, (bytes, bytearray, memoryview)):
        digest.update(data)
    else:
        array = np.asarray(data)
        digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
        digest.update(repr((array.dtype.str, array.shape)).encode())
    if extra:
        digest.update(repr(extra).encode())
    return digest.hexdigest()


class LastResult:
    """Remembers the last ``(key, result)`` pair, so a repeated call costs a key comparison.

    The result is made read-only, so no caller can change what the next one gets, and kept
    only when it is at most ``max_bytes``. Key and result are swapped as one tuple, so
    concurrent readers always see a matching pair (at worst they both compute).

    Parameters
    ----------
    max_bytes : int
        Largest result kept; larger ones are returned but not remembered.
    """

    def __init__(self, max_bytes: int = MEMO_MAX_BYTES):
        self.max_bytes = max_bytes
        self._last: tuple[Hashable, Any] | None = None

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The result remembered for ``key``, or ``compute()``'s, remembered in its place.

        Parameters
        ----------
        key : hashable
            Names the input, e.g. a :func:`fingerprint`.
        compute : callable
            Makes the result when ``key`` is not the last one: an ndarray, or a tuple of them
            (as a nearest-neighbours search's distances and indices).

        Returns
        -------
        ndarray or tuple of ndarray, read-only
        """
        last = self._last  # one read: another thread may swap it meanwhile
        if last is not None and last[0] == key:
            return last[1]
        result = compute()
        arrays = result if isinstance(result, tuple) else (result,)
        for array in arrays:
            array.flags.writeable = False
        if sum(array.nbytes for array in arrays) <= self.max_bytes:
            self._last = (key, result)
        return result

    def clear(self) -> None:
        """Forget the remembered result."""
        self._last = None


class DerivedCacheMixin:
    """Caches an estimator derives from its fitted state, dropped on ``fit`` and when pickled.

    A subclass names its cache attributes in ``_derived``, builds each on first use with
    :meth:`_derived_value`, and calls :meth:`_drop_derived` when it is refitted. Pickles
    then hold only the model (smaller files), and a cache is rebuilt after loading. Put the
    mixin first among the bases, so its ``__getstate__`` runs.
    """

    #: Names of the instance attributes that are derived caches.
    _derived: tuple[str, ...] = ()

    def _derived_value(self, name: str, build: Callable[[], Any]) -> Any:
        """The cache ``name``, built by ``build()`` the first time it is asked for."""
        value = self.__dict__.get(name)  # one read: another thread may set it meanwhile
        if value is None:
            value = self.__dict__[name] = build()
        return value

    def _drop_derived(self) -> None:
        """Forget every derived cache (the fitted state it came from is about to change)."""
        for name in self._derived:
            self.__dict__.pop(name, None)

    def __getstate__(self) -> dict[str, Any]:
        # A copy: the default state is the instance's own __dict__, whose caches stay.
        state = dict(super().__getstate__())
        for name in self._derived:
            state.pop(name, None)
        return state
