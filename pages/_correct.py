"""Under a reading on the Draw page: confirm it in one click, or type the right digits; save.

Every saved digit goes to the drawings database (:mod:`digitcore.drawings`), which the Your
drawings page shows and ``train --drawings`` learns from.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from digitcore import drawings, settings
from digitcore.caching import fingerprint
from digitcore.errors import DigitcoreError, LabelError
from digitcore.recognize import Reading
from digitcore.store import ModelInfo
from pages import _shared

#: The Draw page's input sources, as the database names them.
SOURCES = {"Draw": "canvas", "Upload an image": "upload"}


@st.cache_resource(show_spinner=False)
def drawing_store(url: str) -> drawings.DrawingStore:
    """The drawings database, opened (and migrated) once for every session."""
    return drawings.open_store(url)


def open_drawings() -> drawings.DrawingStore:
    """The database :func:`digitcore.settings.db_url` names; a failure is not kept in the cache."""
    return drawing_store(settings.db_url())


def _save(reading: Reading, labels: str, *, source: str, image: Any, strokes: Any,
          info: ModelInfo) -> str:  # fmt: skip
    """Save the reading's digits with ``labels``; return what to tell the person."""
    ids = open_drawings().save(
        reading,
        labels=labels,
        source=SOURCES.get(source, "upload"),
        model=info,
        crops=drawings.ink_map(image),
        strokes=strokes if isinstance(strokes, dict) else None,
    )
    digits = drawings.label_digits(labels)
    if digits == reading.text:
        return f"Saved {digits}: thank you for confirming ({len(ids)} digit(s) kept)."
    return f"Saved as {digits} (read {reading.text}): thank you, the app can learn from this."


def offer(reading: Reading, *, source: str, image: Any, strokes: Any, info: ModelInfo) -> None:
    """The confirm / correct form under a reading on the Draw page.

    Parameters
    ----------
    reading : Reading
        What the models read, with at least one digit.
    source : str
        The Draw page's input: ``"Draw"`` (the canvas) or ``"Upload an image"``.
    image : ndarray or bytes
        What was read: the canvas's RGBA pixels, or the uploaded file's bytes.
    strokes : dict or None
        The canvas's fabric.js ``json_data`` (kept per digit), None for an upload.
    info : ModelInfo
        The model that read it.
    """
    saved = st.session_state.setdefault("saved_readings", {})
    key = (source, fingerprint(image), info.name)
    with st.container(key="correct", border=True):
        if key in saved:
            st.success(saved[key], icon=":material/check:")
            return
        st.markdown("**Is this right?** Saving it helps the app learn handwriting like yours.")
        labels = None
        if reading.sure and st.button(
            f"Yes, {reading.text} is right: save it", key="confirm", icon=":material/check:"
        ):
            labels = reading.text
        with st.form(key="correct-form", border=False):
            typed = st.text_input(
                "Not right? Type the right digits",
                placeholder=f"e.g. {'1' * len(reading.digits)}",
                help=f"One digit for each of the {len(reading.digits)} digit(s) found.",
            )
            if st.form_submit_button("Save the right digits", icon=":material/save:"):
                labels = typed
        if labels is None:
            return
        try:
            saved[key] = _save(
                reading, labels, source=source, image=image, strokes=strokes, info=info
            )
        except LabelError as exc:
            st.error(f"Not saved: {exc}.")
            return
        except DigitcoreError as exc:
            st.error(_shared.explain("Saving the drawing", exc))
            return
        except Exception as exc:  # explain, never show a traceback
            st.error(_shared.internal_problem("Saving the drawing", exc))
            return
        st.success(saved[key], icon=":material/check:")
