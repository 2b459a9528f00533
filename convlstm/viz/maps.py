"""Where a window lies on a radar composite: the locator map, drawn with OpenCV."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .colors import colorize

BOX = (255, 255, 255)  # the window's outline: white, over black (dry), gray (no radar) and every rain colour


def locator_map(rain: np.ndarray, top: int, left: int, size: int, *, max_side: int = 320) -> np.ndarray:
    """A composite's rain (H, W) mm/h, NaN outside radar coverage, shrunk to at most ``max_side`` px a side, with
    the window of ``size`` px at (``top``, ``left``) outlined: uint8 RGB. Each map pixel shows the heaviest rain
    of the composite's pixels it covers (a mean would wash out showers) and is gray where most of them lie
    outside coverage."""
    height, width = rain.shape
    if not (0 <= top <= height - size and 0 <= left <= width - size):
        raise ValueError(f"a {size}-px window at ({top}, {left}) does not lie inside a {width}×{height} composite")
    factor = max(1, math.ceil(max(height, width) / max_side))
    rows, columns = -(-height // factor), -(-width // factor)
    padded = np.full((rows * factor, columns * factor), np.nan, np.float32)
    padded[:height, :width] = rain
    blocks = padded.reshape(rows, factor, columns, factor)
    heaviest = np.nan_to_num(blocks, nan=0.0).max(axis=(1, 3))
    uncovered = np.isnan(blocks).mean(axis=(1, 3)) > 0.5
    image = np.ascontiguousarray(colorize(np.where(uncovered, np.nan, heaviest)))
    y0, x0 = top // factor, left // factor
    y1, x1 = max(y0 + 2, (top + size) // factor), max(x0 + 2, (left + size) // factor)  # never less than 3 px
    cv2.rectangle(image, (x0, y0), (min(x1, columns - 1), min(y1, rows - 1)), BOX, 1 if factor > 2 else 2)
    return image
