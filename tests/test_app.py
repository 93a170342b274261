"""Every page of the Streamlit app, run by ``AppTest`` against a small saved model.

The canvas is a browser component, so a drawing is injected by replacing ``st_canvas`` with a
stand-in that hands the page the RGBA array a real canvas would (see ``FakeCanvas``).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import ANY

import numpy as np
import pytest
from browser_strokes import DIGITS, place, render, scribbles
from PIL import Image
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import RerunData, RerunException, get_script_run_ctx
from streamlit.runtime.state import safe_session_state, session_state
from streamlit.testing.v1 import AppTest, app_test

from digitcore import data, ensemble, settings, store, training
from digitcore.errors import DataError
from digitcore.recognize import DigitReading, Reading
from pages import _render, _shared

APP = str(Path(__file__).resolve().parent.parent / "app.py")


class FakeCanvas:
    """Stands in for ``st_canvas``: returns a fixed drawing (with a stand-in for its fabric.js
    JSON) and records the keys and starting drawings it was given."""

    def __init__(self, image: np.ndarray | None) -> None:
        self.image = image
        self.keys: list[str] = []
        self.initial: list[dict | None] = []

    def __call__(self, **kwargs):
        self.keys.append(kwargs["key"])
        self.initial.append(kwargs.get("initial_drawing"))
        json_data = None if self.image is None else {"objects": [{"stroke": "#fff", "n": 1}]}
        return SimpleNamespace(image_data=self.image, json_data=json_data)


def number_drawing(*digits: int) -> np.ndarray:
    """The digits drawn side by side with the canvas's brush, white on black."""
    strokes = [
        stroke
        for i, digit in enumerate(digits)
        for stroke in place(DIGITS[digit][0], left=60 + 180 * i, top=40, height=180)
    ]
    return render(strokes)


