"""Rehearsal of docs/deploy.md on one machine: search on a Dask cluster, serve from two replicas.

Everything on 127.0.0.1, every process started here and stopped at the end (also on Ctrl-C or
an error), every stage bounded in time:

1. a PostgreSQL server (Debian's package; a throwaway cluster, ``tests/pgserver.py``) with a
   ``digitcore`` database: the replicas' ``DIGITCORE_DB``;
2. ``dask scheduler`` and two ``dask worker`` processes (one thread each);
3. ``python -m digitcore search --scheduler ...`` on a small grid and a stratified subset;
4. two app replicas (``streamlit run app.py`` on two ports) sharing one models folder (holding
   the shipped model) and the database; both are checked to serve the shipped model;
5. ``python -m digitcore train --params best_params.json --scheduler ...`` into the shared
   folder, made the default (``models --set-default``) when it did not beat the shipped model
   on its own; both replicas are checked to serve it, without a restart;
6. ``--sessions`` headless Chromium pages (one browser, a context each), spread over both
   replicas; once all have loaded, each draws a digit, presses Identify (once the canvas has
   sent the drawing, as a person's click comes after it) and waits for the answer, then Clear,
   again and again for ``--seconds``.

Reported: readings per second, p50/p95 latency (Identify click to the answer shown), each
page's first reading apart from the rest, errors, the CPU seconds and peak memory of every
process during the load, and the replicas' own CPU time per reading (their CPU seconds over the
readings served: what a reading costs the server, apart from the browsers).

Run::

    python benchmarks/cluster.py                        # 20 sessions for 60 s
    python benchmarks/cluster.py --sessions 4 --seconds 20 --json artifacts/cluster.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the test helpers: a PostgreSQL server, drawn strokes

import pgserver  # noqa: E402
from browser_strokes import INKED_PIXELS, paths, sample_digits  # noqa: E402

from digitcore import registry, settings, store  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]  # fmt: skip
#: The grid searched: 4 candidates, small enough for a rehearsal on two cores.
GRID = {"svc-C": [1, 5], "knn-n-neighbors": [3, 5]}
HAS_DIGITS = "() => /\\d/.test(document.querySelector('.st-key-prediction')?.innerText ?? '')"
NO_DIGITS = (
    "() => { const e = document.querySelector('.st-key-prediction');"
    " return e !== null && !/\\d/.test(e.innerText); }"
)
#: What the Draw page says when the app itself failed (never the visitor's fault).
FAILED = "() => document.querySelector('[data-testid=stException]') !== null"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Processes:
    """The processes started here, each in its own session, stopped (group and all) at the end."""

    folder: Path
    started: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None, *,
              cwd: Path = ROOT) -> None:  # fmt: skip
        out = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.started[name] = subprocess.Popen(
            args, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def check(self) -> None:
        for name, proc in self.started.items():
            if proc.poll() is not None:
                tail = (self.folder / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.started.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # its group: the process and its children
        for proc in self.started.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_until(what: str, ready, *, seconds: float, processes: Processes) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        processes.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready within {seconds:.0f} s")
        time.sleep(0.3)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def run(args: list[str], *, env: dict[str, str], seconds: float) -> subprocess.CompletedProcess:
    """A command to its end (bounded), its output kept; a failure raises with its stderr."""
    started = time.monotonic()
    done = subprocess.run(args, cwd=ROOT, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=seconds)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} exited with {done.returncode}:\n{done.stderr}")
    log(f"{' '.join(args[2:5])} ... done in {time.monotonic() - started:.1f} s")
    return done


# --- the browsers ----------------------------------------------------------------------------


async def served_default(browser, url: str) -> str:
    """The sidebar's 'Default for everyone (...)' on a new page of the replica at ``url``."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(url)
        await page.locator("canvas.upper-canvas").wait_for(timeout=120_000)
        picker = page.locator("[data-testid=stSidebar] input[aria-label='Active model']")
        return await picker.input_value()
    finally:
        await context.close()


