"""End to end in headless Chromium: the app run with ``streamlit run``, digits drawn on its canvas
with the mouse, read after Identify, the canvas cleared, every page shown.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``); without it these tests
fail and say so. Screenshots and the measured latencies go to ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from browser_strokes import (
    DIGITS,
    INKED_PIXELS,
    paths,
    phone_number,
    place,
    sample_digits,
    sample_numbers,
    touching_number,
)
from PIL import Image

from digitcore import store

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
#: What the issue asks for: a drawing read within a second of pressing Identify.
SECOND = 1.0

# The digits of the prediction container's text, once it shows a reading.
HAS_DIGITS = "() => /\\d/.test(document.querySelector('.st-key-prediction')?.innerText ?? '')"
NO_DIGITS = (
    "() => { const e = document.querySelector('.st-key-prediction');"
    " return e !== null && !/\\d/.test(e.innerText); }"
)
#: The phone the Draw page must fit: an iPhone 12-14's screen in CSS pixels.
PHONE = {"width": 390, "height": 844}
#: For each page, the strokes in the drawing each of its messages to the server carried (every
#: message holds every widget's state), and when it last drew: (messages sent by then, strokes).
SENT: dict[object, list[int]] = {}
DRAWN: dict[object, tuple[int, int]] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(
    small_model_info: store.ModelInfo, mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory
):
    """``streamlit run app.py`` on a free port, pointed at a folder holding one small model.

    ``DIGITCORE_E2E_MODEL=FILE`` runs the same tests against a saved model of your own (e.g.
    one trained on all of MNIST), to measure the product as people get it.
    """
    folder = tmp_path_factory.mktemp("browser-models")
    chosen = Path(os.environ.get("DIGITCORE_E2E_MODEL") or small_model_info.path)
    for path in (chosen, store.metadata_path(chosen)):
        shutil.copy(path, folder)
    port = free_port()
    log = open(tmp_path_factory.mktemp("streamlit") / "streamlit.log", "w+")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py"]
        + [
            f"--{option}={value}"
            for option, value in {
                "server.port": port,
                "server.address": "127.0.0.1",
                "server.headless": "true",
                "server.fileWatcherType": "none",  # others' edits must not restart the app
                "browser.gatherUsageStats": "false",
            }.items()
        ],
        cwd=ROOT,
        env={**os.environ, "DIGITCORE_MODELS": str(folder), "DIGITCORE_DATA": str(mnist_dir)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"streamlit run exited with {server.returncode}:\n{log.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit run did not answer on /_stcore/health within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "(apt-get install chromium); no browser is ever downloaded"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser, app_url: str):
    """The Draw page, loaded, its canvas ready."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Tall enough for the Draw page with a reading, so its screenshots need no resizing (a resize
    # between drawing and Identify can lose the click in headless Chromium).
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.set_default_timeout(30_000)
    SENT[page] = sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda m: sent.append(paths(m))))
    # The server's first request is a deep link: it must still get app.py's navigation.
    page.goto(f"{app_url}/train")
    page.get_by_role("heading", name="Train a model").wait_for(timeout=90_000)
    # app.py's navigation, at the top (it may arrive just after the page's heading).
    page.get_by_role("link", name="Draw", exact=True).wait_for(timeout=10_000)
    assert page.locator("[data-testid=stSidebarNav]").count() == 0, "an old-style page list"
    page.goto(app_url)
    page.locator("canvas.upper-canvas").wait_for(timeout=90_000)
    page.wait_for_function(NO_DIGITS)
    yield page
    page.close()


def screenshot(page, name: str) -> None:
    """The whole page, once its images have loaded. Streamlit scrolls inside its main area, which
    a full-page screenshot would cut, so a taller page is shot in a window made tall enough."""
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    height = page.evaluate(
        "() => document.querySelector('[data-testid=stMain]')?.scrollHeight ?? 0"
    )
    size = page.viewport_size
    if height + 40 > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height + 40})
        page.wait_for_timeout(500)  # charts redraw for the new size
    page.screenshot(path=SHOTS / name)
    page.set_viewport_size(size)


