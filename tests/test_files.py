"""digitcore.files: a file is written whole or not at all, readable by everyone."""

from __future__ import annotations

import hashlib

import pytest

from digitcore.files import sha256_file, write_atomic


def test_written_file_has_the_content_and_is_world_readable(tmp_path):
    target = tmp_path / "out.txt"
    assert write_atomic(target, lambda tmp: tmp.write_text("hello")) == target
    assert target.read_text() == "hello"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left


def test_mode_can_be_chosen(tmp_path):
    target = write_atomic(tmp_path / "secret", lambda tmp: tmp.write_bytes(b"x"), mode=0o600)
    assert target.stat().st_mode & 0o777 == 0o600


def test_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "model.joblib"
    target.write_text("old")

    def half_then_fail(tmp):
        tmp.write_text("half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.joblib"]


def test_failed_first_write_creates_nothing(tmp_path):
    def fail(tmp):
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        write_atomic(tmp_path / "new.json", fail)
    assert list(tmp_path.iterdir()) == []


def test_sha256_of_a_file_is_that_of_its_bytes(tmp_path):
    path = tmp_path / "blob"
    content = bytes(range(256)) * 1000
    path.write_bytes(content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()
