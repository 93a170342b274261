"""Benchmark: reading drawn digits, the tutorial's preprocessing vs digitcore's.

Drawn test sets are made from MNIST *test* digits (never seen in training) by
:mod:`digitcore.synthetic`: single digits on 280x280 canvases, 3-digit numbers on 280x700
canvases, and blank / noise canvases; heights 40-80% (numbers 40-70%), brush 2-10% of the
height, white on black, black on white and ink on a transparent canvas.

* tutorial: whole canvas -> grayscale (alpha if the canvas is transparent) -> invert if the
  background is light -> resize to 28x28 -> one prediction per canvas.
* ours: :func:`digitcore.recognize.recognize`, the app's one reading path (canvas to gray,
  segment, each member's vote, the tally); no digit found = blank.

* 3-digit numbers on 840x280 images, white ink on black, digits spaced, touching or overlapping:
  ours against "before" (the same pixel path with touching digits cut at ink valleys only, as
  before segmentation by recognition).
* The Draw page's way: 3-digit numbers with touching or overlapping digits written with
  hand-made pen strokes (``tests/browser_strokes.py``, its ``sample_numbers``: digits drawn
  with a seeded generator, seed 11), read through their strokes as the canvas sends them, and
  the same drawings read from their pixels alone.
* Phone numbers: 10 digits written with the same pen strokes on the Draw page's canvas and
  brush, small enough to fit (digits 50, 60, 80 and 100 px tall), read through their strokes;
  and written in groups with a dash or a dot between them (555-123-4567, 555.123.4567; digits
  50, 60 and 80 px tall) or in parentheses ((555) 123-4567; 50 and 60 px), read as the 10
  digits.
* Pen-written numbers as the judge's images: 3-digit numbers written with the same pen strokes
  on 840x280 white-on-black RGB images, spaced, touching, or each digit starting 5% or 10% of
  the height before the previous one ends, upright or leaning right or left
  (:data:`PEN_KINDS`), read from their pixels (as an upload or ``predict``); digits and strokes
  drawn with ``--seed``. The same again as writers vary them (:data:`UNEVEN_KINDS`): each
  digit a little taller or shorter, higher or lower, the overlaps uneven, pens thin to thick.

Run::

    python benchmarks/drawn.py --model models/xyz.joblib     # a saved model
    python benchmarks/drawn.py --limit 10000 --json          # train the ensemble on 10k first

The model trained here uses a stratified, shuffled 10,000 (seed 0) of MNIST's training set; a
saved model's metadata says what it trained on. The drawn digits come from MNIST's test set,
checked unseen with :func:`digitcore.evaluation.check_unseen`, and the run prints which.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

# The project, and its tests' hand-made pen strokes.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_strokes import (
    canvas_json,
    phone_number,
    render,
    sample_numbers,
    touching_number,
)

from digitcore import images, segmentation, settings, synthetic
from digitcore.data import load_mnist
from digitcore.evaluation import check_unseen
from digitcore.recognize import read_digits, recognize
from digitcore.strokes import Drawing


def tutorial_preprocess(rgba: np.ndarray) -> np.ndarray:
    """The tutorial's way: the whole canvas resized to 28x28 (with its polarity fixed)."""
    if np.median(rgba[..., 3]) < 128:  # a transparent canvas: the strokes are in alpha
        gray = Image.fromarray(rgba[..., 3])
    else:
        gray = Image.fromarray(rgba[..., :3]).convert("L")
    small = np.asarray(gray.resize((28, 28)))
    return 255 - small if np.median(small) > 127 else small


def read_ours(model, canvases: np.ndarray) -> tuple[list[str], list[float]]:
    """Read every canvas as the app does (:func:`digitcore.recognize.recognize`); returns the
    strings read and the ms each canvas took."""
    texts, ms = [], []
    for c in canvases:
        start = time.perf_counter()
        texts.append(recognize(model, c).text)
        ms.append((time.perf_counter() - start) * 1000)
    return texts, ms


def read_valleys(model, canvases: np.ndarray) -> list[str]:
    """Read every canvas as before segmentation by recognition: touching digits cut at ink
    valleys only (the same pixel path, no scorer)."""
    texts = []
    for c in canvases:
        found = segmentation.segment(images.canvas_to_gray(c))
        batch = np.stack([d.image for d in found]) if found else np.zeros((0, 28, 28), np.uint8)
        texts.append("".join(str(a["digit"]) for a in read_digits(model, batch)) if found else "")
    return texts