async def steady_box(locator) -> dict:
    last, same = None, 0
    for _ in range(200):
        box = await locator.bounding_box()
        same = same + 1 if box == last and box is not None else 0
        if same == 3:
            return box
        last = box
        await asyncio.sleep(0.1)
    raise TimeoutError("the canvas kept moving")


@dataclass
class Load:
    """What the sessions share: their readings and errors, and when all of them are drawing."""

    sessions: int
    sampler: Sampler
    readings: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    saved: int = 0
    loaded: int = 0
    finished: int = 0
    #: Set once every page has loaded: then all of them draw at once, for the same minute.
    all_loaded: asyncio.Event = field(default_factory=asyncio.Event)

    def page_loaded(self) -> None:
        self.loaded += 1
        if self.loaded == self.sessions:  # all drawing: the steady state starts
            self.sampler.begin()
            self.all_loaded.set()

    def session_done(self) -> None:
        self.finished += 1
        if self.sampler.running:  # the first to stop after all began: the steady state ends
            self.sampler.end()


async def draw_and_identify(page, strokes, sent: list[int]) -> tuple[float, float, int]:
    """Draw with the mouse, press Identify once the canvas has sent the drawing (as a person,
    who takes longer than the canvas's 0.2 s to reach the button; ``sent``: the strokes each
    message of the page carried). Seconds from the click to the answer shown, seconds from the
    last mouse-up to the canvas's message, and how often the first stroke left no ink and was
    drawn again (as a person would, a second later)."""
    canvas = page.locator("canvas.upper-canvas")
    await empty_canvas(page)
    # The clicks on the buttons below may have scrolled the canvas out of the window.
    await canvas.scroll_into_view_if_needed()
    box = await steady_box(canvas)
    before = len(sent)
    again = 0
    for k, stroke in enumerate(strokes):
        while True:
            await page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
            await page.mouse.down()
            for x, y in stroke[1:]:
                await page.mouse.move(box["x"] + x, box["y"] + y)
            await page.mouse.up()
            if k or again == 5 or await page.locator("canvas.dc-canvas").evaluate_all(INKED_PIXELS):
                break
            # Under this load a first stroke now and then leaves no ink (why, not found): a
            # person sees that and draws it again.
            again += 1
            await asyncio.sleep(1.0)
    waited = time.monotonic()
    while max(sent[before:], default=0) < len(strokes):
        if time.monotonic() - waited > 30:
            inked = await page.locator("canvas.dc-canvas").evaluate_all(INKED_PIXELS)
            raise TimeoutError(
                f"the canvas did not send the drawing's {len(strokes)} strokes in 30 s "
                f"({inked} inked pixels on it; first stroke drawn {again + 1} times)"
            )
        await asyncio.sleep(0.01)
    clicked = time.monotonic()
    await page.get_by_role("button", name="Identify").click()
    try:
        await page.wait_for_function(HAS_DIGITS, polling=20, timeout=60_000)
    except Exception as exc:
        shown = await page.locator(".st-key-prediction").inner_text()
        raise TimeoutError(f"no answer 60 s after Identify; shown: {shown[:80]!r}") from exc
    return time.monotonic() - clicked, clicked - waited, again


