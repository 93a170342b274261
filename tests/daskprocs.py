"""A separately started Dask cluster on this machine, for tests and benchmarks: a
``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 only, as a user would start them
on other machines, stopped when done.

    with separate_cluster(folder, n_workers=2) as (address, workers):
        client = Client(address)  # workers: {"w1": Popen, "w2": Popen}, to stop one on purpose
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from digitcore import search, settings

#: Seconds to wait for the scheduler's address, and for a process to stop before killing it.
WAIT = 60


@contextlib.contextmanager
def separate_cluster(
    folder: str | Path, *, n_workers: int = 2
) -> Iterator[tuple[str, dict[str, subprocess.Popen]]]:
    """Start ``dask scheduler`` and ``n_workers`` single-threaded ``dask worker`` processes
    (named ``w1``, ``w2``, ...) in ``folder``, with this project importable; yield the
    scheduler's address and the workers by name; stop them all (killing any that hangs)."""
    folder = Path(folder)
    address_file = folder / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(settings.PROJECT_ROOT)}
    dask = [sys.executable, "-m", "dask"]
    quiet = {"env": env, "cwd": folder, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    started = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(address_file)], **quiet,
        )
    ]  # fmt: skip
    workers: dict[str, subprocess.Popen] = {}
    try:
        address = search.scheduler_address(address_file, timeout=WAIT)
        for i in range(1, n_workers + 1):
            workers[f"w{i}"] = subprocess.Popen(
                [*dask, "worker", address, "--name", f"w{i}", "--nthreads", "1", "--no-nanny",
                 "--host", "127.0.0.1", "--no-dashboard"], **quiet,
            )  # fmt: skip
            started.append(workers[f"w{i}"])
        yield address, workers
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=WAIT / 6)
            except subprocess.TimeoutExpired:
                process.kill()