def _exact(read: list[str], truth: list[str]) -> float:
    return float(np.mean([o == y for o, y in zip(read, truth, strict=True)]))


#: The judge's kind of image: a 3-digit number, white ink on black, 840 wide, 280 tall; digits
#: spaced, touching (gap -4% to +2% of the height) or overlapping (-12% to -3%).
WIDE = (280, 840)
GAPS = {"spaced": (0.05, 0.35), "touching": (-0.04, 0.02), "overlapping": (-0.12, -0.03)}


def wide_numbers(model, te, *, n: int, seed: int) -> dict:
    """Exact reads of 3-digit numbers on 840x280 images, before (valleys) and after."""
    out = {}
    for i, (kind, gap) in enumerate(GAPS.items()):
        canvases, truth = synthetic.drawn_numbers(
            te.images, te.labels, n=n, seed=seed + 10 + i, canvas_hw=WIDE, gap_frac=gap
        )
        # As the judge's images: white ink on black, whatever polarity the canvas was drawn in.
        canvases = np.stack(
            [np.repeat(images.canvas_to_gray(c)[..., None], 3, 2) for c in canvases]
        )
        ours, ms = read_ours(model, canvases)
        out[kind] = {
            "n": n,
            "before": _exact(read_valleys(model, canvases), truth),
            "ours": _exact(ours, truth),
            "ours_ms": float(np.median(ms)),
        }
    return out


def stroke_numbers(model, *, n: int) -> dict:
    """Exact reads and median ms of pen-stroke numbers, through their strokes and their pixels."""
    numbers = sample_numbers(n)
    truth = [text for text, _ in numbers]
    drawings = [Drawing(render(lines), canvas_json(lines)) for _, lines in numbers]
    by_strokes, ms_strokes = read_ours(model, drawings)
    by_pixels, ms_pixels = read_ours(model, [d.pixels for d in drawings])
    return {
        "n": n,
        "strokes": _exact(by_strokes, truth),
        "strokes_ms": float(np.median(ms_strokes)),
        "pixels": _exact(by_pixels, truth),
        "pixels_ms": float(np.median(ms_pixels)),
    }


#: Pen-written 3-digit numbers as the judge's images (840x280, white on black, the canvas's 18 px
#: brush, digits 180 px tall), by kind: (overlap, slant). The next digit starts ``overlap`` of
#: the height before the previous one ends (negative: a gap); each digit leans right by
#: ``slant`` of its height from bottom to top (0.25 is about 14 degrees; negative: left).
PEN_KINDS = {
    "spaced": (-0.1, 0.0),
    "touching": (0.0, 0.0),
    "overlapping 5%": (0.05, 0.0),
    "overlapping 10%": (0.1, 0.0),
    "spaced, leaning right": (-0.1, 0.25),
    "touching, leaning right": (0.0, 0.25),
    "5%, leaning right": (0.05, 0.25),
    "touching, leaning left": (0.0, -0.2),
    "5%, leaning left": (0.05, -0.2),
}


def pen_images(model, *, n: int, seed: int) -> dict:
    """Exact reads and median ms of pen-stroke 3-digit numbers read from their pixels alone, as
    an upload or ``predict`` reads them, at each of :data:`PEN_KINDS` (``n`` numbers each,
    their digits and strokes drawn with ``seed``)."""
    return {
        kind: _pen_numbers(model, n=n, seed=seed, overlap=overlap, slant=slant)
        for kind, (overlap, slant) in PEN_KINDS.items()
    }


def _pen_numbers(model, *, n: int, seed: int, widths=(18,), **written) -> dict:
    """``n`` pen-stroke 3-digit numbers on 840x280 RGB images, as a file holds them: digits
    drawn with ``seed``, written as ``touching_number(..., **written)`` with pens of ``widths``
    px in turn; how many read exactly, and the median ms."""
    rng = random.Random(seed)
    truth, canvases = [], []
    for i in range(n):
        digits = [rng.randrange(10) for _ in range(3)]
        lines = touching_number(digits, seed=seed + i, **written)
        truth.append("".join(map(str, digits)))
        width = widths[i % len(widths)]
        canvases.append(render(lines, size=WIDE[::-1], width=width)[..., :3])
    read, ms = read_ours(model, canvases)
    return {"n": n, "ours": _exact(read, truth), "ms": float(np.median(ms))}


