"""Fitting frames of any size to a model's square grid, and back.

Rule: pad the shorter side with zeros (centred) to a square, then resize the square to the
model's size. Padding instead of cropping keeps every pixel of the upload in the forecast,
and zero is what the model saw outside the frame in training ("the outside world is zero").
``restore`` resizes back and removes the padding, so the forecast has the upload's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class GridFit:
    height: int
    width: int
    size: int  # the model's frame size

    @property
    def side(self) -> int:
        return max(self.height, self.width)

    @property
    def top(self) -> int:
        return (self.side - self.height) // 2

    @property
    def left(self) -> int:
        return (self.side - self.width) // 2

    def apply(self, frames: np.ndarray) -> np.ndarray:
        """(T, height, width) → (T, size, size), float32."""
        square = np.zeros((len(frames), self.side, self.side), np.float32)
        square[:, self.top:self.top + self.height, self.left:self.left + self.width] = frames
        return _resize(square, self.size)

    def restore(self, frames: np.ndarray) -> np.ndarray:
        """(T, size, size) → (T, height, width), float32."""
        square = _resize(np.asarray(frames, np.float32), self.side)
        return np.ascontiguousarray(square[:, self.top:self.top + self.height, self.left:self.left + self.width])


def fit_to_grid(frames: np.ndarray, size: int) -> tuple[np.ndarray, GridFit]:
    """Return frames resized to (T, size, size) and the GridFit that undoes it."""
    fit = GridFit(frames.shape[1], frames.shape[2], size)
    return fit.apply(frames), fit


def _resize(frames: np.ndarray, side: int) -> np.ndarray:
    if frames.shape[1] == side:
        return frames.astype(np.float32, copy=False)
    square = torch.from_numpy(np.ascontiguousarray(frames, np.float32))[:, None]  # (T, 1, S, S)
    if frames.shape[1] > side:  # shrinking: area averaging, no aliasing
        resized = F.interpolate(square, size=(side, side), mode="area")
    else:  # enlarging: bilinear between pixel centres, as OpenCV's INTER_LINEAR
        resized = F.interpolate(square, size=(side, side), mode="bilinear", align_corners=False)
    return resized[:, 0].numpy()
