"""Show the cut: the digits' boxes drawn over the drawing, with the digit read in each."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from digitcore.recognize import Reading

#: Box colours: an answer, and a guess ("not sure").
SURE, UNSURE = (0, 160, 255), (255, 140, 0)


def cut_image(image: NDArray[np.uint8] | bytes, reading: Reading) -> Image.Image:
    """The drawing (a canvas's RGBA array or an image file's bytes) with each digit's box and
    the digit read in it, in the box's top-left corner."""
    if isinstance(image, bytes):
        picture = Image.open(io.BytesIO(image)).convert("RGB")
    else:
        array = np.asarray(image)
        picture = Image.fromarray(array[..., :3] if array.ndim == 3 else array).convert("RGB")
    pen = ImageDraw.Draw(picture)
    size = max(14, picture.height // 12)
    font = ImageFont.load_default(size=size)
    line = max(2, picture.height // 140)
    for d in reading.digits:
        colour = SURE if d.sure else UNSURE
        x0, y0, x1, y1 = d.box
        pen.rectangle((x0, y0, x1 - 1, y1 - 1), outline=colour, width=line)
        label = str(d.digit) if d.sure else "?"
        pen.rectangle((x0, y0, x0 + size * 0.8, y0 + size * 1.15), fill=colour)
        pen.text((x0 + size * 0.12, y0), label, fill=(255, 255, 255), font=font)
    return picture


def show_cut(image: NDArray[np.uint8] | bytes, reading: Reading) -> None:
    """Where each digit was cut out, so a person sees why a number was read as it was."""
    st.image(
        cut_image(image, reading),
        caption="Where each digit was found, with the digit read in it.",
        width="stretch",
    )
