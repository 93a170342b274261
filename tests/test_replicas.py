"""Several app replicas, one truth: they share the models folder and the drawings database.

A replica holds nothing it would have to be told about: every run of a page reads the models
folder (:func:`digitcore.registry.default_model`), so a model made the default by another process
is served at the next run, and a model still being written is never offered. Replicas opening
one empty database at once all get it, migrated once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import test_app_models
from streamlit.testing.v1 import AppTest
from test_app_models import APP, copy_model

from digitcore import drawings, registry, schema, store

ROOT = Path(__file__).resolve().parent.parent

# A models folder with the small model, and pages routed by app.py, as in the app tests.
models = test_app_models.models
routed_by_app_py = test_app_models.routed_by_app_py


def sidebar_default(at: AppTest) -> str:
    """What the sidebar's picker offers as everyone's default model."""
    return at.sidebar.selectbox[0].options[0]


def draw_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def test_a_model_made_the_default_by_another_process_is_served_at_the_next_run(
    models, small_model_info
):
    at = draw_page()  # this replica is up and serving the small model
    assert sidebar_default(at) == f"Default for everyone ({small_model_info.summary})"
    other = copy_model(small_model_info, models, "ensemble-from-replica-b", n_train=1_234,
                       created="2001-01-01T00:00:00+00:00")  # fmt: skip
    # Older than the small model: only default.json, written by the other process, can make it
    # the default; nothing in this process is told.
    subprocess.run(
        [sys.executable, "-m", "digitcore", "models", "--set-default", other.name],
        check=True, capture_output=True, cwd=ROOT,
        env={**os.environ, "DIGITCORE_MODELS": str(models), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    at.run()
    assert not at.exception, at.exception
    assert sidebar_default(at) == f"Default for everyone ({other.summary})"
    assert "1,234" in at.sidebar.caption[0].value  # "Trained on 1,234 ...": the model in use


@pytest.mark.parametrize(
    "stage",
    ["model file half-written", "model file written, metadata not yet", "metadata half-written"],
)
def test_a_model_still_being_written_is_never_offered(models, small_model_info, stage):
    newer = {"created": "2999-01-01T00:00:00+00:00"}  # would be the newest, hence the default
    name = "ensemble-29990101-000000-000000"
    raw = small_model_info.path.read_bytes()
    # What another replica's store.save leaves in the folder at each stage (files.write_atomic
    # writes through a hidden temporary file, and the metadata goes after the model).
    if stage == "model file half-written":
        (models / f".{name}.joblib.x1y2.tmp").write_bytes(raw[: len(raw) // 2])
    elif stage == "model file written, metadata not yet":
        (models / f"{name}.joblib").write_bytes(raw)
    else:
        (models / f"{name}.joblib").write_bytes(raw)
        half = copy_model(small_model_info, models / "scratch", name, **newer)
        text = store.metadata_path(half.path).read_text()
        (models / f".{name}.json.x1y2.tmp").write_text(text[: len(text) // 2])
    assert [m.name for m in store.list_models(models)] == [small_model_info.name]
    assert registry.default_model(models).name == small_model_info.name
    at = draw_page()
    assert at.sidebar.selectbox[0].options[1:] == [small_model_info.summary]  # only the whole one


def test_replicas_opening_one_empty_database_at_once_all_get_it_migrated_once(db_url):
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def replica() -> None:
        start.wait()
        try:
            drawings.open_store(db_url).engine.dispose()
        except BaseException as exc:  # collected, asserted below (a thread cannot raise)
            failures.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    engine = schema.create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(schema.version_table.c.version)).scalars().all() == [1]
    engine.dispose()


def test_two_replicas_promoting_at_once_leave_the_better_model_the_default(
    models, small_model_info, monkeypatch
):
    # Each promotion dwells on the default's score, so without a lock across promotions both
    # would compare themselves with the old default and the later (weaker) one would win.
    old = store.ModelInfo(models / small_model_info.path.name, small_model_info.metadata)
    registry.set_default(old)
    better, weaker = (
        copy_model(small_model_info, models, f"ensemble-{name}", **test_app_models.with_score(
            small_model_info, score), created=f"2999-01-0{day}T00:00:00+00:00")
        for name, score, day in [("better", 0.999, 1), ("weaker", 0.998, 2)]
    )  # fmt: skip
    score = registry.ensemble_score

    def slow_score(info):
        time.sleep(0.3)
        return score(info)

    monkeypatch.setattr(registry, "ensemble_score", slow_score)
    first = threading.Thread(target=registry.promote, args=(better,))
    second = threading.Thread(target=registry.promote, args=(weaker,))
    first.start()
    time.sleep(0.1)
    second.start()
    first.join()
    second.join()
    assert registry.default_model(models).name == "ensemble-better"
