"""Confirm or correct a reading on the Draw page, and the Your drawings page, run by AppTest."""

from __future__ import annotations

import io
import re

import pytest
import test_app
from browser_strokes import DIGITS, place, render
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_app import APP, click, draw_page, number_drawing, prediction

from digitcore import drawings

# The app tests' fixtures: a models folder with the small model, and pages routed by app.py.
models = test_app.models
routed_by_app_py = test_app.routed_by_app_py


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    """An empty drawings database for this test, named by DIGITCORE_DB."""
    url = f"sqlite:///{tmp_path / 'drawings.sqlite'}"
    monkeypatch.setenv("DIGITCORE_DB", url)
    return url


def correct_box(at: AppTest) -> str:
    box = at.container("correct")
    parts = [m.value for m in box.markdown] + [m.value for m in box.success]
    return "\n".join(parts + [m.value for m in box.error])


def type_and_save(at: AppTest, digits: str) -> AppTest:
    at.text_input[0].input(digits)
    return click(at, "Save the right digits")


def test_a_misread_digit_corrected_is_saved_with_both_labels(models, db, monkeypatch):
    at, _ = draw_page(monkeypatch, number_drawing(7))
    click(at, "Identify")
    assert "Is this right?" in correct_box(at)
    at = type_and_save(at, "1")
    assert not at.exception, at.exception
    assert "Saved as 1 (read 7)" in correct_box(at)
    (saved,) = drawings.open_store(db).list()
    assert (saved.label, saved.read, saved.source) == (1, 7, "canvas")
    assert saved.model_name == next(models.glob("*.joblib")).stem


def test_a_reading_is_confirmed_in_one_click_and_saved_once(models, db, monkeypatch):
    at, _ = draw_page(monkeypatch, number_drawing(4, 0))
    click(at, "Identify")
    at = click(at, "Yes, 40 is right: save it")
    assert "Saved 40: thank you for confirming" in correct_box(at)
    at.run()  # a rerun shows the same thanks and saves nothing more
    assert "Saved 40" in correct_box(at)
    assert drawings.open_store(db).count() == 2
    assert prediction(at).startswith("40") or "40" in prediction(at)


@pytest.mark.parametrize(
    ("typed", "said"),
    [("12", "1 digit found in the drawing but 2 given"), ("seven", "must be digits 0-9")],
)
def test_a_wrong_number_of_digits_is_explained_and_not_saved(models, db, monkeypatch, typed, said):
    at, _ = draw_page(monkeypatch, number_drawing(7))
    click(at, "Identify")
    at = type_and_save(at, typed)
    assert not at.exception
    assert said in correct_box(at) and "Not saved" in correct_box(at)
    assert drawings.open_store(db).count() == 0


def test_an_upload_is_saved_as_an_upload(models, db, monkeypatch):
    at, _ = draw_page(monkeypatch, None)
    at.segmented_control[0].set_value("Upload an image").run()
    photo = io.BytesIO()
    Image.fromarray(render(place(DIGITS[2][0], 60, 40, 180))).convert("RGB").save(photo, "PNG")
    at.file_uploader[0].set_value(("two.png", photo.getvalue(), "image/png")).run()
    at = type_and_save(at, "2")
    assert not at.exception, at.exception
    assert [r.source for r in drawings.open_store(db).list()] == ["upload"]


def drawings_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/drawings.py").run()
    assert not at.exception, at.exception
    return at


def test_your_drawings_page_starts_empty_and_says_how_to_add(models, db):
    at = drawings_page()
    assert at.title[0].value == "Your drawings"
    assert "No drawings saved yet" in at.info[0].value


def test_your_drawings_page_counts_scores_filters_and_deletes(models, db, monkeypatch):
    at, _ = draw_page(monkeypatch, number_drawing(4, 0, 3))
    click(at, "Identify")
    type_and_save(at, "493")  # the 0 was a 9, says the writer
    at = drawings_page()
    assert [h.value for h in at.subheader] == [
        "3 saved digits", "How well the model reads them", "Gallery"
    ]  # fmt: skip
    assert [t.label for t in at.tabs] == [
        "SVC",
        "k-nearest neighbours",
        "random forest",
        "ensemble",
    ]
    assert any("on all 3 saved digits" in c.value for c in at.caption)
    assert sorted(at.image[0].captions) == ["#1 · 4", "#2 · 9 (read 0)", "#3 · 3"]
    at.toggle[0].set_value(True).run()
    assert at.image[0].captions == ["#2 · 9 (read 0)"]
    at.multiselect[0].select(2)  # in a form: sent with its submit button
    at = click(at, "Delete")
    assert not at.exception, at.exception
    assert "Deleted 1 digit(s)." in at.success[0].value
    assert drawings.open_store(db).count() == 2
    assert re.search(r"^2 saved digits$", at.subheader[0].value)


def test_a_database_that_is_not_a_database_is_explained(models, tmp_path, monkeypatch):
    notes = tmp_path / "notes.sqlite"
    notes.write_text("not a database\n" * 100)
    monkeypatch.setenv("DIGITCORE_DB", f"sqlite:///{notes}")
    at = drawings_page()
    assert "file is not a database" in at.error[0].value
