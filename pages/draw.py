"""Draw: write digits on the canvas (or upload a photo of some) and see what the models read."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st
from numpy.typing import NDArray
from streamlit_drawable_canvas import st_canvas

from digitcore import ensemble
from digitcore.caching import fingerprint
from digitcore.errors import DigitcoreError, ImageError
from digitcore.recognize import Reading, recognize
from digitcore.strokes import Drawing
from pages import _correct, _cut, _render, _shared
from pages._sheet import ReadingKey, sheet

#: Wide enough for a number of several digits, tall enough for a finger.
CANVAS = {"width": 680, "height": 280, "stroke_width": 18}
#: Ink and paper by the theme in use: the canvas follows the light or dark look of the page.
#: Any polarity reads the same (images.canvas_to_gray measures ink against the paper).
COLOURS = {"light": ("#1c1c28", "#ffffff"), "dark": ("#ffffff", "#0e1117")}
#: The canvas sends a stroke 0.2 s after the mouse is lifted; an Identify clicked before the
#: canvas sent any stroke waits up to this long, so that stroke arrives and restarts the run
#: with it. With a stroke in hand it reads at once (0.3 s sooner): a stroke that arrives later,
#: from a click within 0.2 s of lifting the pen, is read again as it comes, as Identify asks.
SETTLE_SECONDS = 0.3
SOURCES = ("Draw", "Upload an image")


def phone_css(width: int = CANVAS["width"]) -> str:
    """CSS that fits the canvas to a narrow screen and makes the buttons thumb-sized.

    The canvas's container is shrunk with CSS ``zoom``, which (unlike ``transform``) the
    canvas's pointer mapping follows, so a stroke lands where the finger touches. One breakpoint
    every 20 px; each zoom fits the narrowest screen of its band, beside Streamlit's 1rem
    margins.
    """
    rules = [
        f"@media (max-width: {edge}px) {{ .st-key-canvas {{ zoom: {(edge - 20 - 32) / width:.3f}; }} }}"
        for edge in range(width + 40, 319, -20)
    ]
    thumbs = (
        "@media (max-width: 720px), (pointer: coarse) {"
        " .stButton button, [data-testid=stButtonGroup] button { min-height: 44px; } }"
    )
    return "<style>" + "\n".join([*rules, thumbs]) + "</style>"


@dataclass(frozen=True)
class Input:
    """What there is to read on this run, and what to say when there is nothing."""

    source: str  # one of SOURCES: each keeps its own reading
    image: NDArray[np.uint8] | bytes | None  # a canvas's RGBA array or an uploaded file's bytes
    strokes: dict[str, Any] | None  # the canvas's fabric.js drawing (json_data); None for a file
    requested: bool  # Identify pressed, "Read as I draw" on, or a file uploaded
    hint: str  # before anything is asked for
    blank: str  # asked for, but nothing there
    too_small: str  # asked for: ink, but nothing digit-sized


def theme() -> str:
    """``"dark"`` when the page shows its dark look (the system's preference), else ``"light"``."""
    return "dark" if getattr(st.context.theme, "type", None) == "dark" else "light"


def recoloured(drawing: dict[str, Any] | None, ink: str) -> dict[str, Any] | None:
    """A kept drawing with its strokes in ``ink``: the look may have changed since it was drawn."""
    if not drawing:
        return None
    objects = [{**o, "stroke": ink} if "stroke" in o else o for o in drawing.get("objects", [])]
    return {**drawing, "objects": objects}


def canvas_input() -> Input:
    """The canvas with its Identify and Clear buttons and the "Read as I draw" switch."""
    page = sheet()
    key = f"canvas-{page.canvas_id}"
    ink, paper = COLOURS[theme()]
    if key not in st.session_state or not page.canvas_shown:
        # Mounting now (first visit, back from Upload or another page): start from the kept
        # drawing. Only now: a changed starting drawing makes a mounted canvas redraw itself.
        # The widget's key alone cannot tell: a run cut short by the next click (Upload, then
        # Draw at once) leaves the unmounted canvas's key in the session state.
        page.restored = recoloured(page.drawing[0] if page.drawing else None, ink)
    page.canvas_shown = True
    with st.container(key="canvas"):
        canvas = st_canvas(
            stroke_color=ink,
            background_color=paper,
            drawing_mode="freedraw",
            return_image_data=True,
            initial_drawing=page.restored,
            key=key,
            **CANVAS,
        )
    image, strokes = canvas.image_data, canvas.json_data
    if image is not None:
        page.drawing = (strokes, image)
    elif page.drawing is not None:
        strokes, image = page.drawing  # a canvas drawn again from the kept drawing sends nothing
    with st.container(key="canvas-buttons"):
        left, middle, right = st.columns([1, 1, 2], vertical_alignment="center")
    clicked = left.button("Identify", type="primary", on_click=page.identify, width="stretch")
    middle.button("Clear", on_click=page.clear, width="stretch")
    live = right.toggle("Read as I draw", key="live", help="Read the drawing after every stroke.")
    if clicked and not (strokes or {}).get("objects"):  # nothing drawn has reached us yet
        tick = right.empty()  # beside the toggle, so nothing else on the page moves
        for _ in range(int(SETTLE_SECONDS / 0.02)):
            time.sleep(0.02)
            tick.empty()  # a yield point: a stroke arriving now reruns the page with it at once
    return Input(
        source="Draw",
        image=image,
        strokes=strokes,
        requested=page.asked or live,
        hint="Draw a digit, then press **Identify**.",
        blank="Draw a digit first: the canvas is empty.",
        too_small="Too small to read: draw it bigger, about half the height of the canvas.",
    )


def upload_input() -> Input:
    """A file uploader for a photo or scan of digits; uploading one asks for a reading."""
    upload = st.file_uploader(
        "A photo or scan of handwritten digits (dark ink on light paper, or light on dark)",
        type=["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"],
    )
    image = upload.getvalue() if upload is not None else None
    return Input(
        source="Upload an image",
        image=image,
        strokes=None,
        requested=image is not None,
        hint="Upload an image of one or more handwritten digits.",
        blank="No digit found in that image: try a closer, sharper photo of dark ink on paper.",
        too_small=(
            "Nothing big enough to read in that image: the writing is too small or faint; "
            "try a closer photo."
        ),
    )


def current_input() -> Input:
    """The input the visitor chose (drawing or upload) and what it holds now."""
    source = st.segmented_control(
        "Input", SOURCES, default="Draw", required=True, label_visibility="collapsed"
    )
    if source != "Draw":
        sheet().canvas_shown = False  # set first: this run may be cut short by the next click
        return upload_input()
    return canvas_input()


def reading_key(model_path: str, image: NDArray[np.uint8] | bytes | None) -> ReadingKey:
    """Names a reading by model and input: another model must read the same drawing again."""
    return (model_path, None if image is None else fingerprint(image))


def reading_for(model: Any, key: ReadingKey, given: Input) -> Reading | None:
    """The reading to show: the one kept for ``key``, else a new one when asked for, else none.

    A reading is kept in the session for each source, so a rerun (another widget, a stroke) or
    a visit to the other source or another page does not read the same input again.

    Raises
    ------
    digitcore.errors.ImageError
        When the input is not an image that can be read (not an image, too big, ...).
    """
    readings = sheet().readings
    kept = readings.get(given.source)
    if kept is not None and kept[0] == key:
        return kept[1]
    readings.pop(given.source, None)  # first, so a failed reading leaves nothing stale
    if given.requested and given.image is not None:
        # The canvas's strokes say which ink belongs to which digit; a file has only pixels.
        image = given.image
        if given.strokes is not None and not isinstance(image, bytes):
            image = Drawing(image, given.strokes, brush=CANVAS["stroke_width"])
        readings[given.source] = (key, recognize(model, image))
        return readings[given.source][1]
    return None


def or_words(candidates: list[int]) -> str:
    """``[4, 9, 7]`` -> ``"4, 9 or 7"``."""
    words = [str(c) for c in candidates]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def unsure_words(reading: Reading) -> str:
    """What a reading with a guess in it says instead of an answer: "Not sure: maybe 4 or 9"."""
    digits = reading.digits
    if len(digits) == 1:
        return f"Not sure: maybe {or_words(digits[0].candidates)}."
    guess = "".join(str(d.digit) if d.sure else "?" for d in digits)
    doubts = [
        f"the {_render.ORDINALS[i] if i < len(_render.ORDINALS) else 'later'} digit "
        f"{or_words(d.candidates)}"
        for i, d in enumerate(digits)
        if not d.sure
    ]
    return f"Not sure: maybe {guess}, with {'; '.join(doubts)}."


def show_unsure(reading: Reading) -> None:
    """A reading the models are not sure of: the candidates, plainly not an answer."""
    st.warning(unsure_words(reading), icon=":material/help:")
    st.caption(
        "This does not look enough like the handwritten digits the models learned from, or they "
        "all disagree. Try again, written larger and clearer."
    )


def show_reading(reading: Reading | None, given: Input, error: str | None) -> None:
    """The prediction box: the number read, a guess, or why there is none."""
    with st.container(key="prediction", border=True):
        if error:
            st.error(error)
        elif reading is None:
            # Asked for but nothing read: the canvas has sent nothing yet.
            st.info(given.blank if given.requested else given.hint)
        elif reading.status == "too_small":
            st.info(given.too_small)
        elif reading.blank:
            st.info(given.blank)
        elif not reading.sure:
            show_unsure(reading)
        else:
            _render.show_number_read(reading)


def show_details(reading: Reading) -> None:
    """Every model's votes, the images the models saw, and the button adding them to the number."""
    _render.show_votes(reading)
    if reading.sure:  # a guess is not added to the number
        st.button(
            f"Add {reading.text} to the number",
            on_click=sheet().add_to_number,
            args=(reading.text,),
            icon=":material/add:",
            help="Appends the digits read and clears the canvas for the next one.",
        )


def show_number() -> None:
    """The number being built, with undo (of the last addition, whole) and reset."""
    page = sheet()
    st.subheader(f"Number: {page.number or '—'}")
    undo, reset, _ = st.columns([1, 1, 2])
    last = page.added[-1] if page.added else ""
    undo.button(
        f"Undo {last}" if last else "Undo",
        key="undo",
        on_click=page.undo_addition,
        disabled=not page.added,
        width="stretch",
        help="Takes back the digits added last.",
    )
    reset.button(
        "Reset number", on_click=page.reset_number, disabled=not page.added, width="stretch"
    )


_shared.ensure_routed()
st.html(phone_css())
st.title("Draw a number")
model, info = _shared.active_model()
st.caption(
    "Write one or more digits side by side with the mouse or a finger, then press Identify. "
    f"{_render.models_phrase(ensemble.member_names(model))} vote on each digit. A phone number "
    "may have dashes, dots, parentheses or a plus: only its digits are read."
)

given = current_input()
reading, error = None, None
try:
    reading = reading_for(model, reading_key(str(info.path), given.image), given)
except ImageError as exc:
    error = f"That image could not be read: {exc}"
except DigitcoreError as exc:
    error = f"Reading failed: {exc}"
except Exception as exc:  # explain, never show a traceback
    error = _shared.internal_problem("Reading", exc)

# The issue-12 correction form takes these three: what was read, from which pixels and strokes.
image, strokes = given.image, given.strokes
show_reading(reading, given, error)
if reading is not None and not reading.blank:
    _correct.offer(reading, source=given.source, image=image, strokes=strokes, info=info)
    show_details(reading)
    _cut.show_cut(image, reading)
show_number()
