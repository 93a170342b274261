"""Shared fixtures: the MNIST files beside the project, and one small saved model per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitcore import data, settings, store
from digitcore.training import train_model


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder of the four original MNIST files (never copied into the project)."""
    folder = settings.reference_data_dir()
    if not (folder / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.fail(f"MNIST files not found in {folder}; set DIGITCORE_TEST_DATA")
    return folder


@pytest.fixture(scope="session")
def mnist_train(mnist_dir: Path) -> data.Dataset:
    return data.read_split(mnist_dir, "train")


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path) -> data.Dataset:
    return data.read_split(mnist_dir, "test")


@pytest.fixture(scope="session")
def small_model_info(
    mnist_train: data.Dataset, mnist_test: data.Dataset, tmp_path_factory: pytest.TempPathFactory
) -> store.ModelInfo:
    """An ensemble trained on the first 3,000 MNIST training images, saved in a temp folder."""
    folder = tmp_path_factory.mktemp("models")
    return train_model(mnist_train, test_set=mnist_test, limit=3000, folder=folder)


@pytest.fixture(scope="session")
def small_model(small_model_info: store.ModelInfo):
    model, _ = store.load(small_model_info.path)
    return model