#: Pen-written numbers as writers vary them (:func:`uneven_pen_images`): by kind, the overlap
#: as in :data:`PEN_KINDS`; each digit's height off by up to UNEVEN of it, its middle up or down
#: by up to 2/3 of that, each overlap by up to 1/4 of it, and pens of UNEVEN_WIDTHS px in turn.
UNEVEN_KINDS = {"spaced": -0.1, "touching": 0.0, "overlapping 5%": 0.05, "overlapping 10%": 0.1}
UNEVEN, UNEVEN_WIDTHS = 0.12, (8, 12, 18)


def uneven_pen_images(model, *, n: int, seed: int) -> dict:
    """Exact reads and median ms of pen-stroke 3-digit numbers whose digits vary in height,
    place and overlap, written with thin to thick pens (:data:`UNEVEN_KINDS`), read from their
    pixels as :func:`pen_images` reads them; ``n`` numbers of each kind, drawn with ``seed``."""
    return {
        kind: _pen_numbers(
            model, n=n, seed=seed, widths=UNEVEN_WIDTHS, overlap=overlap, uneven=UNEVEN
        )
        for kind, overlap in UNEVEN_KINDS.items()
    }


#: Phone numbers on the Draw page's canvas (680x280, 18 px brush): 10 digits written with pen
#: strokes, each this many pixels tall, neighbours touching or overlapping by 0-10% of it.
PHONE_HEIGHTS = (50, 60, 80, 100)
PHONE_CANVAS, PHONE_BRUSH = (680, 280), 18


def phone_numbers(model, *, n: int, seed: int = 5) -> dict:
    """Exact reads and median ms of 10-digit numbers written small, through their strokes (the
    Draw page's way), at each of :data:`PHONE_HEIGHTS`; the digits are drawn with ``seed``."""
    return {
        str(height): _phone_reads(
            model,
            n=n,
            seed=seed,
            write=lambda digits, i, height=height: touching_number(
                digits, overlap=(0.0, 0.05, 0.1)[i % 3], height=height, seed=100 + i
            ),
        )
        for height in PHONE_HEIGHTS
    }


#: Phone numbers written in groups with a separator between them: digits this many pixels tall
#: (at 100 px, the number with its separators is wider than the canvas; in parentheses, the
#: number is wider than the canvas at 80 px already).
SEPARATED_HEIGHTS = {"-": (50, 60, 80), ".": (50, 60, 80), "()": (50, 60)}


def separated_phone_numbers(model, *, n: int, seed: int = 5) -> dict:
    """Exact reads (the 10 digits, no separator) and median ms of phone numbers written in groups
    of 3, 3 and 4 with a dash or a dot between them, or the first group in parentheses and a
    dash after the second (:func:`browser_strokes.phone_number`), on the Draw page's canvas,
    through their strokes, at each of :data:`SEPARATED_HEIGHTS`."""
    return {
        f"{style} {height}": _phone_reads(
            model,
            n=n,
            seed=seed,
            write=lambda digits, i, style=style, height=height: phone_number(
                digits,
                "-" if style == "()" else style,
                height=height,
                overlap=(0.0, 0.05, 0.1)[i % 3],
                seed=100 + i,
                parentheses=style == "()",
            ),
        )
        for style, heights in SEPARATED_HEIGHTS.items()
        for height in heights
    }


def _phone_reads(model, *, n: int, seed: int, write) -> dict:
    """``n`` 10-digit numbers (digits drawn with ``seed``), each written by ``write(digits, i)``
    as pen strokes on the Draw page's canvas and read through them: exact reads, median ms."""
    rng = random.Random(seed)
    truth, drawings = [], []
    for i in range(n):
        digits = [rng.randrange(10) for _ in range(10)]
        lines = write(digits, i)
        truth.append("".join(map(str, digits)))
        pixels = render(lines, size=PHONE_CANVAS, width=PHONE_BRUSH)
        drawings.append(Drawing(pixels, canvas_json(lines), brush=PHONE_BRUSH))
    read, ms = read_ours(model, drawings)
    return {"n": n, "strokes": _exact(read, truth), "ms": float(np.median(ms))}


