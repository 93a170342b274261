"""The project's own errors: bad input, bad data, bad models, said in one line.

Every error that ``digitcore`` raises about what a person or a file gave it derives from
:class:`DigitcoreError`, so the command line and the pages catch exactly these and let a bug
(any other exception) surface as one. Each also derives from ``ValueError``, as scikit-learn's
parameter errors do, for callers that already catch that.
"""


class DigitcoreError(ValueError):
    """Input, data or a model that is not what was expected; the message says what arrived."""


class DataError(DigitcoreError):
    """A data file or source is missing, corrupt or inconsistent."""


class ImageError(DigitcoreError):
    """An input image is not what was expected (not an image, wrong shape, too big)."""


class ModelError(DigitcoreError):
    """A saved model is missing, tampered with, or was saved by incompatible libraries."""


class ParamError(DigitcoreError):
    """A hyperparameter or setting a person gave is unknown or out of range."""


class LabelError(DigitcoreError):
    """Labels a person gave for a drawing are not digits, or not one per digit found."""


class StoreError(DigitcoreError):
    """The drawings database is not a database, is newer than this code, or cannot be reached."""


class ClusterError(DigitcoreError):
    """A Dask scheduler that cannot be reached, or a cluster that cannot be started."""
