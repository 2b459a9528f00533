"""Decoded pixels to one gray value per pixel: integers scaled to [0, 1], colour to luminance (BT.601)."""

from __future__ import annotations

import numpy as np

_BT601 = np.array([0.299, 0.587, 0.114], np.float32)  # R, G, B


def unit(pixels: np.ndarray) -> np.ndarray:
    """uint8, uint16 or bool pixels → float32 in [0, 1]; other numbers → float32 or float64, as they are."""
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255
    if pixels.dtype.kind == "u" and pixels.dtype.itemsize == 2:
        return pixels.astype(np.float32) / 65535
    return pixels.astype(np.result_type(pixels.dtype, np.float32))  # float64 keeps values near ±1e308


def luminance(pixels: np.ndarray, *, bgr: bool = False) -> np.ndarray:
    """(H, W) or (H, W, C), C = 1, 2 (gray, alpha), 3 or 4 (colour, alpha) → (H, W) of the same float type."""
    if pixels.ndim == 2:
        return pixels
    channels = pixels.shape[2]
    gray = pixels[..., 0] if channels < 3 else pixels[..., :3] @ (_BT601[::-1] if bgr else _BT601)
    if channels in (2, 4):
        gray = gray * pixels[..., -1]  # over black
    return np.ascontiguousarray(gray)