async def empty_canvas(page) -> None:
    """Wait until the page holds one canvas, without ink: after Clear, the old canvas (with the
    drawing) stays a moment beside its replacement, and a stroke drawn on it is lost. Called
    before every drawing."""
    canvas = page.locator("canvas.upper-canvas")
    deadline = time.monotonic() + 60
    while await canvas.count() != 1 or await page.locator("canvas.dc-canvas").evaluate_all(
        INKED_PIXELS
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("no single, empty canvas on the page for 60 s")
        await asyncio.sleep(0.05)


async def open_draw_page(page, url: str) -> None:
    await page.goto(url, timeout=180_000)
    await page.locator("canvas.upper-canvas").wait_for(timeout=180_000)
    await page.wait_for_function(NO_DIGITS)


async def session(browser, url: str, index: int, seconds: float, load: Load) -> None:
    """One visitor: open the Draw page, then draw, Identify, wait for the answer, Clear, for
    ``seconds``; every third answer, from the second, is confirmed (a write to the drawings
    database: a page draws only a few digits in a minute under this load)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(60_000)
    sent: list[int] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda m: sent.append(paths(m))))
    digits = sample_digits(20)
    n = 0
    try:
        opened = time.monotonic()
        try:
            await open_draw_page(page, url)
        except Exception as exc:
            load.errors.append({"session": index, "replica": url, "n": -1,
                                "error": f"page did not load: {type(exc).__name__}: {exc}"[:300]})  # fmt: skip
            load.page_loaded()
            return
        load_s = time.monotonic() - opened
        load.page_loaded()
        # On two cores, twenty pages take about a minute to load: the load starts when all have.
        await load.all_loaded.wait()
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            drawn, strokes = digits[(index * 7 + n) % len(digits)]
            try:
                at = time.monotonic()
                latency, sending, again = await draw_and_identify(page, strokes, sent)
                if await page.evaluate(FAILED):
                    raise RuntimeError("the page shows an exception")
                text = await page.locator(".st-key-prediction").inner_text()
                load.readings.append({"session": index, "replica": url, "n": n, "drawn": drawn,
                                      "shown": text.strip().split("\n")[0][:40],
                                      "seconds": latency, "page_load_seconds": load_s,
                                      "canvas_sent_after_seconds": sending,
                                      "first_stroke_drawn_again": again,
                                      "at": at})  # fmt: skip
                confirm = page.get_by_role("button", name="is right: save it")
                if n % 3 == 1 and await confirm.count():
                    await confirm.click()
                    await page.locator(".st-key-correct").get_by_text("Saved").wait_for()
                    load.saved += 1
                await page.get_by_role("button", name="Clear").click()
                try:
                    await page.wait_for_function(NO_DIGITS)
                except Exception as exc:
                    raise TimeoutError("the answer still shown 60 s after Clear") from exc
            except Exception as exc:  # counted; then the visitor reloads and goes on
                load.errors.append({"session": index, "replica": url, "n": n,
                                    "error": f"{type(exc).__name__}: {str(exc)[:300]}"})  # fmt: skip
                await open_draw_page(page, url)
            n += 1
    finally:
        load.session_done()
        await context.close()


async def browsers(urls: list[str], *, sessions: int, seconds: float, sampler) -> Load:
    from playwright.async_api import async_playwright

    load = Load(sessions, sampler)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            sampler.add_tree("chromium", browser_pid())
            tasks = []
            for i in range(sessions):  # visitors arrive a second apart
                tasks.append(asyncio.create_task(session(browser, urls[i % len(urls)], i,
                                                         seconds, load)))  # fmt: skip
                await asyncio.sleep(1.0)
            await asyncio.gather(*tasks)
            if not hasattr(sampler, "ended"):  # no page ever loaded: no steady state
                sampler.begin()
                sampler.end()
        finally:
            await browser.close()
    return load


def browser_pid() -> int | None:
    """The Chromium browser process Playwright started (a child of its driver, or its own)."""
    me = psutil.Process()
    for child in me.children(recursive=True):
        try:
            if "chromium" in child.name() and "--type=" not in " ".join(child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    return None


# --- resource use ----------------------------------------------------------------------------


@dataclass
class Sampler:
    """CPU seconds (during the load) and peak memory of each named process tree."""

    trees: dict[str, int] = field(default_factory=dict)
    cpu0: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)
    running: bool = False

    def add_tree(self, name: str, pid: int | None) -> None:
        if pid is not None:
            self.trees[name] = pid

    def _procs(self, pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _cpu(self, name: str) -> float:
        total = 0.0
        for p in self._procs(self.trees[name]):
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                continue
        return total

    def sample(self) -> None:
        for name, pid in self.trees.items():
            rss = 0
            for p in self._procs(pid):
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)

    def begin(self) -> None:
        self.cpu0 = {name: self._cpu(name) for name in self.trees}
        self.started = time.monotonic()
        self.running = True

    def end(self) -> None:
        self.sample()
        self.cpu = {name: self._cpu(name) - self.cpu0.get(name, 0.0) for name in self.trees}
        self.ended = time.monotonic()
        self.seconds = self.ended - self.started
        self.running = False


async def sample_every(sampler: Sampler, seconds: float) -> None:
    while True:
        sampler.sample()
        await asyncio.sleep(seconds)


async def load_with_sampling(urls, *, sessions, seconds, sampler) -> Load:
    ticker = asyncio.create_task(sample_every(sampler, 1.0))
    try:
        return await browsers(urls, sessions=sessions, seconds=seconds, sampler=sampler)
    finally:
        ticker.cancel()


# --- the rehearsal ---------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(load: Load, sampler: Sampler, replicas: list[str]) -> dict[str, Any]:
    """The figures: latencies over every reading; throughput and CPU over the steady state
    (from the moment all pages were drawing to the moment the first one stopped)."""
    readings = load.readings
    steady = [r for r in readings if sampler.started <= r["at"] <= sampler.ended]
    seconds = [r["seconds"] for r in readings]
    firsts = [r["seconds"] for r in readings if r["n"] == 0]
    later = [r["seconds"] for r in readings if r["n"] > 0]
    replica_cpu = sum(sampler.cpu.get(f"replica-{i}", 0.0) for i in range(len(replicas)))
    return {
        "sessions": len({r["session"] for r in readings}),
        "readings": len(readings),
        "read_as_drawn": sum(r["shown"].startswith(str(r["drawn"])) for r in readings),
        "answers_confirmed_and_saved": load.saved,
        "errors": len(load.errors),
        "error_examples": load.errors[:5],
        "by_replica": {
            u: {
                "readings": sum(r["replica"] == u for r in readings),
                "first_reading_p50_seconds": percentile(
                    [r["seconds"] for r in readings if r["replica"] == u and r["n"] == 0], 50
                ),
                "later_p50_seconds": percentile(
                    [r["seconds"] for r in readings if r["replica"] == u and r["n"] > 0], 50
                ),
            }
            for u in replicas
        },
        "p50_seconds": percentile(seconds, 50),
        "p95_seconds": percentile(seconds, 95),
        "max_seconds": max(seconds) if seconds else None,
        "first_reading_p50_seconds": percentile(firsts, 50),
        "first_reading_max_seconds": max(firsts) if firsts else None,
        "later_p50_seconds": percentile(later, 50),
        "later_p95_seconds": percentile(later, 95),
        # Drawings whose first stroke left no ink (drawn again a second later), and how often.
        "first_stroke_missed": sum(r["first_stroke_drawn_again"] > 0 for r in readings),
        "first_stroke_redraws": sum(r["first_stroke_drawn_again"] for r in readings),
        # How long after the last mouse-up the canvas sent the drawing (the click waits for it).
        "canvas_sent_p50_seconds": percentile(
            [r["canvas_sent_after_seconds"] for r in readings], 50
        ),
        "page_load_p50_seconds": percentile(
            sorted({r["session"]: r["page_load_seconds"] for r in readings}.values()), 50
        ),
        "steady_state_seconds": sampler.seconds,
        "steady_state_readings": len(steady),
        "readings_per_second": len(steady) / sampler.seconds,
        "replica_cpu_seconds_per_reading": replica_cpu / max(len(steady), 1),
        "cpu_seconds": {k: round(v, 1) for k, v in sampler.cpu.items()},
        "cpu_cores_used": {k: round(v / sampler.seconds, 2) for k, v in sampler.cpu.items()},
        "peak_memory_mb": {k: round(v / 2**20) for k, v in sampler.peak_rss.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser pages (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="each page draws this long")
    parser.add_argument(
        "--search-limit",
        type=int,
        default=3000,
        help="training digits the search cross-validates on (default 3,000)",
    )
    parser.add_argument(
        "--train-limit",
        type=int,
        default=20000,
        help="training digits for the best model (default 20,000)",
    )
    parser.add_argument(
        "--skip-search",
        action="store_true",
        help="no search or training: load the replicas with the shipped model",
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument(
        "--app-dir", type=Path, default=ROOT,
        help="the project copy whose app.py the replicas run (default: this one)",
    )  # fmt: skip
    parser.add_argument(
        "--second-app-dir", type=Path,
        help="another copy for the second replica (default: --app-dir): an A/B comparison of "
        "two versions under the same load",
    )  # fmt: skip
    args = parser.parse_args()  # fmt: skip

    work = Path(tempfile.mkdtemp(prefix="digitcore-cluster-"))
    processes = Processes(work)
    figures: dict[str, Any] = {"sessions_asked": args.sessions, "seconds": args.seconds}
    sampler = Sampler()
    server = pgserver.PostgresServer()
    try:
        # 1. PostgreSQL
        server.start()
        db_url = pgserver.create_database(server.url, "digitcore")
        sampler.add_tree("postgresql", postmaster_pid(server))
        log(f"PostgreSQL: {db_url}")

        # 2. Dask: a scheduler and two workers, one thread each (two cores)
        port, dash = pgserver.free_port(), pgserver.free_port()
        scheduler = f"tcp://127.0.0.1:{port}"
        # The scheduler and workers unpickle digitcore's estimators: they import it as the
        # replicas do (a host would `pip install .`; here the project folder is on the path).
        on_path = {"PYTHONPATH": str(ROOT)}
        processes.start("dask-scheduler", ["dask", "scheduler", "--host", "127.0.0.1", "--port",
                        str(port), "--dashboard-address", f"127.0.0.1:{dash}"], on_path)  # fmt: skip
        wait_until("dask scheduler", lambda: http_ok(f"http://127.0.0.1:{dash}/health"),
                   seconds=60, processes=processes)  # fmt: skip
        for i in (1, 2):
            processes.start(f"dask-worker-{i}", ["dask", "worker", scheduler, "--nthreads", "1",
                            "--host", "127.0.0.1", "--name", f"worker-{i}",
                            "--dashboard-address", "127.0.0.1:0"], on_path)  # fmt: skip
        wait_until("two dask workers", lambda: workers(dash) >= 2, seconds=60,
                   processes=processes)  # fmt: skip
        log(f"Dask: {scheduler}, dashboard http://127.0.0.1:{dash}/status, 2 workers")

        # 4 (first, so the training below lands in a folder the replicas already serve).
        models = work / "models"
        models.mkdir()
        shipped = registry.default_model(ROOT / "models")
        for path in (shipped.path, store.metadata_path(shipped.path)):
            shutil.copy(path, models)
        # MNIST as the tests and benchmarks find it (../shared/data/mnist), else the app's way.
        mnist = settings.reference_data_dir()
        data = {"DIGITCORE_DATA": str(mnist)} if (mnist / "t10k-labels-idx1-ubyte.gz").is_file() \
            else {}  # fmt: skip
        env = {**data, "DIGITCORE_MODELS": str(models), "DIGITCORE_DB": db_url,
               "DIGITCORE_DASK_SCHEDULER": scheduler, "PYTHONPATH": str(ROOT)}  # fmt: skip
        urls = []
        app_dirs = [args.app_dir, args.second_app_dir or args.app_dir]
        figures["app_dirs"] = [str(d) for d in app_dirs]
        for i in range(2):
            app_port = pgserver.free_port()
            processes.start(f"replica-{i}", [sys.executable, "-m", "streamlit", "run", "app.py",
                            f"--server.port={app_port}", "--server.address=127.0.0.1",
                            "--server.headless=true", "--server.fileWatcherType=none",
                            "--browser.gatherUsageStats=false"],
                            {**env, "PYTHONPATH": str(app_dirs[i])}, cwd=app_dirs[i])  # fmt: skip
            urls.append(f"http://127.0.0.1:{app_port}")
        for url in urls:
            wait_until(url, lambda u=url: http_ok(f"{u}/_stcore/health"), seconds=90,
                       processes=processes)  # fmt: skip
        for i in range(2):
            sampler.add_tree(f"replica-{i}", processes.started[f"replica-{i}"].pid)
        for name in ("dask-scheduler", "dask-worker-1", "dask-worker-2"):
            sampler.add_tree(name, processes.started[name].pid)
        log(f"replicas: {', '.join(urls)}")
        before = asyncio.run(defaults_served(urls))
        figures["served_before"] = before
        assert all(shipped.summary in text for text in before), before

        if not args.skip_search:
            # 3. the search on the cluster
            out = work / "search"
            grid = work / "grid.json"
            grid.write_text(json.dumps(GRID))
            started = time.monotonic()
            found = run([sys.executable, "-m", "digitcore", "search", "--scheduler", scheduler,
                         "--grid", str(grid), "--cv", "3", "--limit", str(args.search_limit),
                         "--out", str(out), "--json"], env=env, seconds=600)  # fmt: skip
            result = json.loads(found.stdout)
            figures["search"] = {"grid": GRID, "cv": 3, "digits": args.search_limit,
                                 "wall_seconds": time.monotonic() - started,
                                 "best_params": result["best_params"],
                                 "best_score": result["best_score"],
                                 "results": result["results"]}  # fmt: skip
            log(f"search: best {result['best_params']} ({result['best_score']:.4f})")

            # 5. train the best into the shared folder, through the cluster
            started = time.monotonic()
            trained = run([sys.executable, "-m", "digitcore", "train", "--params",
                           str(out / "best_params.json"), "--limit", str(args.train_limit),
                           "--scheduler", scheduler, "--out", str(models)], env=env,
                          seconds=600)  # fmt: skip
            newest = store.list_models(models)[0]
            said = [line for line in trained.stdout.splitlines() if "default for everyone" in line]
            figures["train"] = {"wall_seconds": time.monotonic() - started, "model": newest.name,
                                "summary": newest.summary, "promotion": said}  # fmt: skip
            if registry.default_model(models).path != newest.path:
                # Fewer digits than the shipped model: made the default by hand, as on the page.
                run([sys.executable, "-m", "digitcore", "models", "--set-default", newest.name],
                    env=env, seconds=120)  # fmt: skip
            after = asyncio.run(defaults_served(urls))
            figures["served_after"] = after
            assert all(newest.summary in text for text in after), after
            log(f"both replicas serve {newest.name} without a restart")

        # 6. the load
        log(f"{args.sessions} browser sessions for {args.seconds:.0f} s over {len(urls)} replicas")
        load = asyncio.run(load_with_sampling(urls, sessions=args.sessions,
                                              seconds=args.seconds, sampler=sampler))  # fmt: skip
        figures["raw"] = {"readings": load.readings, "errors": load.errors}
        if args.json:  # kept even if the summary below fails
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2, default=str))
        processes.check()
        figures["load"] = summarise(load, sampler, urls)
        figures["first_readings"] = sorted(
            round(r["seconds"], 2) for r in load.readings if r["n"] == 0)  # fmt: skip
        figures["drawings_saved_in_postgresql"] = rows_in(db_url)
        figures["raw"] = {"readings": load.readings, "errors": load.errors}
    finally:
        processes.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    shown = {k: v for k, v in figures.items() if k != "raw"}
    print(json.dumps(shown, indent=2, default=str))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if figures.get("load", {}).get("errors", 1) == 0 else 1


async def defaults_served(urls: list[str]) -> list[str]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            return [await served_default(browser, url) for url in urls]
        finally:
            await browser.close()


def rows_in(db_url: str) -> int:
    """Digits in the drawings database (saves of one drawing by several pages are one row)."""
    from digitcore import drawings

    opened = drawings.open_store(db_url)
    try:
        return opened.count()
    finally:
        opened.engine.dispose()


def workers(dashboard_port: int) -> int:
    """How many workers the scheduler knows (its JSON API, served on the dashboard port)."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{dashboard_port}/json/counts.json", timeout=2
        ) as answer:
            return int(json.loads(answer.read()).get("workers", 0))
    except (OSError, ValueError):
        return 0


def postmaster_pid(server: pgserver.PostgresServer) -> int | None:
    pid_file = server.folder / "data" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