def draw(page, strokes) -> float:
    """Draw the strokes with the mouse on the canvas; returns the time of the last mouse-up."""
    box = steady_box(page.locator("canvas.upper-canvas"))
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()
    if page in SENT:
        DRAWN[page] = (len(SENT[page]), len(strokes))
    return time.monotonic()


def steady_box(locator) -> dict:
    """The element's bounding box once the page around it has stopped moving."""
    last, same, box = None, 0, None
    for _ in range(100):
        # Just after Clear, the old canvas and its fresh replacement are both on the page.
        box = locator.bounding_box() if locator.count() == 1 else None
        same = same + 1 if box == last and box is not None else 0
        if same == 3:
            return box
        last = box
        time.sleep(0.1)
    raise AssertionError(f"the canvas kept moving: {box}")


def identify(page, mouse_up: float) -> tuple[str, float, float]:
    """Press Identify; the first number shown in the prediction, and the seconds it took from
    the click and from the mouse-up.

    The click waits until the canvas has sent its drawing, every stroke in it (0.2 s after the
    mouse-up), as a person's would: moving to the button takes longer. A click sent just before
    the drawing can be lost in Streamlit 1.67: if the drawing's rerun arrives while the server
    starts the click's run, that run is dropped before its callbacks, with the click in it
    (README, "The app").
    """
    if page in DRAWN:
        sent, strokes = DRAWN[page]
        deadline = time.monotonic() + 5
        while max(SENT[page][sent:], default=0) < strokes and time.monotonic() < deadline:
            page.wait_for_timeout(10)
    click = time.monotonic()
    page.get_by_role("button", name="Identify").click()
    try:
        page.wait_for_function(HAS_DIGITS, polling=10, timeout=15_000)
    except Exception as error:
        page.screenshot(path=SHOTS / "failed-identify.png", full_page=True)
        shown = page.locator(".st-key-prediction").inner_text()
        raise AssertionError(
            f"no reading {time.monotonic() - mouse_up:.1f} s after the mouse-up; the prediction "
            f"shows {shown!r}, the canvas has {inked_pixels(page)} inked pixels"
        ) from error
    now = time.monotonic()
    text = page.locator(".st-key-prediction").inner_text()
    return re.search(r"\d+", text).group(), now - click, now - mouse_up


def inked_pixels(page) -> int:
    return page.locator("canvas.dc-canvas").evaluate_all(INKED_PIXELS)


def wait_for_empty_canvas(page, after: str) -> None:
    """Wait until the one canvas on the page shows no ink (the old one is gone)."""
    deadline = time.monotonic() + 10
    while page.locator("canvas.upper-canvas").count() != 1 or inked_pixels(page):
        assert time.monotonic() < deadline, f"the canvas still shows ink after {after}"
        time.sleep(0.05)


def clear(page) -> None:
    """Press Clear and wait for an empty canvas and a prediction without digits."""
    page.get_by_role("button", name="Clear").click()
    page.wait_for_function(NO_DIGITS)
    wait_for_empty_canvas(page, "Clear")


