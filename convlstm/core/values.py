"""What a checkpoint's numbers mean: the value scales a model can be trained on.

A model always works on values in [0, 1]. Its ``config.json`` names the scale of the values
people give it and get back (``value_transform``), and the model resolves it once, as
``model.scale``, so that ``convlstm.forecast`` converts for them and no caller needs to know a
hidden transform:

- ``"unit"`` (the default, and what checkpoints without the field mean): frames are gray levels
  in [0, 1], e.g. Moving MNIST or an uploaded video.
- ``"dbz60"``: rain rates in mm/h, seen by the model as reflectivity, Marshall–Palmer dBZ 0–60
  mapped to [0, 1] (``to_unit`` / ``from_unit`` below).

How each scale is scored and drawn lives with the scoring and the pictures, keyed by its name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

# Marshall–Palmer Z = 200 R^1.6 (Z in mm^6/m^3, R in mm/h), dBZ = 10 log10 Z. The "dbz60" scale is
# dBZ in [DBZ_MIN, DBZ_MAX] mapped to [0, 1]. HKO's own Z–R constants differ (Z = 58.53 R^1.56);
# Marshall–Palmer is the textbook default.
ZR_A, ZR_B = 200.0, 1.6
DBZ_MIN, DBZ_MAX = 0.0, 60.0
RAIN_DRY = 10 ** ((DBZ_MIN - 10 * math.log10(ZR_A)) / (10 * ZR_B))  # ≈ 0.036 mm/h: 0 dBZ
RAIN_TOP = 10 ** ((DBZ_MAX - 10 * math.log10(ZR_A)) / (10 * ZR_B))  # ≈ 205 mm/h: 60 dBZ


def _lib(x):
    return (torch, x) if isinstance(x, torch.Tensor) else (np, np.asarray(x, np.float32))


def rain_to_dbz(rain):
    """mm/h → dBZ (Marshall–Palmer); 0 mm/h → -inf. Numpy or torch in, the same out."""
    xp, rain = _lib(rain)
    with np.errstate(divide="ignore"):
        return 10 * math.log10(ZR_A) + 10 * ZR_B * xp.log10(xp.clip(rain, 0, None))


def dbz_to_rain(dbz):
    """dBZ → mm/h, the inverse of ``rain_to_dbz``."""
    xp, dbz = _lib(dbz)
    return 10 ** ((dbz - 10 * math.log10(ZR_A)) / (10 * ZR_B))


def to_unit(rain):
    """mm/h → the model's [0, 1]: (dBZ - DBZ_MIN) / (DBZ_MAX - DBZ_MIN), clipped.

    Rain at or below RAIN_DRY (0 dBZ ≈ 0.036 mm/h) is dry and maps to 0; rain above RAIN_TOP
    (60 dBZ ≈ 205 mm/h) clips to 1. Between the two, ``from_unit`` inverts it exactly.
    """
    xp, rain = _lib(rain)
    return xp.clip((rain_to_dbz(rain) - DBZ_MIN) / (DBZ_MAX - DBZ_MIN), 0, 1)


def from_unit(x):
    """The model's [0, 1] → mm/h; 0 is dry (0 mm/h), 1 is RAIN_TOP."""
    xp, x = _lib(x)
    x = xp.clip(x, 0, 1)
    return xp.where(x > 0, dbz_to_rain(DBZ_MIN + x * (DBZ_MAX - DBZ_MIN)), 0.0)


def _identity(frames: np.ndarray) -> np.ndarray:
    return frames


@dataclass(frozen=True)
class Scale:
    name: str  # the value of ``value_transform`` in a checkpoint's config.json
    units: str  # of the values people pass in and get back, in words
    encode: Callable[[np.ndarray], np.ndarray]  # those values → the model's [0, 1]
    decode: Callable[[np.ndarray], np.ndarray]  # the model's [0, 1] → those values
    maximum: float  # the largest value accepted (inf: no upper bound); the smallest is 0

    def check(self, frames, name: str = "frames") -> np.ndarray:
        """Finite floats in [0, maximum] as float32, else ValueError saying what is wrong."""
        frames = np.asarray(frames)
        if not np.issubdtype(frames.dtype, np.floating) or not np.isfinite(frames).all():
            raise ValueError(f"{name} must be finite floats")
        if frames.size and (frames.min() < 0 or frames.max() > self.maximum):
            raise ValueError(f"{name} must lie in [0, {self.maximum:g}] ({self.units})")
        return frames.astype(np.float32, copy=False)


SCALES = {
    "unit": Scale("unit", "gray levels in [0, 1]", _identity, _identity, 1.0),
    "dbz60": Scale("dbz60", "rain rate in mm/h", to_unit, from_unit, np.inf),
}
GRAY, RAIN = SCALES["unit"], SCALES["dbz60"]


def scale_named(name: str) -> Scale:
    if name not in SCALES:
        raise ValueError(f"value_transform must be one of {tuple(SCALES)}, got {name!r}")
    return SCALES[name]
