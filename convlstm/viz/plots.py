"""Plots of scores, drawn with OpenCV (no plotting library needed): CSI by lead time, and the performance diagram
(POD against success ratio, with lines of equal CSI and of equal frequency bias)."""

from __future__ import annotations

import cv2
import numpy as np

COLORS = {"ConvLSTM": (214, 39, 40), "optical flow": (31, 119, 180), "persistence": (120, 120, 120)}  # RGB
# Any other method, in order of appearance: green first (the model beside the ConvLSTM), then distinct hues.
OTHER_COLORS = ((0, 150, 0), (255, 127, 14), (148, 103, 189), (140, 86, 75), (227, 119, 194), (23, 190, 207),
                (188, 189, 34), (60, 60, 60))


def method_colors(names) -> dict[str, tuple[int, int, int]]:
    """RGB for each method: its own colour, or the next of OTHER_COLORS."""
    others = iter(OTHER_COLORS * 4)
    return {name: COLORS.get(name) or next(others) for name in names}


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
    colors = method_colors(results["methods"])
    for name, r in results["methods"].items():
        color = colors[name]
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
        color = colors[name]
        cv2.line(image, (bx + 10, y), (bx + 40, y), color, 2, cv2.LINE_AA)
        cv2.circle(image, (bx + 25, y), 3, color, -1, cv2.LINE_AA)
        text(name, (bx + 48, y))
    return image




def performance_diagram(results: dict, threshold: float = 0.5, *, size: int = 560, title: str | None = None
                        ) -> np.ndarray:
    """Roebber's performance diagram at ``threshold`` mm/h: uint8 RGB (H, W, 3). Each method is a dot at its mean
    success ratio (1 − FAR) and POD over lead times, with a thin line through its lead times (a ring marks the
    first); the gray curves are CSI 0.1–0.9, the dashed lines frequency bias (POD / success ratio). Up and to the
    right is better; on the bias-1 diagonal a method forecasts as much rain area as observed. ``results`` as
    ``csi_plot`` takes them: {'methods': {name: {'mean': {...}, 'per_lead': {...}}}} with 'pod@T' and 'far@T'."""
    pod_key, far_key = f"pod@{threshold:g}", f"far@{threshold:g}"
    names = list(results["methods"])
    legend_h = 20 * len(names) + 16
    width, height = size, size + legend_h
    image = np.full((height, width, 3), 255, np.uint8)
    font, ink, faint = cv2.FONT_HERSHEY_SIMPLEX, (0, 0, 0), (200, 200, 200)
    left, right, top = 60, 24, 40
    side = width - left - right
    x0, y0 = left, top + side  # the plot's bottom-left corner; x is the success ratio, y the POD

    def px(success: float, pod: float) -> tuple[int, int]:
        return round(x0 + success * side), round(y0 - pod * side)

    def text(s: str, org: tuple[int, int], scale: float = 0.42, color=ink, align: str = "left") -> None:
        (w, h), _ = cv2.getTextSize(s, font, scale, 1)
        x = {"left": org[0], "centre": org[0] - w // 2, "right": org[0] - w}[align]
        cv2.putText(image, s, (x, org[1] + h // 2), font, scale, color, 1, cv2.LINE_AA)

    # CSI = 1 / (1/SR + 1/POD − 1): for each level, the curve from SR = level (POD = 1) to SR = 1 (POD = level).
    for level in np.arange(0.1, 1.0, 0.1):
        success = np.linspace(level, 1, 200)
        pod = 1 / (1 / level - 1 / success + 1)
        cv2.polylines(image, [np.array([px(a, b) for a, b in zip(success, pod, strict=True)], np.int32)], False,
                      faint, 1, cv2.LINE_AA)
        on_diagonal = 2 * level / (1 + level)  # where the curve meets bias 1 (SR = POD)
        x, y = px(on_diagonal, on_diagonal)
        text(f"{level:.1f}", (x + 4, y - 8), 0.35, (150, 150, 150), "left")
    # Frequency bias b: POD = b · SR, a line from the origin to the frame's edge.
    for bias in (0.5, 0.8, 1.0, 1.3, 2.0, 4.0):
        end = px(1, bias) if bias <= 1 else px(1 / bias, 1)
        start = px(0, 0)
        dashes = 24
        for k in range(0, dashes, 2):
            a = (start[0] + (end[0] - start[0]) * k // dashes, start[1] + (end[1] - start[1]) * k // dashes)
            b = (start[0] + (end[0] - start[0]) * (k + 1) // dashes, start[1] + (end[1] - start[1]) * (k + 1) // dashes)
            cv2.line(image, a, b, (120, 120, 120) if bias == 1 else faint, 1, cv2.LINE_AA)
        label = (end[0] + 3, end[1] + 8) if bias <= 1 else (end[0] - 4, end[1] - 10)
        text(f"{bias:g}", label, 0.35, (110, 110, 110), "left" if bias <= 1 else "centre")
    cv2.rectangle(image, px(0, 0), px(1, 1), ink, 1)
    for value in np.arange(0, 1.01, 0.2):
        x, _ = px(value, 0)
        _, y = px(0, value)
        cv2.line(image, (x, y0), (x, y0 + 5), ink, 1)
        cv2.line(image, (x0 - 5, y), (x0, y), ink, 1)
        text(f"{value:.1f}", (x, y0 + 15), align="centre")
        text(f"{value:.1f}", (x0 - 8, y), align="right")
    text("success ratio (1 - FAR)", ((x0 + px(1, 0)[0]) // 2, y0 + 34), 0.48, align="centre")
    label = np.full((20, 160, 3), 255, np.uint8)  # the y label, drawn flat then turned
    cv2.putText(label, "POD", (65, 15), font, 0.48, ink, 1, cv2.LINE_AA)
    image[(y0 + top) // 2 - 80:(y0 + top) // 2 + 80, 6:26] = np.rot90(label)
    text(title or f"Performance at {threshold:g} mm/h: CSI (curves), bias (dashed)", (width // 2, 16), 0.5,
         align="centre")

    colors = method_colors(names)
    for name in names:
        r, color = results["methods"][name], colors[name]
        leads = [(1 - f, p) for p, f in zip(r["per_lead"][pod_key], r["per_lead"][far_key], strict=True)
                 if np.isfinite(p) and np.isfinite(f)]
        points = [px(a, b) for a, b in leads]
        if len(points) > 1:
            cv2.polylines(image, [np.array(points, np.int32)], False, color, 1, cv2.LINE_AA)
        if points:
            cv2.circle(image, points[0], 4, color, 1, cv2.LINE_AA)
        mean_pod, mean_far = r["mean"][pod_key], r["mean"][far_key]
        if np.isfinite(mean_pod) and np.isfinite(mean_far):
            cv2.circle(image, px(1 - mean_far, mean_pod), 6, color, -1, cv2.LINE_AA)
            cv2.circle(image, px(1 - mean_far, mean_pod), 6, ink, 1, cv2.LINE_AA)
    for i, name in enumerate(names):
        y = y0 + 56 + 20 * i
        cv2.circle(image, (x0 + 10, y), 6, colors[name], -1, cv2.LINE_AA)
        cv2.circle(image, (x0 + 10, y), 6, ink, 1, cv2.LINE_AA)
        r = results["methods"][name]["mean"]
        csi = r.get(f"csi@{threshold:g}", float("nan"))
        bias = r.get(f"bias@{threshold:g}", float("nan"))
        text(f"{name}: CSI {csi:.3f}, bias {bias:.2f}", (x0 + 24, y))
    return image
