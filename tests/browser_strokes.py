"""Hand-made pen strokes for the ten digits, as a person draws them, for the app tests; and
what the canvas shows (:data:`INKED_PIXELS`) and sends (:func:`paths`) of them.

Each digit is a list of strokes; each stroke is a polyline of points in a box of height 1 and
width about 0.6 (x to the right, y down), drawn in the order a pen moves. :func:`place` turns a
digit into canvas pixels at a size, slant and position, with a little deterministic jitter, so
the same digit drawn twice is not the same drawing.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

Point = tuple[float, float]
Stroke = list[Point]


def arc(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 28
) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``end`` in degrees (0 = right, 90 = down)."""
    return [
        (
            cx + rx * math.cos(math.radians(start + (end - start) * i / n)),
            cy + ry * math.sin(math.radians(start + (end - start) * i / n)),
        )
        for i in range(n + 1)
    ]


def smooth(points: list[Point], per_segment: int = 8) -> Stroke:
    """A Catmull-Rom curve through ``points``: how a hand joins the places a pen passes."""
    padded = [points[0], *points, points[-1]]
    out: Stroke = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        for step in range(per_segment):
            t = step / per_segment
            out.append(
                tuple(
                    0.5
                    * (
                        2 * p1[k]
                        + (-p0[k] + p2[k]) * t
                        + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t * t
                        + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t**3
                    )
                    for k in (0, 1)
                )
            )
    out.append(points[-1])
    return out


def line(*points: Point, n: int = 10) -> Stroke:
    """Straight segments through ``points``, each cut into ``n`` steps."""
    out: Stroke = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return out


#: Two ways of writing each digit, as people commonly do.
# fmt: off
DIGITS: dict[int, list[list[Stroke]]] = {
    0: [
        [arc(0.3, 0.5, 0.28, 0.48, -95, 272)],
        [smooth([(0.35, 0.0), (0.08, 0.2), (0.05, 0.65), (0.3, 1.0), (0.55, 0.7), (0.52, 0.2),
                 (0.3, 0.0)])],
    ],
    1: [
        [line((0.3, 0.0), (0.28, 1.0))],
        [line((0.12, 0.18), (0.34, 0.0), (0.32, 1.0))],
    ],
    2: [
        [arc(0.3, 0.27, 0.27, 0.26, 195, 375) + line((0.56, 0.36), (0.03, 1.0), (0.62, 0.98))],
        [smooth([(0.05, 0.2), (0.3, 0.0), (0.55, 0.2), (0.45, 0.5), (0.05, 0.98)])
         + line((0.05, 0.98), (0.6, 0.96))],
    ],
    3: [
        [arc(0.28, 0.25, 0.26, 0.24, 200, 450) + arc(0.28, 0.74, 0.29, 0.26, 270, 510)],
        [smooth([(0.05, 0.08), (0.3, 0.0), (0.5, 0.15), (0.25, 0.45), (0.55, 0.65), (0.45, 0.92),
                 (0.2, 1.0), (0.02, 0.88)])],
    ],
    4: [
        [line((0.08, 0.0), (0.04, 0.6), (0.62, 0.6)), line((0.46, 0.05), (0.46, 1.0))],
        [line((0.42, 0.0), (0.0, 0.66), (0.62, 0.66)), line((0.44, 0.22), (0.44, 1.0))],
    ],
    5: [
        [line((0.1, 0.02), (0.07, 0.45)) + arc(0.3, 0.68, 0.28, 0.3, -125, 150),
         line((0.1, 0.02), (0.58, 0.02))],
        [line((0.58, 0.0), (0.12, 0.0), (0.08, 0.42))
         + smooth([(0.08, 0.42), (0.35, 0.38), (0.58, 0.6), (0.45, 0.92), (0.2, 1.0), (0.02, 0.9)])],
    ],
    6: [
        [smooth([(0.52, 0.0), (0.25, 0.2), (0.08, 0.55), (0.12, 0.86), (0.32, 1.0), (0.52, 0.86),
                 (0.52, 0.64), (0.3, 0.52), (0.1, 0.66)])],
        [smooth([(0.45, 0.0), (0.15, 0.35), (0.05, 0.75), (0.3, 1.0), (0.55, 0.78), (0.35, 0.55),
                 (0.08, 0.7)])],
    ],
    7: [
        [line((0.0, 0.0), (0.6, 0.0), (0.22, 1.0))],
        [line((0.02, 0.08), (0.04, 0.0), (0.6, 0.02), (0.3, 1.0))],
    ],
    8: [
        [smooth([(0.5, 0.1), (0.3, 0.0), (0.08, 0.15), (0.15, 0.38), (0.45, 0.6), (0.55, 0.82),
                 (0.3, 1.0), (0.05, 0.82), (0.15, 0.6), (0.45, 0.38), (0.52, 0.15), (0.3, 0.0)])],
        [arc(0.3, 0.24, 0.22, 0.24, 0, -360) + arc(0.3, 0.72, 0.28, 0.27, -90, 270)],
    ],
    9: [
        [arc(0.3, 0.25, 0.26, 0.24, 0, -360) + line((0.56, 0.25), (0.5, 1.0))],
        [arc(0.3, 0.27, 0.25, 0.25, 10, -350)
         + smooth([(0.55, 0.3), (0.52, 0.7), (0.4, 1.0)])],
    ],
}
# fmt: on


