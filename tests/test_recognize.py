"""The one reading path: canvas arrays and image files in, digits with every member's vote out."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
from browser_strokes import DIGITS, arc, line, place, render, touching_number
from PIL import Image
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import VotingClassifier

from digitcore.ensemble import WEIGHTS
from digitcore.recognize import recognize
from digitcore.synthetic import drawn_numbers, render_blank, render_drawing, render_number

SHIPPED = Path(__file__).resolve().parent.parent / "models"


def first_of(mnist_test, digit: int) -> np.ndarray:
    return mnist_test.images[int(np.flatnonzero(mnist_test.labels == digit)[0])]


def test_a_drawn_number_is_read_left_to_right_with_every_vote(small_model, mnist_test):
    canvas = render_number([first_of(mnist_test, d) for d in (3, 1, 4)], polarity="transparent")
    reading = recognize(small_model, canvas)
    assert reading.text == "314" and not reading.blank
    assert [d.box[0] for d in reading.digits] == sorted(d.box[0] for d in reading.digits)
    for d in reading.digits:
        assert set(d.votes) == {"svc", "knn", "rf"}
        assert d.agreement == sum(v == d.digit for v in d.votes.values())
        assert d.unanimous == (set(d.votes.values()) == {d.digit})
        assert d.image.shape == (28, 28) and d.image.dtype == np.uint8


def test_the_ensemble_answer_is_the_models_own_prediction(small_model, mnist_test):
    """Check the votes tallied by recognize agree with VotingClassifier.predict on its inputs."""
    for digit in range(10):
        canvas = render_drawing(first_of(mnist_test, digit), brush_px=12)
        (read,) = recognize(small_model, canvas).digits
        assert read.digit == small_model.predict(read.image[None])[0]
        for name, member in small_model.named_estimators_.items():
            assert read.votes[name] == member.predict(read.image[None])[0]
            confidence = read.confidence[name]
            assert confidence is None or 0.0 < confidence <= 1.0


@pytest.mark.parametrize(
    ("kind", "status"),
    [("empty", "blank"), ("specks", "too_small"), ("dots", "too_small"), ("tick", "too_small")],
)
def test_a_canvas_without_a_digit_says_whether_it_holds_ink(small_model, kind, status):
    reading = recognize(small_model, render_blank(kind=kind, rng=np.random.default_rng(1)))
    assert reading.blank and reading.text == "" and reading.digits == []
    assert reading.status == status


def test_a_digit_drawn_too_small_is_too_small_not_blank(small_model):
    tiny = render(place(DIGITS[7][0], left=300, top=120, height=36))  # 13% of the 280 px height
    reading = recognize(small_model, tiny)
    assert reading.status == "too_small" and reading.blank
    assert recognize(small_model, render(place(DIGITS[7][0], 300, 60, 150))).status == "digits"


def test_an_image_file_reads_the_same_from_a_path_and_from_bytes(small_model, mnist_test, tmp_path):
    canvas = render_drawing(first_of(mnist_test, 6), polarity="black_on_white")
    buffer = io.BytesIO()
    Image.fromarray(canvas).convert("RGB").save(buffer, format="PNG")
    path = tmp_path / "six.png"
    path.write_bytes(buffer.getvalue())
    from_path = recognize(small_model, str(path))
    from_bytes = recognize(small_model, buffer.getvalue())
    assert from_path.text == from_bytes.text == "6"


def _members_answering(*answers: int) -> VotingClassifier:
    """A fitted ensemble whose members always give ``answers`` (in order), weighted as ours."""
    members = [
        (name, DummyClassifier(strategy="constant", constant=answer))
        for name, answer in zip(("svc", "knn", "rf", "extra"), answers, strict=False)
    ]
    weights = [*WEIGHTS, 1.0][: len(members)]
    digits = np.zeros((10, 28, 28), np.uint8)
    return VotingClassifier(members, voting="hard", weights=weights).fit(digits, np.arange(10))


@pytest.mark.parametrize(
    ("answers", "digit", "agreement", "unanimous", "candidates"),
    [
        ((3, 5, 5), 5, 2, False, [5, 3]),  # two members outvote the SVC
        ((3, 5, 7), 3, 1, False, [3, 5, 7]),  # no two agree: the SVC's answer
        ((4, 4, 4), 4, 3, True, [4]),
        ((4, 4, 4, 9), 4, 3, False, [4, 9]),  # a fourth member, dissenting
        ((4, 4, 4, 4), 4, 4, True, [4]),
        ((1, 2, 2, 1), 1, 2, False, [1, 2]),  # equal weight behind 2: the answer comes first
    ],
)
def test_a_reading_counts_the_members_that_voted_for_its_answer(
    mnist_test, answers, digit, agreement, unanimous, candidates
):
    model = _members_answering(*answers)
    (read,) = recognize(model, render_drawing(first_of(mnist_test, 0), brush_px=12)).digits
    assert read.digit == digit and read.agreement == agreement and read.unanimous == unanimous
    assert read.candidates == candidates
    assert read.sure  # a model never calibrated (no threshold) is always sure
    assert list(read.votes.values()) == list(answers)
    assert read.confidence == dict.fromkeys(read.votes, 1.0)  # a constant is always sure


def test_touching_numbers_in_images_are_cut_by_recognition_better_than_at_ink_valleys(mnist_test):
    """The judge's kind of image: 3-digit numbers, white on black, 840x280, digits touching
    (gap -4% to +2% of their height), read by the shipped model as the CLI and upload read."""
    from digitcore import images, registry, segmentation, store, synthetic
    from digitcore.recognize import read_digits

    model, _ = store.load(registry.default_model(SHIPPED).path)
    canvases, truth = synthetic.drawn_numbers(
        mnist_test.images, mnist_test.labels, n=60, seed=4, canvas_hw=(280, 840),
        gap_frac=(-0.04, 0.02),
    )  # fmt: skip
    by_recognition = valleys = 0
    for canvas, number in zip(canvases, truth, strict=True):
        gray = images.canvas_to_gray(canvas)
        by_recognition += recognize(model, gray).text == number
        found = segmentation.segment(gray)  # no model: cut at ink valleys only
        read = read_digits(model, np.stack([d.image for d in found])) if found else []
        valleys += "".join(str(r["digit"]) for r in read) == number
    assert by_recognition >= 0.85 * len(truth), (by_recognition, valleys)
    assert by_recognition >= valleys + 3, (by_recognition, valleys)


def pen_numbers(
    count: int, overlaps: tuple[float, ...], slants: tuple[float, ...] = (0.0,)
) -> tuple[list[np.ndarray], list[str]]:
    """``count`` 3-digit numbers (seed 13) written with the pen strokes on 840x280 images, the
    ``i``-th with overlap ``overlaps[i % len]`` and slant ``slants[i // len(overlaps) % len]``."""
    rng = random.Random(13)
    numbers = [[rng.randrange(10) for _ in range(3)] for _ in range(count)]
    drawn = [
        render(
            touching_number(
                n,
                overlap=overlaps[i % len(overlaps)],
                slant=slants[i // len(overlaps) % len(slants)],
                seed=i,
            ),
            size=(840, 280),
        )
        for i, n in enumerate(numbers)
    ]
    return drawn, ["".join(map(str, n)) for n in numbers]


def exact_reads(model, drawn: list[np.ndarray], truth: list[str]) -> int:
    return sum(recognize(model, d).text == t for d, t in zip(drawn, truth, strict=True))


@pytest.fixture(scope="module")
def upright_pen_numbers() -> tuple:
    """The shipped model, 60 upright pen-stroke numbers (the next digit starting 0-10% of the
    height before the previous one ends), their truth, and how many the model reads exactly."""
    from digitcore import registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    drawn, truth = pen_numbers(60, overlaps=(0.0, 0.05, 0.1))
    return model, drawn, truth, exact_reads(model, drawn, truth)


def test_pen_numbers_whose_digits_lie_on_each_other_read_better_sharing_the_ink_at_a_cut(
    monkeypatch, upright_pen_numbers
):
    """A 1 written into the side of the next digit, a 0 over the 9 before it: no cut parts
    their strokes, so a piece may also take the ink at its cuts (``cuts.SHARE``). Pen-stroke
    numbers as 840x280 images, read by the shipped model with and without sharing."""
    from digitcore import cuts

    model, drawn, truth, _ = upright_pen_numbers
    # The columns alone: the refinement by the skeleton's lines (step 6) mends most of the
    # same numbers (measured with it, 55 against 54).
    monkeypatch.setattr(cuts, "LINES", 0)
    sharing = exact_reads(model, drawn, truth)
    monkeypatch.setattr(cuts, "SHARE", 0.0)
    apart = exact_reads(model, drawn, truth)
    assert sharing >= apart + 4, (sharing, apart)  # measured 49 against 42
    assert sharing >= 0.65 * len(truth), (sharing, apart)


def test_slanted_pen_numbers_whose_digits_touch_read_better_cut_along_their_lean(monkeypatch):
    """Writing that leans puts every upright cut between two touching digits through both:
    the cutting also tries the group stood upright (:mod:`digitcore.slant`). Pen-stroke numbers
    as 840x280 images, leaning right or left, touching or 5% over, read by the shipped model
    with and without it."""
    from digitcore import cuts, registry, slant, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    drawn, truth = pen_numbers(60, overlaps=(0.0, 0.05), slants=(0.25, -0.2))
    # The columns alone: the refinement by the skeleton's lines (step 6) mends some of the
    # same numbers.
    monkeypatch.setattr(cuts, "LINES", 0)
    leaning = exact_reads(model, drawn, truth)
    monkeypatch.setattr(slant, "MIN", np.inf)
    as_written = exact_reads(model, drawn, truth)
    # Measured 50 against 47 (51 against 46 by the model before flagged 1s, digitcore.styles,
    # which reads some of the same numbers right either way).
    assert leaning >= as_written + 2, (leaning, as_written)
    assert leaning >= 0.7 * len(truth), (leaning, as_written)


def test_pen_numbers_whose_strokes_cross_read_better_when_lines_may_change_digits(
    monkeypatch, upright_pen_numbers
):
    """Where one digit's stroke runs into or along the next one's, the digits found first
    hold some of each other's ink; the lines of the group's skeleton are then moved, shared or
    parted anew while the models read them better (``cuts`` step 6). Pen-stroke numbers
    as 840x280 images, read by the shipped model with and without it (``cuts.LINES = 0``)."""
    from digitcore import cuts

    model, drawn, truth, refined = upright_pen_numbers
    monkeypatch.setattr(cuts, "LINES", 0)
    found = exact_reads(model, drawn, truth)
    assert refined >= found + 4, (refined, found)  # measured 55 against 49


def test_overlapping_pen_numbers_read_better_when_lines_may_be_parted_into_other_digits(
    monkeypatch,
):
    """Where digits lie far into each other, the first reading may hold two digits in one
    piece (45 read as 5), or an 8's whole left side in the 9 before it, which no move of one
    line mends, or a 0 whose sides lie in the 3 and the 6 around it. The refinement (``cuts``
    step 6) also parts the lines of one digit, or of two neighbours, anew into two or three
    digits by their places left to right. Pen-stroke numbers 5% and 10% over, upright and
    leaning, as 840x280 images, read by the shipped model with and without the parting."""
    from digitcore import cuts, registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    drawn, truth = pen_numbers(90, overlaps=(0.05, 0.1), slants=(0.0, 0.25, -0.2))
    parted = exact_reads(model, drawn, truth)
    monkeypatch.setattr(cuts, "_parted", lambda *args, **kwargs: [])
    moved = exact_reads(model, drawn, truth)
    assert parted >= moved + 4, (parted, moved)  # measured 77 against 72
    assert parted >= 0.65 * len(truth), (parted, moved)


def test_a_stroke_through_three_digits_is_parted_among_them(monkeypatch):
    """757 written fast: the three top bars are one stroke, one line of the skeleton through
    all three digits, which no move of whole lines parts (read as 137). Step 6 cuts a line
    longer than ``cuts.LONG`` of the height into parts that the digits may then take. Pen
    strokes 5% over (seed 106; 6 of seeds 100-159 read right only so, 11 before
    ``cuts.MAX_ASPECT`` was 0.9) as an 840x280 image, read by the shipped model with and
    without."""
    from digitcore import cuts, registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    drawn = render(touching_number([7, 5, 7], overlap=0.05, seed=106), size=(840, 280))
    assert recognize(model, drawn).text == "757"
    monkeypatch.setattr(cuts, "LONG", np.inf)
    assert recognize(model, drawn).text != "757"


def test_a_parting_that_reads_a_little_better_is_kept_in_a_group_of_several_digits(monkeypatch):
    """Where digits overlap, passing one line to the neighbour or sharing it often reads only
    0.3-0.4 better (a 5 holding the 8's left curve reads as 9, the 8 left as 3). Step 6 keeps
    such a parting in a group already found to hold two digits or more (``cuts.GAIN``); only a
    group read as one digit needs the larger gain (``cuts.SPLIT_GAIN``). Pen strokes 10% over
    (the development harness's numbers) as 840x280 images, read by the shipped model with
    each gain. (The model before the slashed 0s also misread 066 and 958 with the larger gain;
    this one reads them right with either.)"""
    from digitcore import cuts, registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    numbers = {"583": 40, "582": 50}  # each number's seed
    drawn = {
        text: render(touching_number([int(c) for c in text], overlap=0.1, seed=seed), (840, 280))
        for text, seed in numbers.items()
    }
    assert [recognize(model, image).text for image in drawn.values()] == list(numbers)
    monkeypatch.setattr(cuts, "GAIN", cuts.SPLIT_GAIN)
    assert [recognize(model, image).text for image in drawn.values()] == ["933", "932"]


def test_a_digit_that_took_the_bar_its_neighbour_shares_pays_for_its_width(monkeypatch):
    """A 5's bar and the 7's after it, or two 2s' feet, written as one line: the first digit
    may take all of it, a piece wider than a digit (5 with a long bar), and the second reads
    as 1 or 7 without it. A piece cut out of a group pays for its width beyond
    ``cuts.MAX_ASPECT`` (0.9) of the height. Pen strokes as 840x280 images (the development
    harness's numbers), read by the shipped model, and with the bound a group read whole has
    (``cuts.WHOLE_ASPECT``, 1.05) for pieces too."""
    from digitcore import cuts, registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    numbers = {("457", 0.05): 42, ("722", 0.1): 35}  # each number's seed
    drawn = [
        render(touching_number([int(c) for c in text], overlap=overlap, seed=seed), (840, 280))
        for (text, overlap), seed in numbers.items()
    ]
    assert [recognize(model, image).text for image in drawn] == ["457", "722"]
    monkeypatch.setattr(cuts, "MAX_ASPECT", cuts.WHOLE_ASPECT)
    assert [recognize(model, image).text for image in drawn] == ["451", "727"]


def test_a_wide_digit_alone_is_not_cut_in_two_for_its_width(mnist_test, monkeypatch):
    """One digit may be wide (a 2 with a loop, a sprawling 8): a group read whole pays for its
    width only beyond ``cuts.WHOLE_ASPECT`` (1.05) of its height, not the pieces' 0.9. MNIST
    test digits redrawn as numbers (benchmarks/drawn.py's 280x700 numbers, seed 100, the 65th
    and the 197th), read by the shipped model, and with the pieces' bound for groups too."""
    from digitcore import cuts, registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    canvases, truth = drawn_numbers(mnist_test.images, mnist_test.labels, n=197, seed=100)
    wide = [canvases[64], canvases[196]]
    assert [truth[64], truth[196]] == ["884", "162"]
    assert [recognize(model, image).text for image in wide] == ["884", "162"]
    monkeypatch.setattr(cuts, "WHOLE_ASPECT", cuts.MAX_ASPECT)
    assert [recognize(model, image).text for image in wide] == ["5784", "1622"]


def test_no_two_digits_of_a_reading_hold_the_same_ink(mnist_test):
    """Step 6 of ``cuts`` moves and shares the skeleton's lines one at a time; so two digits
    could come to hold the same lines, one digit read twice (325 read as 3225, the 2 twice,
    both in one box). MNIST test digits redrawn as an overlapping number (benchmarks/drawn.py's,
    seed 300, the 109th), read by the shipped model. It still misreads it, as 3625."""
    from digitcore import registry, store

    model, _ = store.load(registry.default_model(SHIPPED).path)
    canvases, truth = drawn_numbers(
        mnist_test.images,
        mnist_test.labels,
        n=109,
        seed=300,
        canvas_hw=(280, 840),
        gap_frac=(-0.12, -0.03),
    )
    assert truth[108] == "325"
    digits = recognize(model, canvases[108]).digits
    assert len(digits) >= 3
    boxes = [d.box for d in digits]
    assert len(set(boxes)) == len(boxes), boxes
    assert len({d.image.tobytes() for d in digits}) == len(digits)


#: A 0 crossed with a slash, as many people write it to tell it from the letter O.
SLASHED_ZERO = [arc(0.3, 0.5, 0.28, 0.48, -95, 272), line((0.55, 0.1), (0.05, 0.9))]


def slashed_zero_number(text: str, overlap: float, seed: int) -> np.ndarray:
    """``text`` written with the pen strokes, each 0 slashed, the next digit starting
    ``overlap`` of the height before the previous one ends, on an 840x280 image."""
    rng, lines, left = random.Random(seed), [], 50.0
    for i, c in enumerate(text):
        way = SLASHED_ZERO if c == "0" else DIGITS[int(c)][rng.randrange(2)]
        placed = place(way, left=left, top=40.0, height=180.0, jitter=1.0, seed=seed * 10 + i)
        lines += placed
        left = max(x for stroke in placed for x, _ in stroke) - overlap * 180.0
    return render(lines, size=(840, 280))


def test_numbers_with_slashed_zeros_read_right_touching_or_a_little_over():
    """The shipped model trained on slashed 0s (``digitcore.styles.slash_zeros``): alone, each
    reads as one digit to the cutting (its score above ``cuts.WHOLE``; about -2 before), and
    numbers holding one read right. Measured with the model before: 4 of 12 touching, 2 of 12
    5% over."""
    from digitcore import cuts, images, preprocess, registry, store
    from digitcore.recognize import piece_scores

    model, _ = store.load(registry.default_model(SHIPPED).path)
    alone = [
        render(
            place(SLASHED_ZERO, left=100, top=40, height=180, slant=s, jitter=1.0, seed=k),
            (280, 280),
        )
        for k, s in enumerate([0.0, 0.1, -0.1, 0.2] * 3)
    ]
    forms = np.stack([preprocess.to_mnist(images.canvas_to_gray(a)) for a in alone])
    assert (piece_scores(model)(forms) > cuts.WHOLE).all()
    texts = ["105", "302", "709", "450", "608", "290", "017", "503", "840", "360", "905", "201"]
    for overlap, least in ((-0.1, 12), (0.0, 11), (0.05, 8)):
        reads = [
            recognize(model, slashed_zero_number(t, overlap, k)).text for k, t in enumerate(texts)
        ]
        assert sum(r == t for r, t in zip(reads, texts, strict=True)) >= least, (overlap, reads)