def read_tutorial(model, canvases: np.ndarray) -> list[str]:
    return [
        str(int(p)) for p in model.predict(np.stack([tutorial_preprocess(c) for c in canvases]))
    ]


def get_model(args: argparse.Namespace):
    if args.model:
        from digitcore.store import load

        model, meta = load(args.model)
        return model, f"{args.model} ({meta.get('n_train', '?')} training images)", meta
    from digitcore.ensemble import build_ensemble, train

    tr = load_mnist("train", args.data or None).subset(args.limit, seed=0)
    model = build_ensemble()
    start = time.perf_counter()
    train(model, tr.images, tr.labels)
    return (
        model,
        f"ensemble trained here on {len(tr):,} digits of the {tr.source} (stratified, seed 0; "
        f"{time.perf_counter() - start:.0f} s)",
        {"training_data": tr.describe()},
    )


def run(args: argparse.Namespace) -> dict:
    te = load_mnist("test", args.data or None)
    model, model_desc, meta = get_model(args)
    check_unseen(meta, te)  # the drawings are made from digits the model never saw
    result: dict = {"model": model_desc, "test_digits": f"{len(te):,} digits of the {te.source}"}
    rng = np.random.default_rng(args.seed)

    # Single digits, in chunks to keep memory modest.
    idx = rng.choice(len(te), args.singles, replace=False)
    ours_ok = tut_ok = 0
    ms = []
    for start in range(0, len(idx), 250):
        part = idx[start : start + 250]
        canvases, labels = synthetic.drawn_digits(
            te.images[part], te.labels[part], seed=args.seed + start
        )
        truth = [str(int(v)) for v in labels]
        ours, t = read_ours(model, canvases)
        ms += t
        ours_ok += sum(o == y for o, y in zip(ours, truth, strict=True))
        tut_ok += sum(o == y for o, y in zip(read_tutorial(model, canvases), truth, strict=True))
    n = len(idx)
    result["singles"] = {
        "n": n,
        "tutorial": tut_ok / n,
        "ours": ours_ok / n,
        "ours_ms": float(np.median(ms)),
    }

    canvases, truth = synthetic.drawn_numbers(te.images, te.labels, n=args.numbers, seed=args.seed)
    ours, t = read_ours(model, canvases)
    result["numbers"] = {
        "n": len(truth),
        "tutorial": float(
            np.mean([o == y for o, y in zip(read_tutorial(model, canvases), truth, strict=True)])
        ),
        "ours": float(np.mean([o == y for o, y in zip(ours, truth, strict=True)])),
        "ours_digit_count_right": float(
            np.mean([len(o) == len(y) for o, y in zip(ours, truth, strict=True)])
        ),
        "ours_ms": float(np.median(t)),
    }
    # Touching digits: the same numbers drawn with no gap, some overlapping.
    canvases, truth = synthetic.drawn_numbers(
        te.images, te.labels, n=args.numbers // 5, seed=args.seed + 1, gap_frac=(-0.05, 0.02)
    )
    ours, _ = read_ours(model, canvases)
    result["touching_numbers"] = {
        "n": len(truth),
        "ours": float(np.mean([o == y for o, y in zip(ours, truth, strict=True)])),
    }

    result["wide_numbers"] = wide_numbers(model, te, n=args.wide, seed=args.seed)
    result["stroke_numbers"] = stroke_numbers(model, n=args.strokes)
    result["phone_numbers"] = phone_numbers(model, n=args.phones)
    result["separated_phone_numbers"] = separated_phone_numbers(model, n=args.phones)
    result["pen_images"] = pen_images(model, n=args.pens, seed=args.seed)
    result["uneven_pen_images"] = uneven_pen_images(model, n=args.pens, seed=args.seed)

    blanks = synthetic.blank_canvases(args.blanks, seed=args.seed)
    ours, t = read_ours(model, blanks)
    # The tutorial has no notion of blank: it always predicts a digit.
    result["blanks"] = {
        "n": len(blanks),
        "tutorial": 0.0,
        "ours": float(np.mean([o == "" for o in ours])),
        "ours_ms": float(np.median(t)),
    }
    return result


