"""Rain rates from what people upload as radar: arrays in mm/h or dBZ, or gray pictures."""

from __future__ import annotations

import numpy as np

from ..core.values import dbz_to_rain, from_unit
from .limits import SequenceError

UPLOAD_UNITS = ("mm/h", "dBZ")


def rain_from_upload(values: np.ndarray, units: str, *, from_pixels: bool, name: str = "the upload") -> np.ndarray:
    """Frames read by ``convlstm.data.uploads.load_sequence(..., raw=True)`` → rain rate in mm/h, float32.

    Pictures, GIFs and videos (``from_pixels``): gray level 0–1 (pixel 0–255) ↦ 0–60 dBZ, the
    model's own scale, pixel 0 dry; ``units`` does not apply. Arrays: numbers in ``units``,
    "mm/h" (≥ 0) or "dBZ" (Marshall–Palmer; -inf, or anything below 0 dBZ, is no echo).
    Raises ``SequenceError`` (a ValueError) with a message for the person uploading.
    """
    if units not in UPLOAD_UNITS:
        raise ValueError(f"units must be one of {UPLOAD_UNITS}, got {units!r}")
    values = np.asarray(values, np.float32)
    if from_pixels:
        return from_unit(values).astype(np.float32)
    if np.isnan(values).any() or np.isposinf(values).any() or (units == "mm/h" and np.isneginf(values).any()):
        raise SequenceError(f"{name}: has NaN or infinite values; mark dry pixels with 0 mm/h (or -inf dBZ).")
    if units == "mm/h" and values.min() < 0:
        raise SequenceError(f"{name}: has negative rain rates ({values.min():.3g}); were these dBZ? "
                            "Choose dBZ as the units.")
    if units == "dBZ" and values.max() > 100:
        raise SequenceError(f"{name}: has reflectivities up to {values.max():.3g} dBZ, more than any weather "
                            "radar measures; are these raw counts? Convert them to dBZ or mm/h first.")
    rain = values if units == "mm/h" else dbz_to_rain(values)
    return np.ascontiguousarray(rain, np.float32)
