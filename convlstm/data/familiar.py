"""Whether uploaded frames look like what the bundled models learned from, said in plain words: a forecast of
something else is still made, with a warning that it may be nonsense.

    unlike_moving_mnist(frames)   # None, or "the background is not black, ..."
    unlike_rain(rates)            # None, or "the values do not vary smoothly from place to place, ..."

What is measured, and where the lines are drawn (``python -m benchmarks.bench_familiar`` prints the measurements
on the training data, the bundled examples and deliberately foreign inputs, and what each check says of them):

- Moving MNIST (white handwritten digits moving on black; 600 training sequences of 1–3 digits, and the test
  sets): the share of dark pixels (< 0.15) is 0.86–0.99 → below ``MIN_DARK`` the background is not black; the
  share of bright pixels (> 0.5) is 0.008–0.12 → above ``MAX_INK`` too much is bright, below ``MIN_INK`` there is
  almost nothing to follow; the digits move 2.0–5.4 px a frame at 64 px (the median of Farnebäck's optical flow
  over the bright pixels) → below ``MIN_SPEED`` nothing moves as its digits did. Bright discs moving on black
  pass: the checks tell a picture's make-up and motion, not what it shows.
- Synthetic radar (the radar model's training; 200 loops) and the real examples: the correlation of log rain rate
  between neighbouring pixels is 0.87–0.99 → below ``MIN_SMOOTHNESS`` the field does not vary smoothly as rain
  does (noise: 0.0, digits read as radar: 0.70); rain heavier than 50 mm/h is at most 13% of the rain → above
  ``MAX_HEAVY`` it is not rain as radar sees it (digits read as radar: 58%); no pixel above 0.5 mm/h → no rain.
  A smooth gradient passes.
"""

from __future__ import annotations

import cv2
import numpy as np

from .uploads import shrink

MIN_DARK, MIN_INK, MAX_INK, MIN_SPEED = 0.75, 0.005, 0.15, 1.0
DARK, INK = 0.15, 0.5  # gray levels: background below, strokes above
SIDE = 64  # Moving MNIST's frames
MIN_SMOOTHNESS, MAX_HEAVY, HEAVY, WET = 0.8, 0.3, 50.0, 0.5  # rain: mm/h


def moving_mnist_stats(frames: np.ndarray) -> dict[str, float]:
    """Gray frames (T, H, W) in [0, 1] → the shares of dark and bright pixels (medians over frames) and the speed of
    the bright pixels, in pixels a frame at 64 px a side; measured on the frames shrunk to Moving MNIST's 64 px,
    where the lines were drawn (and where optical flow over a 100-frame upload takes milliseconds, not seconds)."""
    f = shrink(np.asarray(frames, np.float32), SIDE)
    dark = float(np.median((f < DARK).mean(axis=(1, 2))))
    ink = float(np.median((f > INK).mean(axis=(1, 2))))
    gray = np.round(np.clip(f, 0, 1) * 255).astype(np.uint8)
    moved = []
    for a, b in zip(gray[:-1], gray[1:], strict=True):
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 9, 3, 5, 1.2, 0)
        moved.append(np.hypot(flow[..., 0], flow[..., 1])[a > INK * 255])
    moved = np.concatenate(moved) if moved else np.empty(0)
    speed = float(np.median(moved)) * SIDE / max(f.shape[1:]) if moved.size else 0.0
    return {"dark": dark, "ink": ink, "speed": speed}


def unlike_moving_mnist(frames: np.ndarray) -> str | None:
    """What sets these frames apart from Moving MNIST, in plain words; None when nothing does."""
    s = moving_mnist_stats(frames)
    said = []
    if s["dark"] < MIN_DARK:
        said.append(f"the background is not black ({s['dark']:.0%} of the picture is dark; its digits leave "
                    "at least 85%)")
    if s["ink"] > MAX_INK:
        said.append(f"{s['ink']:.0%} of the picture is bright (its digits cover at most 12%)")
    elif s["ink"] < MIN_INK:
        said.append("almost nothing bright moves in it")
    elif len(frames) > 1 and s["speed"] < MIN_SPEED:
        said.append(f"hardly anything moves ({s['speed']:.1f} px a frame; its digits move 2–5)")
    return "; ".join(said) or None


def rain_stats(rates: np.ndarray) -> dict[str, float]:
    """Rain rates (T, H, W) mm/h → the wet share (> 0.5 mm/h), the share of the rain heavier than 50 mm/h and the
    correlation of log rain rate between horizontal neighbours."""
    r = np.nan_to_num(np.asarray(rates, np.float32))
    wet = r > WET
    x = np.log1p(np.maximum(r, 0))
    a, b = x[:, :, :-1].ravel(), x[:, :, 1:].ravel()
    smooth = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 1.0
    return {"wet": float(wet.mean()), "heavy": float((r > HEAVY).sum() / max(1, wet.sum())), "smoothness": smooth}


def unlike_rain(rates: np.ndarray) -> str | None:
    """What sets these rain rates (the forecast's input frames) apart from radar rain, in plain words; None when
    nothing does."""
    s = rain_stats(rates)
    if s["wet"] == 0:
        return f"no pixel has rain above {WET} mm/h, so there is nothing to move"
    said = []
    if s["smoothness"] < MIN_SMOOTHNESS:
        said.append("the values do not vary smoothly from place to place as rain does")
    if s["heavy"] > MAX_HEAVY:
        said.append(f"{s['heavy']:.0%} of the rain is heavier than {HEAVY:.0f} mm/h, which radar sees only in "
                    "storm cores")
    return "; ".join(said) or None