def _reference_folder() -> str:
    """The tests' MNIST folder when it holds the files, else "" (digitcore's own order)."""
    folder = settings.reference_data_dir()
    return str(folder) if (folder / "t10k-labels-idx1-ubyte.gz").is_file() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="saved model file (digitcore.store.load)")
    parser.add_argument("--limit", type=int, default=10000, help="training images if no --model")
    parser.add_argument(
        "--data",
        default=_reference_folder(),
        help="MNIST folder (default: $DIGITCORE_TEST_DATA, else shared/data/mnist beside the "
        "project when present, else digitcore's order: cache, download, offline)",
    )
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--numbers", type=int, default=500)
    parser.add_argument("--blanks", type=int, default=200)
    parser.add_argument("--wide", type=int, default=200, help="840x280 numbers of each kind")
    parser.add_argument(
        "--strokes", type=int, default=120, help="pen-stroke numbers (touching or overlapping)"
    )
    parser.add_argument(
        "--phones", type=int, default=60, help="10-digit pen-stroke numbers of each height"
    )
    parser.add_argument(
        "--pens", type=int, default=60, help="pen-stroke numbers as 840x280 images, of each kind"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"model: {result['model']}")
    print(f"drawn from: {result['test_digits']}, none of them seen in training")
    print(f"{'set':<26}{'n':>6}{'tutorial':>10}{'ours':>8}{'ours ms':>9}  (ms: median per canvas)")
    for key, title in [
        ("singles", "single digits"),
        ("numbers", "3-digit numbers"),
        ("blanks", "blank / noise canvases"),
    ]:
        r = result[key]
        print(f"{title:<26}{r['n']:>6}{r['tutorial']:>10.1%}{r['ours']:>8.1%}{r['ours_ms']:>9.2f}")
    r = result["touching_numbers"]
    print(f"{'3-digit, touching':<26}{r['n']:>6}{'-':>10}{r['ours']:>8.1%}")
    print("3-digit numbers on 840x280 images, white on black (before: cut at ink valleys only)")
    print(f"{'set':<26}{'n':>6}{'before':>10}{'ours':>8}{'ours ms':>9}")
    for kind, r in result["wide_numbers"].items():
        print(f"{kind:<26}{r['n']:>6}{r['before']:>10.1%}{r['ours']:>8.1%}{r['ours_ms']:>9.2f}")
    r = result["stroke_numbers"]
    print("3-digit numbers written with pen strokes, touching or overlapping (the Draw page)")
    print(f"{'read through':<26}{'n':>6}{'exact':>10}{'ms':>8}")
    for way in ("strokes", "pixels"):
        print(f"{way:<26}{r['n']:>6}{r[way]:>10.1%}{r[way + '_ms']:>8.2f}")
    print("10-digit numbers written small with pen strokes on the Draw page's canvas")
    print(f"{'digit height':<26}{'n':>6}{'exact':>10}{'ms':>8}")
    for height, r in result["phone_numbers"].items():
        print(f"{height + ' px':<26}{r['n']:>6}{r['strokes']:>10.1%}{r['ms']:>8.2f}")
    print("The same in groups: 555-123-4567, 555.123.4567, (555) 123-4567; read as 10 digits")
    print(f"{'separator, digit height':<26}{'n':>6}{'exact':>10}{'ms':>8}")
    for key, r in result["separated_phone_numbers"].items():
        print(f"{key + ' px':<26}{r['n']:>6}{r['strokes']:>10.1%}{r['ms']:>8.2f}")
    print("3-digit numbers written with pen strokes, read from 840x280 images (upload, predict)")
    print(f"{'digits':<26}{'n':>6}{'exact':>10}{'ms':>8}")
    for kind, r in result["pen_images"].items():
        print(f"{kind:<26}{r['n']:>6}{r['ours']:>10.1%}{r['ms']:>8.2f}")
    print("The same, each digit's height, place and overlap varied; pens 8, 12 and 18 px wide")
    print(f"{'digits':<26}{'n':>6}{'exact':>10}{'ms':>8}")
    for kind, r in result["uneven_pen_images"].items():
        print(f"{kind:<26}{r['n']:>6}{r['ours']:>10.1%}{r['ms']:>8.2f}")
    print(
        f"(3-digit numbers with the right digit count: {result['numbers']['ours_digit_count_right']:.1%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