def place(
    strokes: list[Stroke],
    left: float,
    top: float,
    height: float,
    slant: float = 0.0,
    jitter: float = 0.0,
    seed: int = 0,
) -> list[list[tuple[float, float]]]:
    """A digit's strokes in canvas pixels.

    Parameters
    ----------
    strokes : list of Stroke
        One entry of :data:`DIGITS`.
    left, top : float
        Canvas position of the box's top-left corner, in pixels.
    height : float
        Height of the digit in pixels (its width is about 0.6 of it).
    slant : float
        Forward lean: x moves by ``slant * height`` from bottom to top.
    jitter : float
        Standard deviation of a slow wobble added to every point, in pixels.
    """
    rng = random.Random(seed)
    placed = []
    for stroke in strokes:
        dx = dy = 0.0
        points = []
        for x, y in stroke:
            dx = 0.8 * dx + rng.gauss(0, jitter)
            dy = 0.8 * dy + rng.gauss(0, jitter)
            points.append((left + (x + slant * (1 - y)) * height + dx, top + y * height + dy))
        placed.append(points)
    return placed


def sample_digits(count: int = 20) -> list[tuple[int, list[list[tuple[float, float]]]]]:
    """``count`` digits to draw one at a time on a canvas of height >= 240: both ways of writing
    each digit, at varied sizes, slants and places."""
    out = []
    for i in range(count):
        digit, way = i % 10, (i // 10) % 2
        height = (150, 190, 120, 170)[i % 4]
        out.append(
            (
                digit,
                place(
                    DIGITS[digit][way],
                    left=120 + 37 * (i % 7),
                    top=30 + (200 - height) * ((i % 3) / 2),
                    height=height,
                    slant=(0.0, 0.12, -0.05)[i % 3],
                    jitter=1.2,
                    seed=i,
                ),
            )
        )
    return out


def touching_number(
    digits: list[int],
    *,
    overlap: float = 0.12,
    height: float = 180.0,
    seed: int = 0,
    slant: float = 0.0,
    uneven: float = 0.0,
) -> list[list[tuple[float, float]]]:
    """A number written fast: each digit starts ``overlap`` of the height left of where the
    previous one ends, so neighbours touch or overlap (on a canvas of height >= 240). With a
    ``slant``, every digit leans by it (as :func:`place`; negative: to the left) and "ends" is
    measured along the lean, so slanted neighbours touch as upright ones do. With ``uneven``,
    as a writer's digits vary: each digit's height is off by up to that fraction of ``height``,
    its middle moves up or down by up to 2/3 of it and each overlap by up to 1/4 of it (drawn
    with ``seed``; 0 draws nothing, so the numbers are as before)."""
    top = 40.0
    rng = random.Random(seed)
    lines, left = [], 50.0 + max(0.0, -slant) * height
    for i, d in enumerate(digits):
        way = DIGITS[d][(seed + i) % 2]
        tall, at, more = height, top, 0.0
        if uneven:
            tall = height * rng.uniform(1 - uneven, 1 + uneven)
            at = top + (height - tall) / 2 + rng.uniform(-2, 2) / 3 * uneven * height
            more = rng.uniform(-1, 1) / 4 * uneven * height
        placed = place(
            way, left=left, top=at, height=tall, slant=slant, jitter=1.0, seed=seed * 10 + i
        )
        lines += placed
        # Where the digit ends, with its lean taken off (x as it was before place leaned it).
        end = max(x - slant * (at + tall - y) for s in placed for x, y in s)
        left = end - overlap * height + more
    return lines


#: Separators people write between a phone number's groups (555-123-4567, 555.123.4567), in a
#: digit's box of height 1 as :data:`DIGITS`: a dash at mid-height, a dot (a click) at the foot.
SEPARATORS: dict[str, list[Stroke]] = {
    "-": [line((0.0, 0.55), (0.4, 0.55))],
    ".": [[(0.05, 0.95), (0.06, 0.95)]],
    # Parentheses round the first group, each a shallow arc a little taller than the digits.
    "(": [arc(0.4, 0.5, 0.32, 0.55, 130, 230)],
    ")": [arc(0.0, 0.5, 0.32, 0.55, 50, -50)],
}


def phone_number(
    digits: list[int],
    separator: str = "-",
    *,
    height: float = 80.0,
    overlap: float = 0.0,
    gap: float = 0.2,
    seed: int = 0,
    parentheses: bool = False,
) -> list[list[tuple[float, float]]]:
    """A phone number written in groups (of 3 and the rest, 555-1234, up to 7 digits; of 3, 3
    and the rest, 555-123-4567, beyond), with ``separator`` (a key of :data:`SEPARATORS`)
    written alone between them, ``gap`` of the height from each; the digits of a group touch or
    overlap as :func:`touching_number` writes them. With ``parentheses``, the first group is
    written in them instead of followed by the separator: (555) 123-4567."""
    cuts = (3,) if len(digits) <= 7 else (3, 6)
    groups = [digits[a:b] for a, b in itertools.pairwise((0, *cuts, len(digits)))]
    lines: list[list[tuple[float, float]]] = []
    left = 30.0

    def write(mark: str, k: int) -> None:
        nonlocal left, lines
        tall = height * (1.15 if mark in "()" else 1.0)
        top = 40.0 - (tall - height) / 2
        drawn = place(
            SEPARATORS[mark], left + gap * height, top, tall, jitter=0.8, seed=seed * 10 + k
        )
        lines += drawn
        left = max(x for stroke in drawn for x, _ in stroke) + gap * height

    if parentheses:
        write("(", 0)
    for k, group in enumerate(g for g in groups if g):
        if k:
            write(")" if parentheses and k == 1 else separator, k)
        written = touching_number(group, overlap=overlap, height=height, seed=seed + k)
        shift = left - min(x for stroke in written for x, _ in stroke)
        written = [[(x + shift, y) for x, y in stroke] for stroke in written]
        lines += written
        left = max(x for stroke in written for x, _ in stroke)
    return lines


def plus_phone_number(
    digits: list[int], *, size: float, height: float = 80.0, seed: int = 0, **phone: float
) -> list[list[tuple[float, float]]]:
    """A plus sign ``size`` of the digits' height, at their middle, then :func:`phone_number`
    (with the ``phone`` arguments) a quarter of the height after it: + 555-1234."""
    plus = [
        line((0.0, 0.5), (size, 0.5)),
        line((size / 2, 0.5 - size / 2), (size / 2 + 0.01, 0.5 + size / 2)),
    ]
    lines = place(plus, left=20.0, top=40.0, height=height, jitter=0.8, seed=seed)
    written = phone_number(digits, "-", height=height, seed=seed, **phone)  # starts at x 30
    shift = (size + 0.25) * height - 10.0
    return lines + [[(x + shift, y) for x, y in stroke] for stroke in written]


def sample_numbers(count: int = 12) -> list[tuple[str, list[list[tuple[float, float]]]]]:
    """``count`` 3-digit numbers with touching or overlapping digits, seeded."""
    rng = random.Random(11)
    out = []
    for i in range(count):
        digits = [rng.randrange(10) for _ in range(3)]
        lines = touching_number(digits, overlap=(0.05, 0.1, 0.15)[i % 3], seed=i)
        out.append(("".join(map(str, digits)), lines))
    return out


def render(
    strokes: list[list[tuple[float, float]]],
    size: tuple[int, int] = (680, 280),
    width: int = 18,
    ink: tuple[int, ...] = (255, 255, 255, 255),
    paper: tuple[int, ...] = (0, 0, 0, 255),
) -> NDArray[np.uint8]:
    """Strokes painted with a round brush, as the canvas paints them: an RGBA array (H, W, 4)."""
    image = Image.new("RGBA", size, paper)
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        pen.line(stroke, fill=ink, width=width, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=ink)
    return np.asarray(image)


def canvas_json(strokes: list[list[tuple[float, float]]]) -> dict:
    """Strokes as the canvas's ``json_data``: one fabric.js path per stroke (an M, then Ls)."""
    return {
        "objects": [
            {"type": "path", "path": [["M", *s[0]], *(["L", *p] for p in s[1:])]} for s in strokes
        ]
    }


#: The kinds of scribble :func:`scribbles` draws, in the order it cycles through them.
SCRIBBLE_KINDS = ("zigzag", "line", "spiral", "cross", "first stroke of a 4", "star")


def scribbles(count: int = 300, seed: int = 0) -> list[tuple[str, list[list[tuple[float, float]]]]]:
    """``count`` drawings that are not digits, for a canvas of 680x280, cycling through
    :data:`SCRIBBLE_KINDS`: random zigzags, straight lines at an angle, spirals, crosses and
    hashes, the first stroke of a 4 (as "Read as I draw" sees it) and stars."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = SCRIBBLE_KINDS[i % len(SCRIBBLE_KINDS)]
        cx, cy, h = 340 + rng.uniform(-200, 200), 140, rng.uniform(120, 220)
        r = h / 2
        if kind == "zigzag":
            points = [
                (cx + rng.uniform(-r, r), cy + rng.uniform(-r, r))
                for _ in range(rng.randint(5, 12))
            ]
            strokes = [smooth(points)]
        elif kind == "line":
            a, half = rng.uniform(-0.5, 0.5), r * rng.uniform(0.6, 1.2)
            strokes = [
                line(
                    (cx - half * math.cos(a), cy - half * math.sin(a)),
                    (cx + half * math.cos(a), cy + half * math.sin(a)),
                )
            ]
        elif kind == "spiral":
            strokes = [
                [
                    (cx + r * t / 60 * math.cos(t / 6), cy + r * t / 60 * math.sin(t / 6))
                    for t in range(60)
                ]
            ]
        elif kind == "cross":
            strokes = [
                line((cx - r, cy - r), (cx + r, cy + r)),
                line((cx + r, cy - r), (cx - r, cy + r)),
            ]
            if rng.random() < 0.5:  # a hash instead
                a, b = r / 3, r
                strokes = [
                    line((cx - b, cy - a), (cx + b, cy - a)),
                    line((cx - b, cy + a), (cx + b, cy + a)),
                    line((cx - a, cy - b), (cx - a, cy + b)),
                    line((cx + a, cy - b), (cx + a, cy + b)),
                ]
        elif kind == "first stroke of a 4":
            strokes = [
                line((cx, cy - r), (cx - 0.7 * r, cy + 0.3 * r), (cx + 0.5 * r, cy + 0.3 * r))
            ]
        else:
            k = rng.randint(5, 9)
            strokes = [
                [
                    (
                        cx + r * (1 if j % 2 == 0 else 0.4) * math.cos(math.pi * j / k),
                        cy + r * (1 if j % 2 == 0 else 0.4) * math.sin(math.pi * j / k),
                    )
                    for j in range(2 * k + 1)
                ]
            ]
        out.append((kind, strokes))
    return out


def paths(message: str | bytes) -> int:
    """How many strokes the canvas's drawing (fabric.js JSON, a path each) in one of the page's
    websocket messages holds (every message carries every widget's state)."""
    return (message if isinstance(message, bytes) else message.encode()).count(b'"path"')


# Inked pixels on the canvas's drawing layers (``canvas.dc-canvas``, for Playwright's
# ``evaluate_all``): far from the paper's colour (its top-left pixel), so light ink on a dark
# canvas and dark ink on a light one both count.
INKED_PIXELS = """canvases => canvases.reduce((n, c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 3] - d[3]) > 128) n++;
  return n; }, 0)"""