def copy_model(info: store.ModelInfo, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in (info.path, store.metadata_path(info.path)):
        shutil.copy(path, folder)
    return folder / info.path.name


class RoutedPagesManager(PagesManager):
    """A PagesManager that never takes ``pages/`` for an old-style multipage folder."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def routed_by_app_py(monkeypatch):
    """Run every page through app.py's ``st.navigation``, as a running server does.

    AppTest forgets before each run that the app routes with ``st.navigation`` (a server learns
    it once), so a page opened with ``switch_page`` would first run on its own; the page then
    reruns itself through app.py (``_shared.ensure_routed``), which drops a button click.
    """
    monkeypatch.setattr(app_test, "PagesManager", RoutedPagesManager)


@pytest.fixture
def models(small_model_info, mnist_dir, tmp_path, monkeypatch) -> Path:
    """A models folder holding the small model; the app's settings point at it."""
    folder = tmp_path / "models"
    copy_model(small_model_info, folder)
    monkeypatch.setenv("DIGITCORE_MODELS", str(folder))
    monkeypatch.setenv("DIGITCORE_DATA", str(mnist_dir))
    return folder


@pytest.fixture
def small_test_split(monkeypatch):
    """Score new models on 500 test digits instead of 10,000, to keep training tests quick."""
    load = data.load_mnist

    def load_mnist(split, *args, **kwargs):
        found = load(split, *args, **kwargs)
        return found.head(500) if split == "test" else found

    monkeypatch.setattr(data, "load_mnist", load_mnist)


def draw_page(monkeypatch, image) -> tuple[AppTest, FakeCanvas]:
    canvas = FakeCanvas(image)
    # The page imports st_canvas on every run: it finds this stand-in instead of the component.
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", SimpleNamespace(st_canvas=canvas))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return at, canvas


def click(at: AppTest, label: str) -> AppTest:
    button = next(b for b in at.button if b.label == label)
    return button.click().run()


def prediction(at: AppTest) -> str:
    """The prediction container's text, as a person reads it."""
    box = at.container("prediction")
    parts = [m.value for m in box.markdown] + [m.value for m in box.info]
    parts += [m.value for m in box.error] + [m.value for m in box.caption]
    parts += [m.value for m in box.warning]
    return re.sub(r"<[^>]+>", "", "\n".join(parts))


def test_draw_page_asks_for_a_drawing_until_identify_is_pressed(models, monkeypatch):
    at, _ = draw_page(monkeypatch, number_drawing(7))
    assert at.title[0].value == "Draw a number"
    assert "press **Identify**" in prediction(at)
    assert not re.search(r"\d", prediction(at))
    # The caption counts and names the members of the model in use.
    assert any(
        "Three models (SVC, k-nearest neighbours, random forest) vote" in c.value
        for c in at.caption
    )


def test_identify_reads_the_drawn_digit_with_every_models_vote(models, monkeypatch):
    at, _ = draw_page(monkeypatch, number_drawing(7))
    click(at, "Identify")
    assert not at.exception
    assert re.search(r"\d+", prediction(at)).group() == "7"
    votes = at.table[0].value
    assert list(votes.columns) == [
        "SVC", "k-nearest neighbours", "random forest", "ensemble", "agreement"
    ]  # fmt: skip
    assert votes["ensemble"].tolist() == ["7"]
    assert at.image[0].captions == ["read as 7"]  # the 28x28 image the models saw


def test_a_number_is_read_left_to_right(models, monkeypatch):
    at, _ = draw_page(monkeypatch, number_drawing(4, 0, 3))
    click(at, "Identify")
    assert re.search(r"\d+", prediction(at)).group() == "403"
    assert len(at.table[0].value) == 3


def test_identify_on_a_blank_canvas_says_draw_a_digit_first(models, monkeypatch):
    at, _ = draw_page(monkeypatch, render([]))  # black, as the canvas starts
    click(at, "Identify")
    assert "Draw a digit first" in prediction(at)
    assert not at.table


def test_identify_before_the_canvas_sent_anything_says_draw_a_digit_first(models, monkeypatch):
    at, _ = draw_page(monkeypatch, None)
    click(at, "Identify")
    assert "Draw a digit first" in prediction(at)


def test_clear_gives_a_new_canvas_and_forgets_the_reading(models, monkeypatch):
    at, canvas = draw_page(monkeypatch, number_drawing(7))
    click(at, "Identify")
    click(at, "Clear")
    assert canvas.keys[-1] != canvas.keys[0], "Clear must mount a new, empty canvas"
    assert not re.search(r"\d", prediction(at))


@pytest.fixture
def stroke_during_callbacks(monkeypatch) -> list[str]:
    """A stroke's rerun arriving while a button's callback runs, as Streamlit 1.67 handles it.

    Every session-state access checks for a rerun the browser asked for meanwhile and, if there
    is one, raises it there: the callback's remaining lines never run. The canvas sends a stroke
    0.2 s after the mouse-up, so a click right after drawing meets it. Here the first
    session-state access inside a callback raises such a rerun; the list records it.
    """
    raised: list[str] = []
    inside: list[bool] = []
    call = session_state.SessionState._call_callbacks

    def calling(self, *args, **kwargs):
        inside.append(True)
        try:
            return call(self, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(session_state.SessionState, "_call_callbacks", calling)
    for name in ("__getitem__", "__setitem__", "__contains__"):
        original = getattr(safe_session_state.SafeSessionState, name)

        def access(self, *args, _original=original, _name=name):
            if inside and not raised:
                raised.append(_name)
                ctx = get_script_run_ctx()
                rerun = RerunData(
                    query_string=ctx.query_string, page_script_hash=ctx.page_script_hash
                )
                raise RerunException(rerun)
            return _original(self, *args)

        monkeypatch.setattr(safe_session_state.SafeSessionState, name, access)
    return raised


def test_a_click_is_kept_when_a_stroke_arrives_while_its_callback_runs(
    models, monkeypatch, stroke_during_callbacks
):
    """The Draw page's buttons change the page's state without touching the session state (see
    pages/_sheet.py); with ``state.asked = True`` in Identify's callback this read nothing."""
    at, canvas = draw_page(monkeypatch, number_drawing(4, 2))
    click(at, "Identify")
    assert "42" in prediction(at)
    click(at, "Add 42 to the number")
    assert at.subheader[0].value == "Number: 42"
    assert canvas.keys[-1] != canvas.keys[0], "adding the digits clears the canvas"
    click(at, "Undo 42")
    assert at.subheader[0].value == "Number: —"
    click(at, "Identify")
    click(at, "Clear")
    assert not re.search(r"\d", prediction(at))
    assert len(set(canvas.keys)) == 3, "Clear must mount a new, empty canvas"
    assert stroke_during_callbacks == [], "a callback read or wrote the session state"


def test_read_digits_build_a_number_with_undo_and_reset(models, monkeypatch):
    at, canvas = draw_page(monkeypatch, number_drawing(4, 0))
    click(at, "Identify")
    click(at, "Add 40 to the number")
    assert at.subheader[0].value == "Number: 40"
    assert canvas.keys[-1] != canvas.keys[0], "adding the digits clears the canvas"
    click(at, "Identify")
    click(at, "Add 40 to the number")
    assert at.subheader[0].value == "Number: 4040"
    click(at, "Reset number")
    assert at.subheader[0].value == "Number: —"


def test_undo_takes_back_the_last_addition_whole(models, monkeypatch):
    at, canvas = draw_page(monkeypatch, number_drawing(4, 2))
    click(at, "Identify")
    click(at, "Add 42 to the number")
    canvas.image = number_drawing(7)
    click(at, "Identify")
    click(at, "Add 7 to the number")
    assert at.subheader[0].value == "Number: 427"
    click(at, "Undo 7")
    assert at.subheader[0].value == "Number: 42"
    click(at, "Undo 42")
    assert at.subheader[0].value == "Number: —"
    assert at.button(key="undo").disabled


def test_a_scribble_is_answered_not_sure_with_candidates(models, monkeypatch):
    stroke = next(strokes for kind, strokes in scribbles(12) if kind == "first stroke of a 4")
    at, _ = draw_page(monkeypatch, render(stroke))
    click(at, "Identify")
    said = prediction(at)
    assert re.fullmatch(r"Not sure: maybe \d( or \d|(, \d)+ or \d)?\.", at.warning[0].value), said
    assert not at.container("prediction").markdown, "no large number: a guess is not an answer"
    assert not [b for b in at.button if b.label.startswith("Add")], "a guess is not added"


@pytest.mark.parametrize(
    "strokes",
    [
        [[(300.0, 140.0), (301.0, 140.0)]],  # a dot
        [[(200.0, 150.0), (420.0, 150.0)]],  # a line across
        place(DIGITS[7][0], left=300, top=120, height=36),  # a digit 36 px tall
    ],
    ids=["dot", "line", "small digit"],
)
def test_a_dot_a_line_or_a_small_digit_is_too_small_not_empty(models, monkeypatch, strokes):
    at, _ = draw_page(monkeypatch, render(strokes))
    click(at, "Identify")
    assert "Too small to read: draw it bigger" in prediction(at)
    assert "empty" not in prediction(at)


def test_the_drawing_and_its_reading_survive_a_visit_to_upload(models, monkeypatch):
    at, canvas = draw_page(monkeypatch, number_drawing(7))
    click(at, "Identify")
    assert "7" in prediction(at)
    at.segmented_control[0].set_value("Upload an image").run()
    assert "Upload an image" in prediction(at)
    canvas.image = None  # a canvas mounted again draws its starting drawing but sends nothing
    at.segmented_control[0].set_value("Draw").run()
    assert not at.exception
    assert canvas.initial[-1] == {"objects": [{"stroke": "#1c1c28", "n": 1}]}, (
        "the canvas starts from the kept drawing, in the ink of the current look"
    )
    assert canvas.keys[-1] == canvas.keys[0]
    assert re.search(r"\d+", prediction(at)).group() == "7"
    click(at, "Clear")
    assert canvas.initial[-1] is None and not re.search(r"\d", prediction(at))


def test_an_uploaded_photo_of_digits_is_read(models, monkeypatch):
    at, _ = draw_page(monkeypatch, None)
    at.segmented_control[0].set_value("Upload an image").run()
    ink_on_paper = render(
        [s for i, d in enumerate((2, 5)) for s in place(DIGITS[d][0], 60 + 180 * i, 40, 180)],
        ink=(20, 20, 60, 255),
        paper=(235, 230, 220, 255),
    )
    photo = io.BytesIO()
    Image.fromarray(ink_on_paper).convert("RGB").save(photo, format="JPEG", quality=90)
    at.file_uploader[0].set_value(("digits.jpg", photo.getvalue(), "image/jpeg")).run()
    assert not at.exception
    assert re.search(r"\d+", prediction(at)).group() == "25"


def test_an_upload_that_is_not_an_image_is_explained(models, monkeypatch):
    at, _ = draw_page(monkeypatch, None)
    at.segmented_control[0].set_value("Upload an image").run()
    at.file_uploader[0].set_value(("digits.png", b"these are not pixels", "image/png")).run()
    assert not at.exception
    assert "could not be read" in prediction(at)


def test_an_upload_of_blank_paper_says_no_digit_was_found(models, monkeypatch):
    at, _ = draw_page(monkeypatch, None)
    at.segmented_control[0].set_value("Upload an image").run()
    paper = io.BytesIO()
    Image.new("RGB", (300, 200), (235, 230, 220)).save(paper, format="PNG")
    at.file_uploader[0].set_value(("paper.png", paper.getvalue(), "image/png")).run()
    assert not at.exception
    assert "No digit found in that image" in prediction(at)
    assert not re.search(r"\d", prediction(at))


def test_a_tampered_model_is_explained_not_raised(small_model_info, tmp_path, monkeypatch):
    path = copy_model(small_model_info, tmp_path / "models")
    path.write_bytes(path.read_bytes()[:-100] + bytes(100))
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "cannot be used" in at.error[0].value
    assert "does not match" in at.error[0].value


def test_the_sidebar_picks_a_saved_model_for_this_session(models, small_model_info, monkeypatch):
    older = models / "ensemble-older.joblib"
    shutil.copy(small_model_info.path, older)
    meta = {**small_model_info.metadata, "created": "2000-01-01T00:00:00+00:00", "n_train": 1234}
    store.metadata_path(older).write_text(__import__("json").dumps(meta))
    at, _ = draw_page(monkeypatch, None)
    picker = at.sidebar.selectbox[0]
    assert picker.value == _shared.DEFAULT
    picker.select(str(older)).run()
    assert not at.exception
    assert at.session_state.model_path == str(older)
    assert "1,234 digits" in at.sidebar.caption[0].value


def test_switching_models_does_not_keep_the_other_models_reading(
    models, small_model_info, monkeypatch
):
    older = models / "ensemble-older.joblib"
    shutil.copy(small_model_info.path, older)
    meta = {**small_model_info.metadata, "created": "2000-01-01T00:00:00+00:00"}
    store.metadata_path(older).write_text(__import__("json").dumps(meta))
    from digitcore import recognize as recognize_module

    read = recognize_module.recognize
    calls = []
    monkeypatch.setattr(
        recognize_module,
        "recognize",
        lambda model, image: calls.append(model) or read(model, image),
    )
    at, _ = draw_page(monkeypatch, number_drawing(7))
    click(at, "Identify")
    assert "7" in prediction(at) and len(calls) == 1
    at.sidebar.selectbox[0].select(str(older)).run()
    assert not at.exception
    # The drawing is read again by the model now chosen, not shown with the other one's answer.
    assert len(calls) == 2 and calls[1] is not calls[0]
    assert "7" in prediction(at)


def test_evaluate_page_shows_scores_confusion_and_mistakes(models, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == [
        "Accuracy",
        "Confusion and per-digit scores",
        "Misread by the ensemble",
        "Where the models disagree",
    ]
    assert [t.label for t in at.tabs] == [
        "SVC",
        "k-nearest neighbours",
        "random forest",
        "ensemble",
    ]
    assert len(at.get("vega_lite_chart")) == 5  # accuracy bars and four heatmaps
    scores = at.dataframe[0].value
    assert list(scores.columns) == ["precision", "recall", "test digits"]
    assert scores["test digits"].sum() == 2000
    assert "The members disagree on" in at.markdown[-1].value
    effect = at.dataframe[4].value  # after the four per-digit tables
    assert list(effect.columns) == [
        "its mistakes the vote fixes",
        "new mistakes of the vote",
        "net digits gained",
    ]
    assert list(effect.index) == ["SVC", "k-nearest neighbours", "random forest"]
    # Net gain against a member = digits the ensemble reads right minus digits that member does,
    # counted independently from each model's per-digit recall table.
    right = [
        (at.dataframe[i].value["recall"] * at.dataframe[i].value["test digits"]).sum()
        for i in range(4)
    ]
    assert effect["net digits gained"].tolist() == [round(right[3] - r) for r in right[:3]]
    misread = at.image[0].captions
    assert misread and all(re.fullmatch(r"true \d, read \d", c) for c in misread)


def test_train_page_trains_saves_and_the_new_model_is_the_trainers(
    models, small_test_split, monkeypatch
):
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("pages/train.py").run()
    assert not at.exception
    at.number_input(key="param-knn-n_neighbors").set_value(3)
    at.select_slider[0].set_value(1_000)
    at.button[0].click()  # the form's Train button
    at.run()
    assert not at.exception, at.exception
    assert "Saved" in at.success[0].value
    saved = store.list_models(models)
    assert len(saved) == 2
    newest = saved[0].metadata
    said = newest["training_data"]["styles"]  # 1 in 30 flagged, at most each upright 1 once
    flagged, slashed = said["flagged_ones"], said["slashed_zeros"]  # 1 in 120 slashed
    assert flagged == min(33, said["of_upright_ones"]) > 0
    assert slashed == min(8, said["of_slim_zeros"]) > 0
    assert newest["n_train"] == 1_000 + flagged + slashed
    assert newest["params"]["knn"]["n_neighbors"] == 3
    assert set(newest["fit_seconds"]) == {"svc", "knn", "rf"}
    assert at.session_state.model_path == str(saved[0].path)
    assert len(at.dataframe[-1].value) == 2  # the saved models table lists both


def test_training_with_a_bad_hyperparameter_is_explained(models, small_test_split):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/train.py").run()
    at.text_input(key="param-svc-gamma").set_value("sharp")
    at.select_slider[0].set_value(1_000)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert "Training failed" in at.error[0].value
    assert "gamma" in at.error[0].value and "internal problem" not in at.error[0].value
    assert len(store.list_models(models)) == 1


def test_first_run_prepares_a_model_with_progress(
    mnist_dir, tmp_path, small_test_split, monkeypatch
):
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path / "empty"))
    monkeypatch.setenv("DIGITCORE_DATA", str(mnist_dir))
    monkeypatch.setattr(_shared, "FIRST_RUN_LIMIT", 1_000)
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    assert "preparing one" in at.info[0].value
    assert at.get("status")[0].proto.label.startswith("Prepared")
    assert len(store.list_models(tmp_path / "empty")) == 1
    assert at.title[0].value == "Draw a number"


def test_an_unexpected_error_while_reading_is_explained_as_an_internal_problem(models, monkeypatch):
    from digitcore import recognize as recognize_module

    def broken(model, image):
        raise RuntimeError("boom")

    monkeypatch.setattr(recognize_module, "recognize", broken)
    at, _ = draw_page(monkeypatch, number_drawing(7))
    click(at, "Identify")
    assert not at.exception
    assert "internal problem" in prediction(at) and "boom" in prediction(at)


# --- describe: worded from the votes, whatever the number of members --------------------------

FOUR = ("svc", "knn", "rf", "cnn")


def digit_reading(digit: int, votes: dict[str, int]) -> DigitReading:
    """A hand-built reading of one digit with the given members' votes."""
    return DigitReading(
        digit=digit,
        votes=votes,
        confidence={member: None for member in votes},
        agreement=sum(vote == digit for vote in votes.values()),
        image=np.zeros((28, 28), dtype=np.uint8),
        box=(0, 0, 28, 28),
    )


@pytest.mark.parametrize(
    ("votes", "words"),
    [
        ((7, 7, 7), "All three models agree."),
        ((7, 7, 1), "Two of three models agree."),
        ((7, 1, 2), "The models disagree."),
        ((7, 7, 7, 7), "All four models agree."),
        ((7, 7, 7, 1), "Three of four models agree."),
        ((7, 7, 1, 2), "Two of four models agree."),
        ((7, 1, 2, 3), "The models disagree."),
    ],
)
def test_agreement_on_one_digit_is_worded_from_its_votes(votes, words):
    reading = Reading([digit_reading(7, dict(zip(FOUR, votes, strict=False)))])
    assert _render.describe(reading) == words


def test_a_number_read_by_four_members_says_where_they_split():
    unanimous = digit_reading(4, dict(zip(FOUR, (4, 4, 4, 4), strict=True)))
    split = digit_reading(0, dict(zip(FOUR, (0, 0, 6, 0), strict=True)))
    assert (
        _render.describe(Reading([unanimous, unanimous])) == "All four models agree on every digit."
    )
    assert (
        _render.describe(Reading([unanimous, split]))
        == "The models do not all agree on the second digit."
    )


def test_the_votes_table_has_a_column_per_member_however_many():
    table = _render.votes_table(
        Reading([digit_reading(7, dict(zip(FOUR, (7, 7, 7, 1), strict=True)))])
    )
    assert list(table.columns) == [
        "SVC", "k-nearest neighbours", "random forest", "cnn", "ensemble", "agreement"
    ]  # fmt: skip
    assert table["agreement"].tolist() == ["3/4"]


# --- one training run: lock, status and progress, for the first run and the Train page ---------


class FakeTraining:
    """Stands in for ``training.train_model``: reports progress as it does, then saves a copy of
    the small model as the newest one, in a second instead of a minute."""

    LINES = ("Loading MNIST", "Fitted SVC in 0.1 s", "Saved")

    def __init__(self, model: store.ModelInfo, error: Exception | None = None) -> None:
        self.model = model
        self.error = error
        self.calls: list[dict] = []

    def __call__(self, **kwargs) -> store.ModelInfo:  # keywords only, as train_model takes them
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        for fraction, line in zip((0.1, 0.5, 1.0), self.LINES, strict=True):
            kwargs["progress"](fraction, line)
        folder = settings.models_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ensemble-fake-{len(self.calls)}.joblib"
        shutil.copy(self.model.path, path)
        meta = {**self.model.metadata, "created": f"2999-01-0{len(self.calls)}T00:00:00+00:00"}
        store.metadata_path(path).write_text(json.dumps(meta))
        return store.ModelInfo(path, meta)


def progress_bars(at: AppTest) -> list[tuple[int, str]]:
    return [(p.proto.value, p.proto.text) for p in at.get("progress")]


def test_first_run_trains_through_the_shared_training_run(small_model_info, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_MODELS", str(tmp_path / "empty"))
    fake = FakeTraining(small_model_info)
    monkeypatch.setattr(training, "train_model", fake)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert fake.calls == [{"limit": _shared.FIRST_RUN_LIMIT, "progress": ANY}]
    assert isinstance(fake.calls[0]["progress"], _shared.ProgressLog)
    assert at.get("status")[0].proto.label == "Prepared ensemble-fake-1"
    assert progress_bars(at) == [(100, "Saved")]
    assert [m.value for m in at.markdown if m.value in FakeTraining.LINES] == list(
        FakeTraining.LINES
    )
    assert at.title[0].value == "Draw a number"  # the page goes on with the model prepared


def test_train_page_trains_through_the_shared_training_run(models, small_model_info, monkeypatch):
    fake = FakeTraining(small_model_info)
    monkeypatch.setattr(training, "train_model", fake)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/train.py").run()
    at.select_slider[0].set_value(1_000)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    assert fake.calls == [{"params": ANY, "limit": 1_000, "progress": ANY}]
    assert isinstance(fake.calls[0]["progress"], _shared.ProgressLog)
    assert set(fake.calls[0]["params"]) == set(ensemble.DEFAULT_PARAMS)  # every group of the form
    assert "Saved **ensemble-fake-1**" in at.success[0].value
    assert at.text[0].value == "\n".join(FakeTraining.LINES)  # the run's progress, kept as its log


def test_train_page_refuses_while_another_session_trains(models, small_model_info, monkeypatch):
    fake = FakeTraining(small_model_info)
    monkeypatch.setattr(training, "train_model", fake)
    held = threading.Lock()
    held.acquire()
    monkeypatch.setattr(_shared, "training_lock", lambda: held)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/train.py").run()
    at.button[0].click()
    at.run()
    assert not at.exception
    assert "Another visitor is training" in at.warning[0].value
    assert fake.calls == []


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (DataError("no MNIST files in /nowhere"), "Training failed: no MNIST files in /nowhere."),
        (RuntimeError("boom"), "Training failed because of an internal problem"),
    ],
)
def test_a_failed_training_run_is_explained(models, small_model_info, monkeypatch, error, said):
    fake = FakeTraining(small_model_info, error=error)
    monkeypatch.setattr(training, "train_model", fake)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/train.py").run()
    at.button[0].click()
    at.run()
    assert not at.exception
    assert at.error[0].value.startswith(said)
    assert _shared.training_lock().acquire(blocking=False), "the lock is released after a failure"
    _shared.training_lock().release()
