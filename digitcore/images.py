"""Input images to one grayscale ink map: ``uint8`` 2-D, ink high on background 0.

Two entry points:

* :func:`canvas_to_gray` for arrays from a drawing canvas (streamlit-drawable-canvas hands back
  ``(H, W, 4)`` RGBA): strokes of any colour on a transparent, black or white background.
* :func:`read_image` for uploaded files (PNG, JPEG, GIF, WebP, ...): EXIF orientation honoured,
  any mode, dark-on-light or light-on-dark detected from the border, uneven lighting and paper
  noise removed, huge images downscaled first.

Both measure ink as the distance of each pixel's colour from the background colour, so a red
pen on white paper, a blue stroke on black and white chalk on a blackboard all come out the same.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from digitcore.errors import ImageError

#: Refuse files bigger than this many bytes.
MAX_BYTES = 20 * 1024 * 1024
#: Refuse images with more pixels than this (decompression bombs), before decoding them.
MAX_PIXELS = 60_000_000
#: Images are downscaled so that their longer side is at most this before any work.
WORK_SIDE = 1024
#: Ink weaker than this (0-255 colour distance) is never ink: paper grain, JPEG ringing.
MIN_CONTRAST = 40


def canvas_to_gray(rgba: NDArray) -> NDArray[np.uint8]:
    """Turn a canvas array into an ink map.

    Parameters
    ----------
    rgba : ndarray of shape (H, W, 4), (H, W, 3) or (H, W)
        uint8 (or float in 0-1). With a mostly transparent alpha channel the ink is the alpha
        (strokes of any colour on a transparent canvas); otherwise the ink is how far each
        pixel's colour is from the background colour (the median colour of the border).

    Returns
    -------
    ndarray of shape (H, W), dtype uint8
        Ink 255 on background 0, contrast stretched so the strongest ink is 255.

    Raises
    ------
    ImageError
        If the array does not have one of the shapes above, or is empty.
    """
    arr = check_canvas(rgba)
    if arr.dtype.kind == "f":
        arr = np.clip(arr * 255.0 if arr.max() <= 1.0 else arr, 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return _stretch(_ink(arr))


def check_canvas(rgba: NDArray) -> NDArray:
    """``rgba`` as an array, or an :class:`ImageError` saying it is not a canvas's shape
    ((H, W, 4), (H, W, 3) or (H, W), not empty)."""
    arr = np.asarray(rgba)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise ImageError(
            f"expected an RGBA array of shape (H, W, 4) (or (H, W, 3), (H, W)); got shape {arr.shape}"
        )
    return arr


def read_image(source: str | Path | bytes) -> NDArray[np.uint8]:
    """Read an image file (or its bytes) into an ink map.

    Parameters
    ----------
    source : str, Path or bytes
        A path to an image file Pillow can read, or the file's bytes.

    Returns
    -------
    ndarray of shape (H, W), dtype uint8
        Ink 255 on background 0; H, W at most :data:`WORK_SIDE`. Background and faint noise
        are exactly 0, so a blank page gives an all-zero map.

    Raises
    ------
    ImageError
        If the file is missing, too big, not an image, or corrupt; the message names it.
    """
    name, data = _load_bytes(source)
    try:
        im = Image.open(io.BytesIO(data))
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise ImageError(
                f"{name}: image is {w}x{h} pixels; at most {MAX_PIXELS:,} are accepted"
            )
        if getattr(im, "format", None) == "JPEG":
            im.draft("RGB", (WORK_SIDE, WORK_SIDE))  # decode JPEGs at reduced size: much faster
        im = ImageOps.exif_transpose(im)
        im = _to_rgb_or_rgba(im)
        if max(im.size) > WORK_SIDE:
            im.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
        arr = np.asarray(im)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{name}: not an image file (PIL could not identify it)") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({exc})") from exc
    return _clean(_ink(arr).astype(np.float32))


def _load_bytes(source: str | Path | bytes) -> tuple[str, bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = "uploaded image"
    else:
        path = Path(source)
        name = str(source)  # as the user gave it, so a message points at their file
        if not path.is_file():
            raise ImageError(f"{name}: no such file ({path})")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImageError(
                f"{name}: file is {size / 2**20:.1f} MB; at most {MAX_BYTES // 2**20} MB"
            )
        data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise ImageError(
            f"{name}: file is {len(data) / 2**20:.1f} MB; at most {MAX_BYTES // 2**20} MB"
        )
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes); expected an image")
    return name, data


def _to_rgb_or_rgba(im: Image.Image) -> Image.Image:
    """Any Pillow mode (P, LA, CMYK, I;16, F, 1...) to RGB, or RGBA when it has transparency."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        a = np.asarray(im, dtype=np.float32)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(a.astype(np.uint8)).convert("RGB")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        return im.convert("RGBA")
    return im.convert("RGB")


