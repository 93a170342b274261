"""Training-set augmentation: randomly distorted copies of MNIST-form digits.

The SVC's virtual support vectors (:class:`digitcore.estimators.VirtualSupportPipeline`) are
made here. The whole batch is warped at once with numpy/scipy, no per-image Python loop.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from digitcore.features import SIDE, check_digits, chunks


def augment(
    images: NDArray,
    labels: NDArray,
    *,
    copies: int = 1,
    max_shift: float = 1.5,
    max_rotation: float = 12.0,
    max_scale: float = 0.1,
    elastic: float = 0.8,
    random_state: int | None = 0,
) -> tuple[NDArray[np.uint8], NDArray]:
    """Return the originals plus ``copies`` randomly distorted copies of each digit.

    Each copy gets a random rotation (degrees), scaling, sub-pixel shift and a smooth elastic
    displacement (Gaussian-filtered noise, ``elastic`` pixels at most on average), then a third
    of the copies get a thicker stroke and a third a thinner one (grey dilation / erosion), as
    real drawings come with any brush width.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28), uint8
    labels : ndarray of shape (n,)
    copies : int
        Distorted copies per original (0 returns the inputs).
    max_shift, max_rotation, max_scale, elastic : float
        Bounds of the random distortions (pixels, degrees, relative scale, pixels).
    random_state : int or None

    Returns
    -------
    images : ndarray of shape (n * (copies + 1), 28, 28), uint8
    labels : ndarray of shape (n * (copies + 1),)
    """
    images = check_digits(images)
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(
            f"expected one label per image, got {len(labels)} labels for {len(images)} images"
        )
    rng = np.random.default_rng(random_state)
    out = [np.asarray(images, np.uint8)]
    centre = (SIDE - 1) / 2.0
    grid_r, grid_c = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - centre
    for _ in range(copies):
        warped = np.empty(images.shape, np.uint8)
        for part in chunks(len(images)):
            x = images[part].astype(np.float32)
            m = len(x)
            theta = np.deg2rad(rng.uniform(-max_rotation, max_rotation, m))[:, None, None]
            scale = rng.uniform(1 - max_scale, 1 + max_scale, m)[:, None, None]
            shift = rng.uniform(-max_shift, max_shift, (2, m))[:, :, None, None]
            cos, sin = np.cos(theta) / scale, np.sin(theta) / scale
            # Inverse map: output pixel (r, c) reads the input at a rotated, scaled, shifted spot.
            rows = cos * grid_r - sin * grid_c + centre + shift[0]
            cols = sin * grid_r + cos * grid_c + centre + shift[1]
            if elastic > 0:
                noise = rng.uniform(-1, 1, (2, m, SIDE, SIDE)).astype(np.float32)
                field = ndimage.gaussian_filter(noise, sigma=(0, 0, 4, 4))
                field *= elastic / np.maximum(np.abs(field).mean(axis=(2, 3), keepdims=True), 1e-6)
                rows, cols = rows + field[0], cols + field[1]
            index = np.broadcast_to(np.arange(m, dtype=np.float32)[:, None, None], rows.shape)
            # An integer index along axis 0 makes this 3-D linear interpolation per-image 2-D.
            coords = np.stack([index, rows, cols])
            x = ndimage.map_coordinates(x, coords, order=1, mode="constant", cval=0.0)
            width = rng.integers(0, 3, m)  # 0 keep, 1 thicker, 2 thinner
            x[width == 1] = ndimage.grey_dilation(x[width == 1], size=(1, 2, 2))
            x[width == 2] = ndimage.grey_erosion(x[width == 2], footprint=_CROSS)
            warped[part] = np.clip(x, 0, 255).round().astype(np.uint8)
        out.append(warped)
    return np.concatenate(out), np.tile(labels, copies + 1)


#: Plus-shaped footprint: erosion by it thins strokes by about one pixel.
_CROSS = ndimage.generate_binary_structure(2, 1)[None]
