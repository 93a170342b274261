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
from pages import _render, _shared

#: Wide enough for a number of several digits, tall enough for a finger.
CANVAS = {"width": 680, "height": 280, "stroke_width": 18}
#: The canvas sends a stroke 0.2 s after the mouse is lifted; an Identify click right after the
#: last stroke waits up to this long, so that stroke arrives and restarts the run with it.
SETTLE_SECONDS = 0.3
#: Which model read which input: (model path, fingerprint of the drawing or file, or None).
ReadingKey = tuple[str, str | None]

state = st.session_state


@dataclass(frozen=True)
class Input:
    """What there is to read on this run, and what to say when there is nothing."""

    image: NDArray[np.uint8] | bytes | None  # a canvas's RGBA array or an uploaded file's bytes
    requested: bool  # Identify pressed, "Read as I draw" on, or a file uploaded
    hint: str  # before anything is asked for
    blank: str  # asked for, but no digit there


def init_state() -> None:
    """This visitor's Draw-page state, set once."""
    state.setdefault("canvas_id", 0)  # a new id gives a new, empty canvas
    state.setdefault("number", "")  # the number being built, digit by digit
    state.setdefault("reading", None)  # (ReadingKey, Reading) last shown
    state.setdefault("asked", False)  # Identify pressed: read this canvas, and its later strokes


def identify() -> None:
    state.asked = True


def clear() -> None:
    state.canvas_id += 1
    state.asked = False
    state.reading = None


def add_to_number(text: str) -> None:
    state.number += text
    clear()


def undo_digit() -> None:
    state.number = state.number[:-1]


def reset_number() -> None:
    state.number = ""


def canvas_input() -> Input:
    """The canvas with its Identify and Clear buttons and the "Read as I draw" switch."""
    canvas = st_canvas(
        stroke_color="#FFFFFF",
        background_color="#000000",
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"canvas-{state.canvas_id}",
        **CANVAS,
    )
    left, middle, right = st.columns([1, 1, 2], vertical_alignment="center")
    clicked = left.button("Identify", type="primary", on_click=identify, width="stretch")
    middle.button("Clear", on_click=clear, width="stretch")
    live = right.toggle("Read as I draw", key="live", help="Read the drawing after every stroke.")
    if clicked:
        tick = right.empty()  # beside the toggle, so nothing else on the page moves
        for _ in range(int(SETTLE_SECONDS / 0.02)):
            time.sleep(0.02)
            tick.empty()  # a yield point: a stroke arriving now reruns the page with it at once
    return Input(
        image=canvas.image_data,
        requested=state.asked or live,
        hint="Draw a digit, then press **Identify**.",
        blank="Draw a digit first: the canvas is empty.",
    )


def upload_input() -> Input:
    """A file uploader for a photo or scan of digits; uploading one asks for a reading."""
    upload = st.file_uploader(
        "A photo or scan of handwritten digits (dark ink on light paper, or light on dark)",
        type=["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"],
    )
    image = upload.getvalue() if upload is not None else None
    return Input(
        image=image,
        requested=image is not None,
        hint="Upload an image of one or more handwritten digits.",
        blank="No digit found in that image: try a closer, sharper photo of dark ink on paper.",
    )


def current_input() -> Input:
    """The input the visitor chose (drawing or upload) and what it holds now."""
    source = st.segmented_control(
        "Input",
        ["Draw", "Upload an image"],
        default="Draw",
        required=True,
        label_visibility="collapsed",
    )
    return canvas_input() if source == "Draw" else upload_input()


def reading_key(model_path: str, image: NDArray[np.uint8] | bytes | None) -> ReadingKey:
    """Names a reading by model and input: another model must read the same drawing again."""
    return (model_path, None if image is None else fingerprint(image))


def reading_for(model: Any, key: ReadingKey, given: Input) -> Reading | None:
    """The reading to show: the one kept for ``key``, else a new one when asked for, else none.

    A reading is kept in the session, so a rerun (another widget, a stroke) does not read the
    same input again.

    Raises
    ------
    digitcore.errors.ImageError
        When the input is not an image that can be read (not an image, too big, ...).
    """
    kept = state.reading
    if kept is not None and kept[0] == key:
        return kept[1]
    state.reading = None  # first, so a failed reading leaves nothing stale behind
    if given.requested and given.image is not None:
        state.reading = (key, recognize(model, given.image))
        return state.reading[1]
    return None


def show_reading(reading: Reading | None, given: Input, error: str | None) -> None:
    """The prediction box: the number read, or why there is none."""
    with st.container(key="prediction", border=True):
        if error:
            st.error(error)
        elif reading is None:
            # Asked for but nothing read: the canvas has sent nothing yet.
            st.info(given.blank if given.requested else given.hint)
        elif reading.blank:
            st.info(given.blank)
        else:
            _render.show_number_read(reading)


def show_details(reading: Reading) -> None:
    """Every model's votes, the images the models saw, and the button adding them to the number."""
    _render.show_votes(reading)
    st.button(
        f"Add {reading.text} to the number",
        on_click=add_to_number,
        args=(reading.text,),
        icon=":material/add:",
        help="Appends the digits read and clears the canvas for the next one.",
    )


def show_number() -> None:
    """The number being built, with undo and reset."""
    st.subheader(f"Number: {state.number or '—'}")
    undo, reset, _ = st.columns([1, 1, 2])
    undo.button("Undo last digit", on_click=undo_digit, disabled=not state.number, width="stretch")
    reset.button("Reset number", on_click=reset_number, disabled=not state.number, width="stretch")


_shared.ensure_routed()
init_state()
st.title("Draw a number")
model, info = _shared.active_model()
st.caption(
    "Write one or more digits side by side with the mouse or a finger, then press Identify. "
    f"{_render.models_phrase(ensemble.member_names(model))} vote on each digit."
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

show_reading(reading, given, error)
if reading is not None and not reading.blank:
    show_details(reading)
show_number()