def _ink(arr: NDArray[np.uint8]) -> NDArray:
    """Raw ink of a gray, RGB or RGBA array: the alpha channel when the background is
    transparent (strokes wherever something was painted, whatever colour), else each pixel's
    colour distance from the background."""
    if arr.ndim == 3 and arr.shape[2] == 4:
        if np.median(_border(arr[..., 3])) < 128:
            return arr[..., 3]
        arr = arr[..., :3]
    return _colour_distance(arr)


def _border(a: NDArray) -> NDArray:
    """The outermost rows and columns, where the background is."""
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def _colour_distance(rgb: NDArray[np.uint8]) -> NDArray[np.int16]:
    """Per-pixel distance (max over channels) from the background colour (border median)."""
    if rgb.ndim == 2:
        rgb = rgb[..., None]
    bg = np.median(_border(rgb).reshape(-1, rgb.shape[2]), axis=0).astype(np.int16)
    # Channel by channel in int16: a float max over a short last axis is ~30x slower.
    out = np.abs(rgb[..., 0].astype(np.int16) - bg[0])
    for c in range(1, rgb.shape[2]):
        np.maximum(out, np.abs(rgb[..., c].astype(np.int16) - bg[c]), out=out)
    return out


def _stretch(ink: NDArray) -> NDArray[np.uint8]:
    """Scale so the strongest ink is 255; an image without real ink stays all 0."""
    hi = int(ink.max())
    if hi < MIN_CONTRAST:
        return np.zeros(ink.shape, np.uint8)
    if hi == 255:
        return ink.astype(np.uint8)
    lut = np.clip(np.arange(256) * (255.0 / hi) + 0.5, 0, 255).astype(np.uint8)
    return lut[ink]


def _clean(ink: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Photos and scans: flatten uneven lighting, cut noise below an Otsu threshold, stretch."""
    h, w = ink.shape
    # Lighting: the paper's own distance from the border colour varies slowly; a grey opening
    # far wider than any stroke keeps that and drops the strokes, and is subtracted.
    f = max(1, max(h, w) // 128)
    small = ink[::f, ::f]
    size = max(3, min(small.shape) // 4)
    shade = ndi.grey_opening(small, size=(size, size))
    shade = ndi.uniform_filter(shade, size=size)
    shade = ndi.zoom(shade, (h / shade.shape[0], w / shade.shape[1]), order=1)[:h, :w]
    ink = np.clip(ink - shade, 0, None)
    if float(ink.max()) < MIN_CONTRAST:
        return np.zeros(ink.shape, np.uint8)
    # Otsu between paper and ink, but never below a floor that paper grain cannot reach.
    t = max(float(threshold_otsu(ink)), MIN_CONTRAST, float(np.percentile(ink, 50)) * 3)
    strong = ink >= t
    if not strong.any():
        return np.zeros(ink.shape, np.uint8)
    hi = float(np.percentile(ink[strong], 95))
    keep = ndi.binary_dilation(strong)  # keep the anti-aliased rim of kept strokes
    out = np.where(keep, np.clip(ink * (255.0 / max(hi, 1.0)), 0, 255), 0)
    return (out + 0.5).astype(np.uint8)
