"""``python -m digitcore drawings``: several processes adding at once keep every digit, export
and import move them whole (IDX and PNG), and bad input is one line that changes nothing."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitcore import drawings, synthetic
from digitcore.__main__ import main
from digitcore.recognize import recognize

ROOT = Path(__file__).resolve().parent.parent
#: Processes adding at once, and files each adds (one digit per file).
WRITERS, FILES_EACH = 4, 25


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, db: Path) -> Ran:
    """The command line run in this process, as ``python -m digitcore drawings ...``."""
    out, err = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        patch.setenv("DIGITCORE_DB", f"sqlite:///{db}")
        status = main(["drawings", *args])
    return Ran(status, out.getvalue(), err.getvalue())


def start_cli(*args: str, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "digitcore", "drawings", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DIGITCORE_DB": f"sqlite:///{db}"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def scans(mnist_test, small_model, tmp_path_factory) -> dict[int, list[Path]]:
    """Per digit 0-3, 25 'scans': MNIST test digits drawn dark on light paper, one per file,
    each read as one digit by the model the CLI is given (the reading path cuts by recognition)."""
    folder = tmp_path_factory.mktemp("scans")
    found: dict[int, list[Path]] = {d: [] for d in range(WRITERS)}
    for i, (digit, label) in enumerate(zip(mnist_test.images, mnist_test.labels, strict=True)):
        if label >= WRITERS or len(found[label]) == FILES_EACH:
            continue
        path = folder / f"{label}-{i}.png"
        Image.fromarray(synthetic.render_drawing(digit, polarity="black_on_white")).save(path)
        if len(recognize(small_model, path).digits) == 1:  # one digit found: usable
            found[label].append(path)
        if all(len(paths) == FILES_EACH for paths in found.values()):
            return found
    raise AssertionError("not enough single-digit drawings")


@pytest.fixture(scope="module")
def hundred(scans, small_model_info, tmp_path_factory) -> Path:
    """A database that four processes filled at once, 25 files each."""
    db = tmp_path_factory.mktemp("db") / "drawings.sqlite"
    writers = [
        start_cli(
            "add", "--label", str(d), "--model", str(small_model_info.path), *map(str, paths), db=db
        )
        for d, paths in scans.items()
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        assert f"saved {FILES_EACH} digits from {FILES_EACH} files" in out
    return db


def test_four_processes_adding_at_once_keep_every_digit(hundred):
    counted = run_cli("count", db=hundred)
    assert counted.returncode == 0 and counted.stdout.strip() == str(WRITERS * FILES_EACH)
    by_digit = run_cli("count", "--by-digit", db=hundred).stdout.splitlines()
    assert by_digit[:WRITERS] == [f"{d}\t{FILES_EACH}" for d in range(WRITERS)]
    saved = drawings.open_store(f"sqlite:///{hundred}").list(limit=1)[0]
    assert saved.source == "cli" and saved.model_sha256 and saved.read is not None


def test_export_to_idx_and_import_into_an_empty_database_gives_the_same_digits(hundred, tmp_path):
    exported = run_cli("export", str(tmp_path / "out"), db=hundred)
    assert exported.returncode == 0, exported.stderr
    assert "exported 100 digits" in exported.stdout
    empty = tmp_path / "empty.sqlite"
    imported = run_cli("import", str(tmp_path / "out"), db=empty)
    assert imported.returncode == 0, imported.stderr
    assert run_cli("count", db=empty).stdout.strip() == "100"
    before = drawings.open_store(f"sqlite:///{hundred}").dataset()
    after = drawings.open_store(f"sqlite:///{empty}").dataset()
    assert np.array_equal(before.images, after.images)
    assert np.array_equal(before.labels, after.labels)
    assert run_cli("import", str(tmp_path / "out"), db=empty).stdout.count("(0 new)") == 1


def test_the_png_folder_imports_into_an_empty_database_as_the_same_digits(hundred, tmp_path):
    run_cli("export", str(tmp_path / "out"), db=hundred)
    pngs = sorted((tmp_path / "out" / "png").rglob("*.png"))
    assert len(pngs) == 100 and all(p.name[0] == p.parent.name for p in pngs)
    empty = tmp_path / "empty.sqlite"
    imported = run_cli("import", str(tmp_path / "out" / "png"), db=empty)
    assert imported.returncode == 0, imported.stderr
    before = drawings.open_store(f"sqlite:///{hundred}").dataset()
    after = drawings.open_store(f"sqlite:///{empty}").dataset()
    key = lambda d: sorted(zip(d.labels.tolist(), (i.tobytes() for i in d.images), strict=True))  # noqa: E731
    assert key(before) == key(after)


def test_a_label_that_does_not_match_a_file_saves_nothing(scans, small_model_info, tmp_path):
    db = tmp_path / "drawings.sqlite"
    good, other = scans[0][0], scans[1][0]
    two = tmp_path / "two.png"  # two digits side by side
    Image.fromarray(
        np.hstack([np.asarray(Image.open(good)), np.asarray(Image.open(other))])
    ).save(two)  # fmt: skip
    refused = run_cli("add", "--label", "0", "--model", str(small_model_info.path),
                      str(good), str(two), db=db)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and str(two) in refused.stderr
    assert "2 digits found in the drawing but 1 given" in refused.stderr
    assert run_cli("count", db=db).stdout.strip() == "0"
    both = run_cli("add", "--label", "01", "--model", str(small_model_info.path), str(two), db=db)
    assert both.returncode == 0, both.stderr
    assert run_cli("count", db=db).stdout.strip() == "2"


@pytest.mark.parametrize(
    ("label", "message"), [("x", "must be digits 0-9"), ("-", "must be digits 0-9")]
)
def test_a_label_that_is_not_digits_is_one_line(scans, tmp_path, label, message):
    db = tmp_path / "drawings.sqlite"
    refused = run_cli("add", f"--label={label}", str(scans[0][0]), db=db)
    assert refused.returncode == 1 and message in refused.stderr
    assert refused.stderr.count("\n") == 1 and not db.exists()


def test_an_unreadable_image_is_one_line_and_saves_nothing(scans, small_model_info, tmp_path):
    db = tmp_path / "drawings.sqlite"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    refused = run_cli("add", "--label", "0", "--model", str(small_model_info.path),
                      str(scans[0][0]), str(broken), db=db)  # fmt: skip
    assert refused.returncode == 1 and "broken.png" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert run_cli("count", db=db).stdout.strip() == "0"


def test_a_database_that_is_not_a_database_is_one_line(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    refused = run_cli("count", db=notes)
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"error: {notes}: cannot open the drawings database: " + (
        "file is not a database"
    )
    assert notes.read_text() == "not a database\n" * 100
