"""Rain in the colours of a radar display: the reflectivity scale and its legend."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..core.values import DBZ_MAX, DBZ_MIN, dbz_to_rain, rain_to_dbz

# NWS reflectivity colour scale: (lower dBZ of the band, RGB).
REFLECTIVITY_COLORS = (
    (5, (4, 233, 231)), (10, (1, 159, 244)), (15, (3, 0, 244)), (20, (2, 253, 2)),
    (25, (1, 197, 1)), (30, (0, 142, 0)), (35, (253, 248, 2)), (40, (229, 188, 0)),
    (45, (253, 149, 0)), (50, (253, 0, 0)), (55, (212, 0, 0)), (60, (188, 0, 0)),
    (65, (248, 0, 253)), (70, (152, 84, 198)),
)


UNCOVERED = (150, 150, 150)  # where no radar saw (NaN): gray, apart from dry (black) and every rain colour


def colorize(frames, *, units: str = "mm/h", background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Frames (..., H, W) in ``units`` ("mm/h", "dBZ" or "unit", the model's scale) → uint8 RGB
    (..., H, W, 3) in the NWS reflectivity colours. Below 5 dBZ (≈ 0.075 mm/h) is dry and
    takes ``background``: black by default, as on most radar displays. NaN is outside radar
    coverage and drawn ``UNCOVERED``.
    """
    frames = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if units == "mm/h":
        dbz = rain_to_dbz(frames)
    elif units == "dBZ":
        dbz = frames
    elif units == "unit":
        dbz = np.where(frames > 0, DBZ_MIN + np.asarray(frames, np.float32) * (DBZ_MAX - DBZ_MIN), -np.inf)
    else:
        raise ValueError(f"units must be 'mm/h', 'dBZ' or 'unit', got {units!r}")
    levels = np.array([level for level, _ in REFLECTIVITY_COLORS], np.float32)
    palette = np.array([background] + [rgb for _, rgb in REFLECTIVITY_COLORS] + [UNCOVERED], np.uint8)
    band = np.where(np.isnan(dbz), len(palette) - 1, np.searchsorted(levels, np.nan_to_num(dbz, nan=-np.inf),
                                                                       side="right"))  # 0 = dry
    return palette[band]


def legend_image(swatch: int = 40, *, background: tuple[int, int, int] = (255, 255, 255),
                 uncovered: bool = False, width: int | None = None) -> np.ndarray:
    """A strip of the colour bands labelled with their lower dBZ and mm/h: uint8 RGB (44, 15·swatch, 3); with
    ``uncovered``, one swatch more, the gray of "no radar"; folded into as few strips of about equal length as
    fit ``width`` pixels (one under the other)."""
    row = 22
    bands = [("dBZ", "mm/h", (255, 255, 255))]
    for level, rgb in REFLECTIVITY_COLORS:
        rain = float(dbz_to_rain(level))
        text = f"{rain:.2f}" if rain < 1 else f"{rain:.1f}" if rain < 10 else f"{rain:.0f}"
        bands.append((str(level), text, rgb))
    if uncovered:
        bands.append(("no", "radar", UNCOVERED))
    strips = -(-len(bands) // max(1, width // swatch)) if width else 1
    per_strip = -(-len(bands) // strips)  # strips of about equal length
    image = np.full((2 * row * strips, swatch * per_strip, 3), background, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i, (dbz, rain, rgb) in enumerate(bands):
        top, left = 2 * row * (i // per_strip), (i % per_strip) * swatch
        image[top:top + row, left:left + swatch] = rgb
        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 128
        for y, text, color in ((top, dbz, (255,) * 3 if dark else (0,) * 3), (top + row, rain, (0, 0, 0))):
            (w, h), _ = cv2.getTextSize(text, font, 0.35, 1)
            cv2.putText(image, text, (left + (swatch - w) // 2, y + (row + h) // 2), font, 0.35, color, 1,
                        cv2.LINE_AA)
    return image
