"""Shared fixtures: the MNIST files beside the project, and one small saved model per run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digitcore import data, store
from digitcore.training import train_model

ROOT = Path(__file__).resolve().parent.parent
MNIST_DIR = Path(os.environ.get("DIGITCORE_TEST_DATA", ROOT.parent / "shared" / "data" / "mnist"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder of the four original MNIST files (never copied into the project)."""
    if not (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.fail(f"MNIST files not found in {MNIST_DIR}; set DIGITCORE_TEST_DATA")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist_train(mnist_dir: Path) -> data.Dataset:
    return data.read_split(mnist_dir, "train")


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path) -> data.Dataset:
    return data.read_split(mnist_dir, "test")


@pytest.fixture(scope="session")
def small_model_info(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> store.ModelInfo:
    """An ensemble trained on the first 3,000 MNIST training images, saved in a temp folder."""
    folder = tmp_path_factory.mktemp("models")
    return train_model(limit=3000, data_dir=mnist_dir, folder=folder)


@pytest.fixture(scope="session")
def small_model(small_model_info: store.ModelInfo):
    model, _ = store.load(small_model_info.path)
    return model
