"""One visitor's Draw page: the drawing, the readings shown, the number being built.

It is one object kept in the session and changed in place by the page's buttons, whose callbacks
are its methods. Those methods touch only the object, never ``st.session_state``: every read or
write of the session state is a point where Streamlit starts a rerun the browser has asked for
meanwhile, and a callback stopped there loses the rest of its lines. The canvas sends a stroke
0.2 s after the mouse-up, so an Identify clicked at once can meet it there: on a busy machine
``tests/test_browser.py`` saw such clicks set nothing, the page still asking for a drawing
(Streamlit 1.67; ``tests/test_app.py`` replays it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
from numpy.typing import NDArray

from digitcore.recognize import Reading

#: Which model read which input: (model path, fingerprint of the drawing or file, or None).
ReadingKey = tuple[str, str | None]
#: The canvas's drawing as it last sent it: its fabric.js JSON, and its RGBA pixels.
Kept = tuple[dict[str, Any] | None, NDArray[np.uint8]]


@dataclass(eq=False)
class Sheet:
    """What the Draw page remembers for one visitor between runs."""

    canvas_id: int = 0  #: a new id gives a new, empty canvas
    added: list[str] = field(default_factory=list)  #: the number: what each "Add" appended
    readings: dict[str, tuple[ReadingKey, Reading]] = field(default_factory=dict)  #: by source
    asked: bool = False  #: Identify pressed: read this canvas, and its later strokes
    #: Kept so the drawing survives the canvas being unmounted (Upload chosen, a page visited).
    drawing: Kept | None = None
    restored: dict[str, Any] | None = None  #: the JSON the mounted canvas started from
    canvas_shown: bool = False  #: the last run of the page showed the canvas

    def identify(self) -> None:
        """Identify: read the canvas now and as it changes."""
        self.asked = True

    def clear(self) -> None:
        """Clear: a new, empty canvas, and nothing asked for."""
        self.canvas_id += 1
        self.asked = False
        self.drawing = None
        self.readings.pop("Draw", None)

    def add_to_number(self, text: str) -> None:
        """Append the digits read to the number, then clear the canvas for the next ones."""
        self.added.append(text)
        self.clear()

    def undo_addition(self) -> None:
        """Take back the last addition, whole."""
        if self.added:
            self.added.pop()

    def reset_number(self) -> None:
        """Start the number again, empty."""
        self.added.clear()

    @property
    def number(self) -> str:
        """The number built so far ("" before the first addition)."""
        return "".join(self.added)


def sheet() -> Sheet:
    """This visitor's sheet, made on their first visit."""
    return st.session_state.setdefault("sheet", Sheet())
