"""Radar rain on the model's grid, and the windows of it a nowcast is made for: block averaging by the motion
measured (rule 3 of ``convlstm.data.composites``), the qualifying 100×100 windows (rule 4) and the
evaluation's samples (rule 5)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..core.values import to_unit
from .limits import MIN_COMPOSITE_SIDE

CONTEXT, HORIZON, STEP_MINUTES = 5, 15, 5

SIZE = MIN_COMPOSITE_SIDE  # the window, 100×100 pixels of the model's grid

WET = 0.5  # mm/h: rain, for the window rules and for the motion

TARGET_SPEED = 2.0  # px per step on the model's grid (rule 3)

MOTION_SIDE = 512  # px: the motion is measured on the field shrunk to at most this a side

MIN_TRACKED = 50  # pixels of rain needed to measure the motion


@dataclass(frozen=True)
class Sample:
    source: str
    start: int  # index of the first frame in the source's sequence
    top: int
    left: int
    frames: np.ndarray  # (T, 100, 100) mm/h, 0 outside coverage (T = 20 in the evaluation)
    mask: np.ndarray  # (100, 100) bool: covered in every frame

def block_average(rain: np.ndarray, factor: int) -> np.ndarray:
    """(..., H, W) → (..., H // factor, W // factor): the mean of each block, NaN unless every pixel is covered."""
    if factor == 1:
        return rain
    *lead, H, W = rain.shape
    frames = rain.reshape(-1, H, W)
    out = np.empty((len(frames), H // factor, W // factor), rain.dtype)
    for frame, average in zip(frames, out, strict=True):
        # OpenCV's area resize by a whole factor is the block mean (a NaN anywhere in a block makes it NaN); it
        # reads the cropped view in place.
        average[:] = cv2.resize(frame[:H - H % factor, :W - W % factor], average.shape[::-1],
                                interpolation=cv2.INTER_AREA)
    return out.reshape(*lead, H // factor, W // factor)

def measure_speed(rain) -> float | None:
    """How far rain moves a step, in the frames' own pixels: frames (T ≥ 2, H, W) mm/h, NaN outside coverage →
    the median over the rain (> 0.5 mm/h) of Farnebäck's optical flow between consecutive frames, measured on
    the field shrunk to at most 512 px a side, in the model's dBZ scale; None with too little rain to track."""
    H, W = rain[0].shape
    shrink = max(1, math.ceil(max(H, W) / MOTION_SIDE))
    small = np.nan_to_num(np.stack([block_average(frame, shrink) for frame in rain]), nan=0.0)  # the edge: dry
    gray = np.round(to_unit(small) * 255).astype(np.uint8)
    speeds = []
    for a, b, wet in zip(gray[:-1], gray[1:], small[:-1] > WET, strict=True):
        # OpenCV's sample parameters, with a 15-px window: the bulk motion of rain, not its texture.
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        speeds.append(np.hypot(flow[..., 0], flow[..., 1])[wet])
    tracked = np.concatenate(speeds) if speeds else np.empty(0)
    return float(np.median(tracked)) * shrink if tracked.size >= MIN_TRACKED else None

def fitting_block(block: int, frames: list[np.ndarray]) -> int:
    """The largest factor up to ``block`` at which a window qualifies (rule 4) in these frames, the last of them the
    last input frame: a larger factor makes the window wider than a small radar network covers. ``block`` itself
    where none qualifies at any factor (no rain: ``choose_window`` says so)."""
    for factor in range(block, 0, -1):
        if windows(np.stack([block_average(frame, factor) for frame in frames]), len(frames) - 1):
            return factor
    return block

def block_for(speed: float | None, shape: tuple[int, int]) -> int:
    """Rule 3: the block factor that makes rain moving ``speed`` px a step move about 2 px a step, at least 1 and
    at most what leaves a window's 100 px a side."""
    if speed is None:
        return 1
    return max(1, min(math.floor(speed / TARGET_SPEED + 0.5), min(shape) // SIZE))

def windows(clip: np.ndarray, last: int, *, stride: int = 10, min_coverage: float = 0.9, min_wet: float = 0.05,
            wet: float = WET) -> list[tuple[float, int, int]]:
    """Rule 4: the qualifying 100×100 windows of rain (T, H, W), NaN outside coverage, whose last input frame is
    ``clip[last]``, as (wet fraction, top, left), wettest first, ties by position."""
    T, H, W = clip.shape
    tops, lefts = np.arange(0, H - SIZE + 1, stride), np.arange(0, W - SIZE + 1, stride)
    if not len(tops) or not len(lefts):
        return []
    covered = _window_fractions(np.isfinite(clip).all(axis=0), tops, lefts)
    rainy = _window_fractions(np.nan_to_num(clip[last]) > wet, tops, lefts)
    rows, columns = np.nonzero((covered >= min_coverage) & (rainy >= min_wet))
    found = sorted((-rainy[i, j], int(tops[i]), int(lefts[j])) for i, j in zip(rows, columns, strict=True))
    return [(-fraction, top, left) for fraction, top, left in found]

def _window_fractions(mask: np.ndarray, tops: np.ndarray, lefts: np.ndarray) -> np.ndarray:
    """The fraction of True pixels in each SIZE×SIZE window at (tops × lefts), from one summed-area table."""
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
    table[1:, 1:] = mask.cumsum(axis=0).cumsum(axis=1)
    bottom, right = tops + SIZE, lefts + SIZE
    counts = (table[np.ix_(bottom, right)] - table[np.ix_(tops, right)] - table[np.ix_(bottom, lefts)]
              + table[np.ix_(tops, lefts)])
    return counts / SIZE**2

def cut(rain: np.ndarray, top: int, left: int, source: str = "", start: int = 0) -> Sample:
    """The window at (top, left) of rain (T, H, W), NaN outside coverage: zero where any frame is uncovered."""
    clip = rain[:, top:top + SIZE, left:left + SIZE]
    mask = np.isfinite(clip).all(axis=0)
    return Sample(source, start, top, left, np.where(mask, np.nan_to_num(clip), 0).astype(np.float32), mask)

def samples(rain: np.ndarray, source: str = "", *, every: int = 4, stride: int = 10, per_start: int = 4,
            min_coverage: float = 0.9, min_wet: float = 0.05, wet: float = WET) -> list[Sample]:
    """Rule 5: the samples of one source's block-averaged rain (T, H, W), NaN outside coverage."""
    T = len(rain)
    length = CONTEXT + HORIZON
    out = []
    for start in range(0, T - length + 1, every):
        clip = rain[start:start + length]
        chosen: list[tuple[int, int]] = []
        for _, top, left in windows(clip, CONTEXT - 1, stride=stride, min_coverage=min_coverage, min_wet=min_wet,
                                    wet=wet):
            if len(chosen) == per_start:
                break
            if all(abs(top - t) >= SIZE // 2 or abs(left - c) >= SIZE // 2 for t, c in chosen):  # ≤ half shared
                chosen.append((top, left))
        out += [cut(clip, top, left, source, start) for top, left in chosen]
    return out
