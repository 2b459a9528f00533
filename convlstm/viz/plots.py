"""Plots of scores by lead time, drawn with OpenCV (no plotting library needed)."""

from __future__ import annotations

import cv2
import numpy as np

COLORS = {"ConvLSTM": (214, 39, 40), "optical flow": (31, 119, 180), "persistence": (120, 120, 120)}  # RGB


def lead_minutes(results: dict) -> list[float]:
    """The lead times of an evaluation's results in minutes (results record their time step)."""
    return [results["step_minutes"] * (k + 1) for k in range(results["horizon"])]


def csi_plot(results: dict, threshold: float = 0.5, *, size: tuple[int, int] = (720, 440)) -> np.ndarray:
    """CSI against lead time (minutes) for each method: uint8 RGB (H, W, 3), drawn with OpenCV."""
    key = f"csi@{threshold:g}"
    width, height = size
    image = np.full((height, width, 3), 255, np.uint8)
    font, ink, grid = cv2.FONT_HERSHEY_SIMPLEX, (0, 0, 0), (225, 225, 225)
    left, right, top, bottom = 70, 20, 45, 60
    x0, x1, y0, y1 = left, width - right, height - bottom, top  # plot box: y0 is the bottom edge
    leads = lead_minutes(results)
    lo, hi = 0, leads[-1]
    values = [v for r in results["methods"].values() for v in r["per_lead"][key] if np.isfinite(v)]
    top_value = min(1.0, max(0.2, np.ceil(max(values, default=1.0) * 10 + 0.5) / 10))

    def px(minutes: float, value: float) -> tuple[int, int]:
        return (round(x0 + (minutes - lo) / (hi - lo) * (x1 - x0)), round(y0 - value / top_value * (y0 - y1)))

    def text(s: str, org: tuple[int, int], scale: float = 0.45, align: str = "left") -> None:
        (w, h), _ = cv2.getTextSize(s, font, scale, 1)
        x = {"left": org[0], "centre": org[0] - w // 2, "right": org[0] - w}[align]
        cv2.putText(image, s, (x, org[1] + h // 2), font, scale, ink, 1, cv2.LINE_AA)

    # --- grid, ticks and labels
    step = 0.1 if top_value <= 0.6 else 0.2
    for value in np.arange(0, top_value + 1e-9, step):
        _, y = px(lo, value)
        cv2.line(image, (x0, y), (x1, y), grid, 1)
        cv2.line(image, (x0 - 5, y), (x0, y), ink, 1)
        text(f"{value:.1f}", (x0 - 8, y), align="right")
    tick = results["step_minutes"] * max(1, round(len(leads) / 8))
    for minutes in np.arange(0, hi + 1e-9, tick):
        x, _ = px(minutes, 0)
        cv2.line(image, (x, y0), (x, y0 + 5), ink, 1)
        text(f"{minutes:g}", (x, y0 + 16), align="centre")
    cv2.rectangle(image, (x0, y1), (x1, y0), ink, 1)
    text("lead time (minutes)", ((x0 + x1) // 2, height - 16), 0.5, "centre")
    label = np.full((22, 140, 3), 255, np.uint8)  # the y label, drawn flat then turned
    cv2.putText(label, "CSI", (55, 16), font, 0.5, ink, 1, cv2.LINE_AA)
    image[(y0 + y1) // 2 - 70:(y0 + y1) // 2 + 70, 8:30] = np.rot90(label)
    n = results.get("sequences")
    title = f"CSI at {threshold:g} mm/h by lead time" + (f" ({n} test sequences)" if n else "")
    text(title, ((x0 + x1) // 2, 20), 0.55, "centre")

    # --- curves, then the legend on top
    for name, r in results["methods"].items():
        color = COLORS.get(name, (0, 150, 0))
        points = [px(m, v) for m, v in zip(leads, r["per_lead"][key], strict=True) if np.isfinite(v)]
        if len(points) > 1:
            cv2.polylines(image, [np.array(points, np.int32)], False, color, 2, cv2.LINE_AA)
        for p in points:
            cv2.circle(image, p, 3, color, -1, cv2.LINE_AA)
    names = list(results["methods"])
    box_w, box_h = 150, 12 + 20 * len(names)
    bx, by = x1 - box_w - 10, y1 + 10
    cv2.rectangle(image, (bx, by), (bx + box_w, by + box_h), (255, 255, 255), -1)
    cv2.rectangle(image, (bx, by), (bx + box_w, by + box_h), (160, 160, 160), 1)
    for i, name in enumerate(names):
        y = by + 16 + 20 * i
        color = COLORS.get(name, (0, 150, 0))
        cv2.line(image, (bx + 10, y), (bx + 40, y), color, 2, cv2.LINE_AA)
        cv2.circle(image, (bx + 25, y), 3, color, -1, cv2.LINE_AA)
        text(name, (bx + 48, y))
    return image


