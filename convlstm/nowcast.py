"""Precipitation nowcasting: the paper's radar experiment, scored as operational nowcasts are.

    python -m convlstm.nowcast --model checkpoints/radar --n 1000 --out results/radar.json

Scores (``convlstm.metrics.rain_scores``) are those of Shi et al. (2015) Table 2 and of
operational nowcasting, on rain rates in mm/h: CSI, POD and FAR (event: value > threshold) at
0.5, 2 and 5 mm/h; the fractions skill score at 1 mm/h over 1, 5, 11 and 21 px neighbourhoods;
rainfall MSE in (mm/h)² per pixel; Pearson correlation of the rain rates. The ConvLSTM, optical
flow and persistence forecasts come from ``convlstm.compare.method_forecasts``: every method sees
the same input, converted the same way (see there); the truth is the generator's mm/h, untouched.

Each score is computed per frame and then averaged over sequences (per lead time) or over
sequences and lead times (mean), leaving out frames where it is undefined (e.g. CSI at 5 mm/h
when a frame has no such rain and none is forecast).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from . import compare, metrics, radar, render
from .inference import device_name, load_model, matching_switched
from .model import EncoderForecaster

METHODS = compare.METHODS
_COLORS = {"ConvLSTM": (214, 39, 40), "optical flow": (31, 119, 180), "persistence": (120, 120, 120)}  # RGB


def evaluate_radar(model: EncoderForecaster, sequences_mm_h, context: int = 5, horizon: int = 15,
                   *, chunk: int = 64, others: dict[str, EncoderForecaster] | None = None) -> dict:
    """Skill of ConvLSTM, optical flow and persistence (and of the ``others`` models, by name) on
    sequences (N, context + horizon, H, W) in mm/h.

    ``sequences_mm_h`` is one array, worked through ``chunk`` sequences at a time, or an iterable
    of such arrays (so the 800 MB test set can be generated piece by piece). Returns
    {'sequences', 'context', 'horizon', 'step_minutes', 'methods': {name: skill dict}}.
    """
    others = others or {}
    if isinstance(sequences_mm_h, np.ndarray):
        whole = sequences_mm_h
        sequences_mm_h = (whole[i:i + chunk] for i in range(0, len(whole), chunk))
    per_frame: dict[str, dict[str, list]] = {m: {} for m in [*METHODS, *others]}
    for m in [model, *others.values()]:
        if m.value_transform != "dbz60":
            raise ValueError(f"a radar model takes rain rates (value_transform 'dbz60'), not {m.value_transform!r}")
    count = 0
    for part in sequences_mm_h:
        part = np.asarray(part, np.float32)
        if part.ndim != 4 or part.shape[1] < context + horizon:
            raise ValueError(f"need sequences (N, ≥{context + horizon}, H, W), got shape {part.shape}")
        truth = part[:, context:context + horizon]
        made = compare.method_forecasts(model, part[:, :context], horizon, others=others)
        for method, f in made.items():
            for name, values in metrics.rain_scores(f, truth).items():
                per_frame[method].setdefault(name, []).append(values)
        count += len(part)
    if not count:
        raise ValueError("no sequences to evaluate")
    methods = {m: metrics.summarize({k: np.concatenate(v) for k, v in scores.items()})
               for m, scores in per_frame.items()}
    return {"sequences": count, "context": context, "horizon": horizon, "step_minutes": model.step_minutes,
            "methods": methods}


# --- reporting -------------------------------------------------------------------------------

def table_like_paper(results: dict) -> str:
    """Markdown tables shaped like Shi et al. (2015) Table 2, then the heavier thresholds, FSS and CSI by lead."""
    methods = results["methods"]
    lines = ["| Model | Rainfall-MSE ↓ | CSI ↑ | FAR ↓ | POD ↑ | Correlation ↑ |", "|---|---|---|---|---|---|"]
    for name, r in methods.items():
        m = r["mean"]
        lines.append(f"| {name} | {m['rainfall_mse']:.3f} | {m['csi@0.5']:.3f} | {m['far@0.5']:.3f} | "
                     f"{m['pod@0.5']:.3f} | {m['correlation']:.3f} |")
    heads = [f"{s} @ {t:g} mm/h" for t in metrics.RAIN_THRESHOLDS[1:] for s in ("CSI ↑", "FAR ↓", "POD ↑")]
    lines += ["", "CSI / FAR / POD at heavier rain (value > threshold):", "",
              "| Model | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for name, r in methods.items():
        m = r["mean"]
        cells = [f"{m[f'{s}@{t:g}']:.3f}" for t in metrics.RAIN_THRESHOLDS[1:] for s in ("csi", "far", "pod")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Fractions skill score at {metrics.FSS_THRESHOLD:g} mm/h by neighbourhood (px):", "",
              "| Model | " + " | ".join(f"FSS {s}×{s} ↑" for s in metrics.FSS_SCALES) + " |",
              "|---|" + "---|" * len(metrics.FSS_SCALES)]
    for name, r in methods.items():
        cells = [f"{r['mean'][f'fss{s}@{metrics.FSS_THRESHOLD:g}']:.3f}" for s in metrics.FSS_SCALES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    leads = _lead_minutes(results)
    lines += ["", "CSI at 0.5 mm/h by lead time:", "",
              "| Model | " + " | ".join(f"{m} min" for m in leads) + " |", "|---|" + "---|" * len(leads)]
    for name, r in methods.items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in r["per_lead"]["csi@0.5"]) + " |")
    return "\n".join(lines)


def _lead_minutes(results: dict) -> list[int]:
    step = results.get("step_minutes", radar.STEP_MINUTES)
    return [step * (k + 1) for k in range(results["horizon"])]


def csi_plot(results: dict, threshold: float = 0.5, *, size: tuple[int, int] = (720, 440)) -> np.ndarray:
    """CSI against lead time (minutes) for each method: uint8 RGB (H, W, 3), drawn with OpenCV."""
    key = f"csi@{threshold:g}"
    width, height = size
    image = np.full((height, width, 3), 255, np.uint8)
    font, ink, grid = cv2.FONT_HERSHEY_SIMPLEX, (0, 0, 0), (225, 225, 225)
    left, right, top, bottom = 70, 20, 45, 60
    x0, x1, y0, y1 = left, width - right, height - bottom, top  # plot box: y0 is the bottom edge
    leads = _lead_minutes(results)
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
    tick = radar.STEP_MINUTES * max(1, round(len(leads) / 8))
    for minutes in range(0, hi + 1, tick):
        x, _ = px(minutes, 0)
        cv2.line(image, (x, y0), (x, y0 + 5), ink, 1)
        text(str(minutes), (x, y0 + 16), align="centre")
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
        color = _COLORS.get(name, (0, 150, 0))
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
        color = _COLORS.get(name, (0, 150, 0))
        cv2.line(image, (bx + 10, y), (bx + 40, y), color, 2, cv2.LINE_AA)
        cv2.circle(image, (bx + 25, y), 3, color, -1, cv2.LINE_AA)
        text(name, (bx + 48, y))
    return image


# --- command line ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m convlstm.nowcast", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="checkpoints/radar", help="radar model folder or Hub repo id")
    p.add_argument("--n", type=int, default=1000, help="score the first N of the 1,000 test sequences")
    p.add_argument("--chunk", type=int, default=64, help="sequences generated and scored at a time (memory)")
    p.add_argument("--device", default=None, help="'cpu', 'cuda', ... (default: CUDA when available)")
    p.add_argument("--out", default="results/radar.json",
                   help="JSON results; the markdown tables (.md) and the CSI plot (.png) go beside it")
    args = p.parse_args(argv)

    model = load_model(args.model, device=args.device)
    context, horizon = model.context_frames, model.horizon
    start = time.perf_counter()
    # The test set is 800 MB of float32: generate and score it a slice at a time.
    pieces = (radar.radar_evaluation_set("test", n=min(args.chunk, args.n - first), first=first)[:, :context + horizon]
              for first in range(0, args.n, args.chunk))
    name, other = matching_switched(model, "ConvLSTM")
    results = evaluate_radar(model, pieces, context, horizon, others={name: other})
    results["model"] = str(args.model)
    results["device"] = device_name(next(model.parameters()).device)
    results["seconds"] = time.perf_counter() - start
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    table = table_like_paper(results)
    out.with_suffix(".md").write_text(f"Radar test set, first {results['sequences']} sequences.\n\n{table}\n")
    render.save_png(csi_plot(results), out.with_suffix(".png"))
    print(table)


if __name__ == "__main__":
    main()
