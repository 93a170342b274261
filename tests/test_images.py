"""digitcore.images: canvases and image files to one ink map (ink high on 0)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from digitcore import images
from digitcore.errors import ImageError
from digitcore.images import canvas_to_gray, read_image
from digitcore.segmentation import segment


def _bar_mask(h: int = 60, w: int = 40) -> np.ndarray:
    """A thick vertical bar ('1') in the middle, plus a short stub at the top-right."""
    m = np.zeros((h, w), bool)
    m[10:50, 17:23] = True
    m[10:16, 23:32] = True
    return m


def _png_bytes(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 0, 255)])
def test_transparent_canvas_strokes_of_any_colour_are_ink(colour):
    mask = _bar_mask()
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[mask] = (*colour, 255)
    gray = canvas_to_gray(rgba)
    assert gray.dtype == np.uint8 and gray.shape == mask.shape
    assert (gray[mask] == 255).all() and (gray[~mask] == 0).all()


@pytest.mark.parametrize(
    "ink, background",
    [((255, 255, 255), (0, 0, 0)), ((0, 0, 0), (255, 255, 255)), ((30, 30, 200), (250, 250, 240))],
)
def test_opaque_canvas_of_either_polarity_gives_ink_high_on_zero(ink, background):
    mask = _bar_mask()
    rgba = np.empty((*mask.shape, 4), np.uint8)
    rgba[...] = (*background, 255)
    rgba[mask] = (*ink, 255)
    gray = canvas_to_gray(rgba)
    assert (gray[mask] == 255).all() and (gray[~mask] == 0).all()


@pytest.mark.parametrize("shape", [(60, 40, 3), (60, 40)])
def test_rgb_and_gray_arrays_are_accepted(shape):
    arr = np.zeros(shape, np.uint8)
    arr[_bar_mask()] = 255
    assert (canvas_to_gray(arr) > 0).sum() == _bar_mask().sum()


def test_empty_canvas_stays_all_zero():
    assert not canvas_to_gray(np.zeros((50, 50, 4), np.uint8)).any()
    assert not canvas_to_gray(np.full((50, 50, 4), 255, np.uint8)).any()


@pytest.mark.parametrize("shape", [(10,), (5, 5, 2), (0, 0, 4), (2, 3, 4, 5)])
def test_wrong_shape_is_refused_saying_what_arrived(shape):
    with pytest.raises(ImageError, match=r"expected an RGBA array of shape \(H, W, 4\).*got shape"):
        canvas_to_gray(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "CMYK", "1", "I;16"])
def test_file_in_any_mode_dark_on_light_is_read(mode):
    mask = _bar_mask(120, 80)
    gray = np.where(mask, 20, 235).astype(np.uint8)
    im = Image.fromarray(gray).convert(mode, dither=Image.Dither.NONE)
    out = read_image(_png_bytes(im, "TIFF" if mode == "CMYK" else "PNG"))
    assert out[mask].mean() > 200 and out[~mask].max() == 0


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_light_on_dark_file_of_each_format_is_read(fmt):
    mask = _bar_mask(120, 80)
    im = Image.fromarray(np.where(mask, 230, 15).astype(np.uint8)).convert("RGB")
    out = read_image(_png_bytes(im, fmt))
    assert out[mask].mean() > 180 and (out[~mask] > 0).mean() < 0.02


def test_transparent_png_reads_its_strokes():
    rgba = np.zeros((120, 80, 4), np.uint8)
    rgba[_bar_mask(120, 80)] = (200, 0, 0, 255)
    out = read_image(_png_bytes(Image.fromarray(rgba)))
    assert (out[_bar_mask(120, 80)] > 200).all()


@pytest.mark.parametrize(
    "orientation, rotate",
    [
        (6, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_270),
        (3, Image.Transpose.ROTATE_180),
    ],
)
def test_exif_rotated_photo_is_read_upright(orientation, rotate):
    mask = _bar_mask(120, 80)
    upright = Image.fromarray(np.where(mask, 0, 255).astype(np.uint8)).convert("RGB")
    stored = upright.transpose(rotate)  # as a phone stores it, with the tag saying how to turn
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = read_image(_png_bytes(stored, "JPEG", exif=exif, quality=95))
    assert out.shape == mask.shape
    assert out[mask].mean() > 200 and (out[~mask] > 0).mean() < 0.02


def test_photo_with_uneven_light_and_paper_noise_shows_one_digit():
    rng = np.random.default_rng(0)
    h, w = 300, 240
    light = np.linspace(250, 150, w)[None, :] * np.ones((h, 1))  # shadow across the page
    page = light + rng.normal(0, 6, (h, w))
    mask = np.zeros((h, w), bool)
    mask[60:240, 110:126] = True
    page[mask] -= 110
    out = read_image(_png_bytes(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)), "JPEG"))
    assert len(segment(out)) == 1


def test_blank_noisy_photo_is_all_zero():
    rng = np.random.default_rng(1)
    page = np.clip(200 + rng.normal(0, 8, (200, 200)), 0, 255).astype(np.uint8)
    assert not read_image(_png_bytes(Image.fromarray(page), "JPEG")).any()


def test_huge_image_is_downscaled_before_work():
    big = Image.new("L", (4000, 3000), 255)
    out = read_image(_png_bytes(big))
    assert max(out.shape) == images.WORK_SIDE


def test_corrupt_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(b"this is not a png at all")
    with pytest.raises(ImageError, match=r"scan\.png: not an image file"):
        read_image(path)


def test_truncated_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(_png_bytes(Image.new("RGB", (200, 200), "white"))[:300])
    with pytest.raises(ImageError, match=r"cut\.png"):
        read_image(path)


def test_missing_and_empty_files_are_refused(tmp_path):
    with pytest.raises(ImageError, match="nothere.png: no such file"):
        read_image(tmp_path / "nothere.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png: empty file"):
        read_image(tmp_path / "empty.png")


def test_too_many_bytes_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 1000)
    path = tmp_path / "big.png"
    path.write_bytes(b"\0" * 2000)
    with pytest.raises(ImageError, match=r"big\.png: file is .* MB; at most"):
        read_image(path)


def test_absurd_pixel_count_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    with pytest.raises(ImageError, match=r"image is 200x200 pixels"):
        read_image(_png_bytes(Image.new("L", (200, 200))))
