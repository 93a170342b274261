"""In headless Chromium: a reading corrected on the Draw page shows on the Your drawings page
and in ``python -m digitcore drawings count``. Reuses tests/test_browser.py's server and browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import test_browser
from browser_strokes import DIGITS, place
from test_browser import ROOT, draw, identify

# The browser tests' fixtures: the app served by ``streamlit run``, Chromium, the Draw page.
app_url = test_browser.app_url
browser = test_browser.browser
page = test_browser.page


@pytest.fixture(scope="module", autouse=True)
def drawings_db(tmp_path_factory):
    """An empty drawings database for the server (autouse: set before it starts)."""
    path = tmp_path_factory.mktemp("drawings") / "drawings.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGITCORE_DB", f"sqlite:///{path}")
        yield path


def test_a_corrected_reading_shows_on_your_drawings_and_in_the_count(page, drawings_db):
    read, *_ = identify(page, draw(page, place(DIGITS[7][0], left=250, top=40, height=200)))
    right = "1" if read != "1" else "7"  # the writer says it is another digit than the one read
    page.get_by_role("textbox", name="Not right? Type the right digits").fill(right)
    page.get_by_role("button", name="Save the right digits").click()
    page.get_by_text(f"Saved as {right} (read {read})").wait_for()

    page.get_by_role("link", name="Your drawings").click()
    page.get_by_role("heading", name="1 saved digit", exact=True).wait_for(timeout=60_000)
    page.get_by_text(f"#1 · {right} (read {read})").wait_for()
    test_browser.screenshot(page, "your-drawings.png")

    counted = subprocess.run(
        [sys.executable, "-m", "digitcore", "drawings", "count"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DIGITCORE_DB": f"sqlite:///{drawings_db}"},
    )  # fmt: skip
    assert counted.returncode == 0, counted.stderr
    assert re.fullmatch(r"1\n", counted.stdout)
