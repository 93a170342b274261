"""Draw: write digits on the canvas (or upload a photo of some) and see what the models read."""

import hashlib
import time

import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digitcore.images import ImageError
from digitcore.recognize import recognize
from pages import _shared

_shared.ensure_routed()

#: Wide enough for a number of several digits, tall enough for a finger.
CANVAS = {"width": 680, "height": 280, "stroke_width": 18}
#: The canvas sends a stroke 0.2 s after the mouse is lifted; an Identify click right after the
#: last stroke waits up to this long, so that stroke arrives and restarts the run with it.
SETTLE_SECONDS = 0.3
AGREEMENT = {3: "all three models agree", 2: "two of three models agree", 1: "the models disagree"}
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]

state = st.session_state
state.setdefault("canvas_id", 0)  # a new id gives a new, empty canvas
state.setdefault("number", "")  # the number being built, digit by digit
state.setdefault("reading", None)  # (fingerprint of the input, Reading) last shown
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


def fingerprint(image) -> str | None:
    if image is None:
        return None
    data = image if isinstance(image, bytes) else image.tobytes()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def describe(reading) -> str:
    """How much the models agree, in words (no figures: the number must be the only digits)."""
    if len(reading.digits) == 1:
        return AGREEMENT[reading.digits[0].agreement].capitalize() + "."
    split = [i for i, d in enumerate(reading.digits) if not d.unanimous]
    if not split:
        return "All three models agree on every digit."
    where = ", ".join(ORDINALS[i] if i < len(ORDINALS) else "a later" for i in split)
    return f"The models do not all agree on the {where} digit{'s' if len(split) > 1 else ''}."


def votes_table(reading, names: dict[str, str]) -> pd.DataFrame:
    rows = []
    for position, d in enumerate(reading.digits, start=1):
        row = {"digit": position}
        for member, vote in d.votes.items():
            confidence = d.confidence.get(member)
            row[names.get(member, member)] = (
                f"{vote} ({confidence:.0%})" if confidence is not None else str(vote)
            )
        row["ensemble"] = str(d.digit)
        row["agreement"] = f"{d.agreement}/{len(d.votes)}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("digit")


st.title("Draw a number")
st.caption(
    "Write one or more digits side by side with the mouse or a finger, then press Identify. "
    "Three models (SVC, k-nearest neighbours, random forest) vote on each digit."
)
model, info = _shared.active_model()

source = st.segmented_control(
    "Input",
    ["Draw", "Upload an image"],
    default="Draw",
    required=True,
    label_visibility="collapsed",
)
clicked = False
if source == "Draw":
    canvas = st_canvas(
        stroke_color="#FFFFFF",
        background_color="#000000",
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"canvas-{state.canvas_id}",
        **CANVAS,
    )
    image = canvas.image_data
    left, middle, right = st.columns([1, 1, 2], vertical_alignment="center")
    clicked = left.button("Identify", type="primary", on_click=identify, width="stretch")
    middle.button("Clear", on_click=clear, width="stretch")
    live = right.toggle("Read as I draw", key="live", help="Read the drawing after every stroke.")
    if clicked:
        tick = right.empty()  # beside the toggle, so nothing else on the page moves
        for _ in range(int(SETTLE_SECONDS / 0.02)):
            time.sleep(0.02)
            tick.empty()  # a yield point: a stroke arriving now reruns the page with it at once
    requested = state.asked or live
    hint = "Draw a digit, then press **Identify**."
    blank = "Draw a digit first: the canvas is empty."
else:
    upload = st.file_uploader(
        "A photo or scan of handwritten digits (dark ink on light paper, or light on dark)",
        type=["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"],
    )
    image = upload.getvalue() if upload is not None else None
    requested = image is not None
    hint = "Upload an image of one or more handwritten digits."
    blank = "No digit found in that image: try a closer, sharper photo of dark ink on paper."

key = (str(info.path), fingerprint(image))  # another model must read the drawing again
error = None
if state.reading is None or state.reading[0] != key:
    if requested and image is not None:
        try:
            state.reading = (key, recognize(model, image))
        except ImageError as exc:
            state.reading, error = None, f"That image could not be read: {exc}"
        except Exception as exc:  # explain, never show a traceback
            state.reading, error = None, f"Reading failed ({type(exc).__name__}: {exc})."
    else:
        state.reading = None
        if requested:  # Identify on a canvas that has sent nothing yet
            error = "blank"
reading = state.reading[1] if state.reading else None

with st.container(key="prediction", border=True):
    if error == "blank" or (reading is not None and reading.blank):
        st.info(blank)
    elif error:
        st.error(error)
    elif reading is None:
        st.info(hint)
    else:
        st.markdown(
            f"<p style='font-size:5.5rem;font-weight:700;line-height:1.1;margin:0'>{reading.text}</p>",
            unsafe_allow_html=True,
        )
        st.caption(describe(reading))

if reading is not None and not reading.blank:
    names = _shared.member_names()
    st.table(votes_table(reading, names))  # static HTML: nothing for the browser to load lazily
    st.image(
        [_shared.enlarge(d.image) for d in reading.digits],
        caption=[f"read as {d.digit}" for d in reading.digits],
        width=84,
    )
    st.caption(
        "What the models saw: each digit cut out, scaled and centred in 28x28 pixels as in MNIST."
    )
    st.button(
        f"Add {reading.text} to the number",
        on_click=add_to_number,
        args=(reading.text,),
        icon=":material/add:",
        help="Appends the digits read and clears the canvas for the next one.",
    )

st.subheader(f"Number: {state.number or '—'}")
undo, reset, _ = st.columns([1, 1, 2])
undo.button("Undo last digit", on_click=undo_digit, disabled=not state.number, width="stretch")
reset.button("Reset number", on_click=reset_number, disabled=not state.number, width="stretch")
