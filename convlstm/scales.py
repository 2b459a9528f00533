"""What a checkpoint's numbers mean: the value scales a model can be trained on.

A model always works on values in [0, 1]. Its ``config.json`` names the scale of the values
people give it and get back (``value_transform``), so that ``convlstm.forecast`` converts for
them and no caller needs to know a hidden transform:

- ``"unit"`` (the default, and what checkpoints without the field mean): frames are gray levels
  in [0, 1], e.g. Moving MNIST or an uploaded video; scored by MSE per frame and SSIM.
- ``"dbz60"``: rain rates in mm/h, seen by the model as reflectivity, Marshall–Palmer dBZ 0–60
  mapped to [0, 1] (``radar.to_unit`` / ``radar.from_unit``); shown in the reflectivity colours
  and scored by CSI, POD, FAR, FSS, rainfall MSE and correlation.

A scale also says how its frames are shown and which scores a comparison reports, so every
forecast, of digits or of rain, goes through the same comparison and rendering code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import metrics, radar


def _identity(frames: np.ndarray) -> np.ndarray:
    return frames


def _pixel_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    small = min(truth.shape[-2:]) < metrics.SSIM_WINDOW  # SSIM is undefined on tiny frames
    ssim = np.full(truth.shape[:-2], np.nan) if small else metrics.ssim(pred, truth)
    return {"mse": metrics.mse(pred, truth), "ssim": ssim}


@dataclass(frozen=True)
class Scale:
    name: str  # the value of ``value_transform`` in a checkpoint's config.json
    units: str  # of the values people pass in and get back, in words
    encode: Callable[[np.ndarray], np.ndarray]  # those values → the model's [0, 1]
    decode: Callable[[np.ndarray], np.ndarray]  # the model's [0, 1] → those values
    maximum: float  # the largest value accepted (inf: no upper bound); the smallest is 0
    scores: Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]  # per-frame scores by key
    table: dict[str, str]  # the app's score columns: header (↑ or ↓ says which way is better) → key
    plot: tuple[str, str]  # the score plotted by lead time: (key, axis title)
    colorize: Callable[[np.ndarray], np.ndarray] | None = None  # frames → uint8 RGB; None: gray
    legend: Callable[[], np.ndarray] | None = None  # a colour legend shown under the pictures

    def check(self, frames, name: str = "frames") -> np.ndarray:
        """Finite floats in [0, maximum] as float32, else ValueError saying what is wrong."""
        frames = np.asarray(frames)
        if not np.issubdtype(frames.dtype, np.floating) or not np.isfinite(frames).all():
            raise ValueError(f"{name} must be finite floats")
        if frames.size and (frames.min() < 0 or frames.max() > self.maximum):
            raise ValueError(f"{name} must lie in [0, {self.maximum:g}] ({self.units})")
        return frames.astype(np.float32, copy=False)


SCALES = {
    "unit": Scale(
        "unit", "gray levels in [0, 1]", _identity, _identity, 1.0, _pixel_scores,
        table={"MSE/frame ↓": "mse", "SSIM ↑": "ssim"}, plot=("mse", "MSE/frame"),
    ),
    "dbz60": Scale(
        "dbz60", "rain rate in mm/h", radar.to_unit, radar.from_unit, np.inf, metrics.rain_scores,
        table={"CSI ↑": "csi@0.5", "POD ↑": "pod@0.5", "FAR ↓": "far@0.5", "CSI 2 mm/h ↑": "csi@2",
               "FSS 11 px ↑": "fss11@1", "rain MSE ↓": "rainfall_mse", "corr. ↑": "correlation"},
        plot=("csi@0.5", "CSI"), colorize=radar.colorize, legend=radar.legend_image,
    ),
}


def scale_named(name: str) -> Scale:
    if name not in SCALES:
        raise ValueError(f"value_transform must be one of {tuple(SCALES)}, got {name!r}")
    return SCALES[name]
