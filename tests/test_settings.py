"""digitcore.settings: every DIGITCORE_* setting, read from the environment when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitcore import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bare_environment(monkeypatch, tmp_path):
    """No DIGITCORE_* variable set, and a home folder of our own."""
    for name in (
        "DIGITCORE_MODELS",
        "DIGITCORE_DATA",
        "DIGITCORE_MNIST_URL",
        "DIGITCORE_TEST_DATA",
        "XDG_CACHE_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_defaults_without_any_variable(bare_environment, tmp_path):
    assert settings.models_dir() == ROOT / "models"
    assert settings.data_dir() is None
    assert settings.cache_dir() == tmp_path / "home" / ".cache" / "digitcore" / "mnist"
    assert settings.mnist_url() is None
    assert settings.reference_data_dir() == ROOT.parent / "shared" / "data" / "mnist"


def test_each_variable_is_read_when_asked(bare_environment, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path / "m"))
    monkeypatch.setenv("DIGITCORE_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DIGITCORE_MNIST_URL", "http://mirror.example/mnist/")
    monkeypatch.setenv("DIGITCORE_TEST_DATA", str(tmp_path / "t"))
    assert settings.models_dir() == tmp_path / "m"
    assert settings.data_dir() == tmp_path / "d"
    assert settings.cache_dir() == tmp_path / "xdg" / "digitcore" / "mnist"
    assert settings.mnist_url() == "http://mirror.example/mnist/"
    assert settings.reference_data_dir() == tmp_path / "t"


def test_an_empty_variable_counts_as_unset(bare_environment, monkeypatch):
    for name in ("DIGITCORE_MODELS", "DIGITCORE_DATA", "DIGITCORE_MNIST_URL"):
        monkeypatch.setenv(name, "")
    assert settings.models_dir() == ROOT / "models"
    assert settings.data_dir() is None
    assert settings.mnist_url() is None


def test_every_digitcore_variable_in_the_library_is_read_by_settings():
    """Check no other module of digitcore reads the environment itself."""
    for path in (ROOT / "digitcore").glob("*.py"):
        if path.name != "settings.py":
            text = path.read_text()
            assert "environ" not in text and "getenv" not in text, path.name