def test_twenty_drawn_digits_are_read_within_a_second_of_identify(page):
    """Check 18 of 20 mouse-drawn digits are read right, each within a second of Identify (the
    time from the mouse-up, which holds the canvas's 0.2 s before it sends, is kept beside)."""
    results = []
    for i, (digit, strokes) in enumerate(sample_digits(20)):
        first, latency, since_up = identify(page, draw(page, strokes))
        time.sleep(0.4)  # a later, different answer would mean a stale one was shown first
        final = re.search(r"\d+", page.locator(".st-key-prediction").inner_text()).group()
        results.append(
            {
                "drawn": digit,
                "read": first,
                "after": final,
                "seconds": latency,
                "since_mouse_up": since_up,
            }
        )
        if i == 3:
            screenshot(page, "draw-reading.png")
        clear(page)
    latencies = sorted(r["seconds"] for r in results)
    summary = {
        "right": sum(r["read"] == str(r["drawn"]) for r in results),
        "median_seconds": statistics.median(latencies),
        "max_seconds": latencies[-1],
        "median_since_mouse_up": statistics.median(r["since_mouse_up"] for r in results),
        "digits": results,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-digits.json").write_text(json.dumps(summary, indent=2))
    assert all(r["read"] == r["after"] for r in results), (
        f"an answer changed after showing: {results}"
    )
    assert summary["right"] >= 18, f"only {summary['right']} of 20 read right: {results}"
    assert summary["median_seconds"] < SECOND, f"median latency {summary['median_seconds']:.2f} s"
    assert latencies[-3] < SECOND, f"more than two readings took over a second: {latencies}"


def test_a_number_with_touching_digits_is_read_exactly_and_built_digit_by_digit(page):
    """Check 482 drawn stroke by stroke with its digits overlapping is read as 482 (the issue's
    example: pixels alone read 42), then added to the number and undone whole.
    DIGITCORE_E2E_NUMBERS=12 also draws 12 such numbers and writes artifacts/e2e-numbers.json
    (exact reads, median seconds from Identify to the answer): at least 11 must be exact."""
    if inked_pixels(page):  # an earlier test stopped with its drawing on the canvas
        clear(page)
    strokes = touching_number([4, 8, 2], overlap=0.12)
    boxes = [(min(x for x, _ in s), max(x for x, _ in s)) for s in strokes]
    assert any(a[1] > b[0] for a, b in itertools.pairwise(boxes)), "the digits should overlap"
    first, *_ = identify(page, draw(page, strokes))
    assert first == "482"
    page.get_by_role("button", name="Add 482 to the number").wait_for()
    screenshot(page, "draw-number.png")

    page.get_by_role("button", name="Add 482 to the number").click()
    page.get_by_text("Number: 482").wait_for()
    wait_for_empty_canvas(page, "adding the reading to the number")
    page.get_by_role("button", name="Add 482 to the number").wait_for(state="detached")
    page.get_by_role("button", name="Undo 482").click()  # the whole addition, not its last digit
    page.get_by_text("Number: —").wait_for()

    results = []
    for number, lines in sample_numbers(int(os.environ.get("DIGITCORE_E2E_NUMBERS", "0"))):
        clear(page)
        page.wait_for_timeout(300)  # after Undo the page may remount the canvas once more
        wait_for_empty_canvas(page, "Clear")
        read, seconds, _ = identify(page, draw(page, lines))
        results.append({"drawn": number, "read": read, "seconds": seconds})
    if results:
        ARTIFACTS.mkdir(exist_ok=True)
        right = sum(r["read"] == r["drawn"] for r in results)
        median = statistics.median(r["seconds"] for r in results)
        summary = {"right": right, "of": len(results), "median_seconds": median, "numbers": results}
        (ARTIFACTS / "e2e-numbers.json").write_text(json.dumps(summary, indent=2))
        assert right >= len(results) - len(results) // 12, f"{right} exact: {results}"


def test_a_phone_number_written_with_dashes_is_read_as_its_digits(page):
    """Check 482-7103 written with the mouse, the dash a stroke of its own between the groups,
    is read as 4827103: the dash is no digit (before, it joined the 2 or the 7)."""
    if inked_pixels(page):
        clear(page)
    lines = phone_number([4, 8, 2, 7, 1, 0, 3], "-", height=120)
    first, seconds, _ = identify(page, draw(page, lines))
    assert first == "4827103", first
    assert seconds < SECOND
    clear(page)


def test_identify_on_a_cleared_canvas_asks_for_a_digit(page):
    draw(page, place(DIGITS[8][0], left=200, top=40, height=180))
    page.wait_for_timeout(400)  # let the stroke reach the server
    assert inked_pixels(page) > 0
    clear(page)
    page.get_by_role("button", name="Identify").click()
    page.locator(".st-key-prediction").get_by_text("Draw a digit first").wait_for()


def test_evaluate_and_train_pages_show_their_content(page, app_url: str):
    page.goto(f"{app_url}/evaluate")
    page.get_by_role("heading", name="Accuracy").wait_for(timeout=120_000)
    page.locator(".vega-embed").first.wait_for()
    page.get_by_text("Where the models disagree").wait_for()
    page.wait_for_timeout(1000)  # let the charts finish drawing
    screenshot(page, "evaluate.png")

    page.goto(f"{app_url}/train")
    page.get_by_role("button", name="Train", exact=True).wait_for()
    page.get_by_role("heading", name="Saved models").wait_for()
    page.get_by_text("n_neighbors").wait_for()
    screenshot(page, "train.png")


def paper_brightness(locator) -> float:
    """Mean brightness (0-255) of the canvas's top-left corner as shown on screen."""
    shot = Image.open(io.BytesIO(locator.screenshot())).convert("L")
    return float(np.asarray(shot)[2:12, 2:12].mean())


def test_on_a_dark_phone_the_canvas_fits_and_a_digit_drawn_by_touch_is_read(browser, app_url):
    """Check at 390x844 with touch and the system's dark look: the whole canvas on screen and
    dark, thumb-sized buttons, a 7 drawn with touch events read, the answer above the fold."""
    context = browser.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, color_scheme="dark"
    )
    phone = context.new_page()
    phone.set_default_timeout(60_000)
    try:
        phone.goto(app_url)
        canvas = phone.locator("canvas.upper-canvas")
        canvas.wait_for(timeout=90_000)
        box = steady_box(canvas)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["y"] + box["height"] <= PHONE["height"], box
        assert paper_brightness(canvas) < 60, "the canvas must follow the dark look"
        assert phone.get_by_role("button", name="Identify").bounding_box()["height"] >= 44
        touch = context.new_cdp_session(phone)
        zoom = box["width"] / 680  # the canvas is drawn smaller; its pixels are still 680 wide
        for stroke in place(DIGITS[7][0], left=250, top=40, height=190):
            points = [{"x": box["x"] + x * zoom, "y": box["y"] + y * zoom} for x, y in stroke]
            touch.send(
                "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points[:1]}
            )
            for point in points[1:]:
                touch.send(
                    "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]}
                )
            touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        phone.wait_for_timeout(400)  # let the stroke reach the server
        phone.get_by_role("button", name="Identify").tap()
        phone.wait_for_function(HAS_DIGITS, polling=20, timeout=15_000)
        answer = phone.locator(".st-key-prediction")
        assert re.search(r"\d+", answer.inner_text()).group() == "7"
        shown = answer.bounding_box()
        assert shown["y"] + 100 <= PHONE["height"], f"the answer is below the fold: {shown}"
        phone.screenshot(path=SHOTS / "phone-dark.png")
    finally:
        context.close()


def test_the_light_look_has_a_light_canvas_and_the_drawing_survives_a_visit_to_upload(
    page, app_url: str
):
    page.goto(app_url)
    page.locator("canvas.upper-canvas").wait_for(timeout=90_000)
    assert paper_brightness(page.locator("canvas.upper-canvas")) > 200
    first, *_ = identify(page, draw(page, place(DIGITS[3][0], left=200, top=40, height=180)))
    page.locator("button", has_text="Upload an image").click()
    page.locator("canvas.upper-canvas").wait_for(state="detached")
    page.locator("button", has_text=re.compile("^Draw$")).click()
    page.locator("canvas.upper-canvas").wait_for()
    page.wait_for_function(HAS_DIGITS)
    assert re.search(r"\d+", page.locator(".st-key-prediction").inner_text()).group() == first
    # The remounted canvas redraws its saved strokes a moment after the reading shows.
    deadline = time.monotonic() + 15
    while inked_pixels(page) <= 500:
        assert time.monotonic() < deadline, "the drawing must be back on the canvas"
        page.wait_for_timeout(100)
    clear(page)
