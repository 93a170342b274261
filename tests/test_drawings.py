"""The drawings database: one row per digit, idempotent saves, refusals that change nothing,
a versioned schema, and rows that survive a writer killed mid-save."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from digitcore import drawings, schema, settings
from digitcore.errors import LabelError, StoreError
from digitcore.recognize import DigitReading, Reading

ROOT = Path(__file__).resolve().parent.parent
MODEL = {"name": "ensemble-test", "sha256": "ab" * 32}


def reading_of(digits: np.ndarray, read: str) -> Reading:
    """A reading of MNIST-form digits side by side, as recognize() would return it."""
    return Reading(
        [
            DigitReading(
                digit=int(r),
                votes={"svc": int(r), "knn": int(r), "rf": 0},
                confidence={},
                agreement=2,
                image=d,
                box=(40 * i, 0, 40 * i + 28, 28),
            )
            for i, (d, r) in enumerate(zip(digits, read, strict=True))
        ]
    )


def ink_of(digits: np.ndarray) -> np.ndarray:
    """The ink map the digits were 'read' from: each at its box."""
    gray = np.zeros((28, 40 * len(digits)), np.uint8)
    for i, d in enumerate(digits):
        gray[:, 40 * i : 40 * i + 28] = d
    return gray


@pytest.fixture
def store(db_url) -> drawings.DrawingStore:
    # db_url (conftest): each test runs on an SQLite file and on a PostgreSQL server.
    return drawings.open_store(db_url)


def save(store, digits, read, labels, **extra) -> list[int]:
    return store.save(
        reading_of(digits, read), labels=labels, source="canvas", model=MODEL,
        crops=ink_of(digits), **extra,
    )  # fmt: skip


def test_a_number_saves_one_record_per_digit_with_what_the_model_saw(store, mnist_test):
    digits = mnist_test.images[:3]
    strokes = {"objects": [{"type": "path", "left": 2, "width": 20}, {"left": 82, "width": 20}]}
    ids = save(store, digits, "721", "721", strokes=strokes)
    assert len(ids) == 3 and store.count() == 3
    records = {r.id: r for r in store.list()}
    first = records[ids[0]]
    assert np.array_equal(first.image, digits[0])
    assert (first.label, first.read, first.source, first.position) == (7, 7, "canvas", 0)
    assert first.votes == {"svc": 7, "knn": 7, "rf": 0}
    assert (first.model_name, first.model_sha256) == (MODEL["name"], MODEL["sha256"])
    assert np.array_equal(store.crop(ids[0]), digits[0])  # the crop as drawn, cut by its box
    assert len({r.drawing_hash for r in records.values()}) == 1  # one drawing
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(schema.drawings.c.strokes).order_by("id")).scalars().all()
    assert [len(json.loads(s)["objects"]) for s in kept] == [1, 0, 1]  # each digit's own strokes


def test_saving_the_same_drawing_twice_keeps_one_record_and_the_new_label(store, mnist_test):
    digits = mnist_test.images[:2]
    first = save(store, digits, "72", "72")
    again = save(store, digits, "72", "71")
    assert again == first and store.count() == 2
    assert store.counts_by_digit()[1] == 1 and store.counts_by_digit()[2] == 0


@pytest.mark.parametrize(
    ("labels", "message"),
    [("12", "3 digits found in the drawing but 2 given"), ("7a1", "must be digits 0-9"),
     ("", "must be digits 0-9"), ("7 2 1 0", "3 digits found in the drawing but 4 given")],
)  # fmt: skip
def test_a_bad_label_is_refused_in_one_line_and_nothing_is_saved(
    store, mnist_test, labels, message
):
    with pytest.raises(LabelError, match=message) as caught:
        save(store, mnist_test.images[:3], "721", labels)
    assert "\n" not in str(caught.value)
    assert store.count() == 0


def test_spaces_between_the_right_digits_are_ignored(store, mnist_test):
    save(store, mnist_test.images[:3], "721", "7 2 1")
    assert [r.label for r in store.list()] == [1, 2, 7]  # newest (last digit) first


def test_the_gallery_filters_by_digit_and_by_misread(store, mnist_test):
    save(store, mnist_test.images[:3], "121", "721")  # the 7 was read as 1
    save(store, mnist_test.images[3:5], "04", "04")
    assert [r.label for r in store.list(wrong=True)] == [7]
    assert store.count_where(wrong=False) == 4 and store.count_where(digit=1) == 1
    assert [r.label for r in store.list(digit=0)] == [0]
    assert len(store.list(limit=2)) == 2 and len(store.list(limit=2, offset=4)) == 1


def test_delete_removes_exactly_the_given_digits(store, mnist_test):
    ids = save(store, mnist_test.images[:3], "721", "721")
    assert store.delete([ids[0], 999]) == 1
    assert sorted(r.id for r in store.list()) == ids[1:]


def test_the_dataset_holds_every_digit_in_order_with_stable_hashes(store, mnist_test):
    save(store, mnist_test.images[:3], "721", "721")
    save(store, mnist_test.images[3:6], "041", "041")
    drawn = store.dataset()
    assert drawn.name == "drawings" and len(drawn) == 6
    assert np.array_equal(drawn.images, mnist_test.images[:6])
    assert np.array_equal(drawn.labels, mnist_test.labels[:6])
    assert len(set(drawn.hashes)) == 6 and len(set(drawn.drawing_hashes)) == 2
    part = drawn.subset(3, seed=0)  # a subset keeps each digit's identity
    for i, h in zip(part.ids, part.hashes, strict=True):
        assert drawn.hashes[list(drawn.ids).index(i)] == h
    assert store.dataset().hashes.tolist() == drawn.hashes.tolist()  # the same on every read


def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"my class list, not a database\n" * 50)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a database") as caught:
        drawings.open_store(f"sqlite:///{path}")
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]


def test_a_newer_schema_is_refused_and_nothing_is_changed(tmp_path):
    path = tmp_path / "drawings.sqlite"
    drawings.open_store(f"sqlite:///{path}").engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE digitcore_schema SET version = ?", (schema.latest() + 1,))
    before = path.read_bytes()
    with pytest.raises(StoreError, match=f"version {schema.latest() + 1} is newer"):
        drawings.open_store(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_a_failing_migration_leaves_the_database_at_its_version(tmp_path, monkeypatch):
    path = tmp_path / "drawings.sqlite"
    drawings.open_store(f"sqlite:///{path}").engine.dispose()

    def broken(conn):
        conn.execute(sa.text("CREATE TABLE half_done (x INTEGER)"))
        raise sa.exc.OperationalError("ALTER", {}, Exception("disk full"))

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    with pytest.raises(StoreError, match="disk full"):
        drawings.open_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM digitcore_schema").fetchone() == (1,)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables  # the migration's DDL rolled back with it


def test_a_new_migration_runs_once_and_bumps_the_version(tmp_path, monkeypatch):
    path = tmp_path / "drawings.sqlite"
    drawings.open_store(f"sqlite:///{path}").engine.dispose()
    calls = []
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, calls.append])
    for _ in range(2):
        drawings.open_store(f"sqlite:///{path}").engine.dispose()
    assert len(calls) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM digitcore_schema").fetchone() == (2,)


def test_the_database_defaults_to_a_file_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITCORE_DB", raising=False)
    monkeypatch.setenv("DIGITCORE_HOME", str(tmp_path / "home"))
    assert settings.db_url() == f"sqlite:///{tmp_path / 'home' / 'drawings.sqlite'}"
    drawings.open_store().engine.dispose()
    assert (tmp_path / "home" / "drawings.sqlite").is_file()
    monkeypatch.setenv("DIGITCORE_DB", f"sqlite:///{tmp_path / 'other.db'}")
    assert drawings.open_store().where == str(tmp_path / "other.db")


def test_sqlite_is_opened_for_several_writers(tmp_path):
    store = drawings.open_store(f"sqlite:///{tmp_path / 'drawings.sqlite'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == schema.BUSY_TIMEOUT_MS


WRITER = """
import sys, numpy as np
from digitcore import drawings
from digitcore.drawing_rows import image_rows
store = drawings.open_store(sys.argv[1])
rng = np.random.default_rng(int(sys.argv[2]))
for n in range(100000):
    rows = image_rows(rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), np.arange(20) % 10)
    ids = store.save_rows(rows)
    print(" ".join(map(str, ids)), flush=True)  # committed
"""


def test_a_writer_killed_mid_save_leaves_every_committed_row(tmp_path):
    url = f"sqlite:///{tmp_path / 'drawings.sqlite'}"
    drawings.open_store(url).engine.dispose()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, "1"], stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    committed: list[int] = []
    deadline = time.monotonic() + 60
    while len(committed) < 400 and time.monotonic() < deadline:
        committed += [int(i) for i in writer.stdout.readline().split()]
    writer.kill()  # SIGKILL: no clean-up, most likely inside a transaction
    writer.wait()
    assert len(committed) >= 400
    store = drawings.open_store(url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    kept = set(store.dataset().ids.tolist())
    assert set(committed) <= kept
    assert len(kept) % 20 == 0  # whole saves only: a save is one transaction
