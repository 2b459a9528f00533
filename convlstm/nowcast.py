"""Precipitation nowcasting: skill scores of the paper's radar experiment, and radar pictures.

    python -m convlstm.nowcast --model checkpoints/radar --n 1000 --out results/radar.json

Scores are those of Shi et al. (2015) Table 2 and of operational nowcasting, on rain rates in mm/h:
CSI, POD and FAR (event: value > threshold) at 0.5, 2 and 5 mm/h; the fractions skill score at
1 mm/h over 1, 5, 11 and 21 px neighbourhoods (3.5–75 km at the paper's ≈ 3.5 km pixels);
rainfall MSE in (mm/h)² per pixel; Pearson correlation of the rain rates.

How the three forecasts are made, all from the same input frames:
- ConvLSTM: mm/h → the model's [0, 1] scale (``radar.to_unit``: dBZ / 60), forecast, and back
  with ``radar.from_unit``.
- Optical flow (the analogue of the paper's ROVER) and persistence run on those same [0, 1]
  values, which are dBZ / 60, and are converted back the same way. Tracking and advecting a
  log-scaled field is what pysteps does too (it works in dBR); it keeps the motion estimate from
  being dominated by the few heaviest cores.
So every method sees the same input and is scored on the same conversion; the truth is the
generator's mm/h, untouched.

Each score is computed per frame and then averaged over sequences (per lead time) or over
sequences and lead times (mean), leaving out frames where it is undefined (e.g. CSI at 5 mm/h
when a frame has no such rain and none is forecast).
"""

from __future__ import annotations

import argparse
import json
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

from . import baselines, metrics, radar, render
from .inference import forecast, load_model, predict
from .io import MAX_FILE_BYTES, MAX_FRAMES, MAX_SIDE, MAX_ZIP_UNCOMPRESSED, SequenceError, read_sequence
from .model import EncoderForecaster

THRESHOLDS = (0.5, 2.0, 5.0)  # mm/h: light rain, moderate, heavy (the paper reports 0.5)
FSS_THRESHOLD = 1.0  # mm/h
FSS_SCALES = (1, 5, 11, 21)  # px
STEP_MINUTES = 6  # time between radar frames
METHODS = ("ConvLSTM", "optical flow", "persistence")
UNITS = ("mm/h", "dBZ")
_COLORS = {"ConvLSTM": (214, 39, 40), "optical flow": (31, 119, 180), "persistence": (120, 120, 120)}  # RGB


# --- scores ----------------------------------------------------------------------------------

def score_names() -> list[str]:
    """Keys of a skill dict: 'csi@0.5', 'pod@2', 'far@5', 'fss5@1' (5 px at 1 mm/h), 'rainfall_mse', ..."""
    names = [f"{score}@{t:g}" for t in THRESHOLDS for score in ("csi", "pod", "far")]
    names += [f"fss{s}@{FSS_THRESHOLD:g}" for s in FSS_SCALES]
    return names + ["rainfall_mse", "correlation"]


def per_frame_scores(forecasts_mm_h, truth_mm_h) -> dict[str, np.ndarray]:
    """Every score of ``score_names()`` per frame: arrays (T,) or (N, T) for (T, H, W) or (N, T, H, W)."""
    out = {}
    for t in THRESHOLDS:
        for name, values in metrics.categorical_scores(forecasts_mm_h, truth_mm_h, t).items():
            out[f"{name}@{t:g}"] = values  # one contingency pass per threshold, not three
    for s in FSS_SCALES:
        out[f"fss{s}@{FSS_THRESHOLD:g}"] = metrics.fss(forecasts_mm_h, truth_mm_h, FSS_THRESHOLD, s)
    out["rainfall_mse"] = metrics.rainfall_mse(forecasts_mm_h, truth_mm_h)
    out["correlation"] = metrics.correlation(forecasts_mm_h, truth_mm_h)
    return {name: out[name] for name in score_names()}


def summarize(per_frame: dict[str, np.ndarray]) -> dict:
    """{'per_lead': {score: [value per lead time]}, 'mean': {score: value}}, NaN entries left out."""
    per_lead, mean = {}, {}
    for name, values in per_frame.items():
        values = np.asarray(values, np.float64)
        by_lead = values.reshape(-1, values.shape[-1])  # (N, T)
        per_lead[name] = [metrics.average(by_lead[:, k]) for k in range(by_lead.shape[1])]
        mean[name] = metrics.average(values)
    return {"per_lead": per_lead, "mean": mean}


def skill_scores(forecasts_mm_h, truth_mm_h) -> dict:
    """Scores of a forecast against the truth, both in mm/h, (T, H, W) or (N, T, H, W):
    ``{'per_lead': {name: [value per lead time]}, 'mean': {name: value}}``, names as ``score_names()``."""
    return summarize(per_frame_scores(forecasts_mm_h, truth_mm_h))


# --- forecasts -------------------------------------------------------------------------------

def radar_forecasts(model: EncoderForecaster, sequences_mm_h: np.ndarray, context: int,
                    horizon: int) -> dict[str, np.ndarray]:
    """Forecasts (N, horizon, H, W) in mm/h of the three methods for sequences (N, ≥context, H, W) in mm/h,
    whose frames are the model's size."""
    inputs = np.ascontiguousarray(radar.to_unit(sequences_mm_h[:, :context]), np.float32)
    out = {"ConvLSTM": radar.from_unit(predict(model, inputs, context, horizon)).astype(np.float32)}
    out["optical flow"] = np.stack([radar.from_unit(baselines.optical_flow(s, horizon)) for s in inputs])
    out["persistence"] = np.stack([radar.from_unit(baselines.persistence(s, horizon)) for s in inputs])
    return {name: f.astype(np.float32, copy=False) for name, f in out.items()}


def evaluate_radar(model: EncoderForecaster, sequences_mm_h, context: int = 5, horizon: int = 15,
                   *, chunk: int = 64) -> dict:
    """Skill of ConvLSTM, optical flow and persistence on sequences (N, context + horizon, H, W) in mm/h.

    ``sequences_mm_h`` is one array, worked through ``chunk`` sequences at a time, or an iterable
    of such arrays (so the 800 MB test set can be generated piece by piece). Returns
    {'sequences', 'context', 'horizon', 'step_minutes', 'methods': {name: skill dict}}.
    """
    if isinstance(sequences_mm_h, np.ndarray):
        whole = sequences_mm_h
        sequences_mm_h = (whole[i:i + chunk] for i in range(0, len(whole), chunk))
    per_frame: dict[str, dict[str, list]] = {m: {} for m in METHODS}
    count = 0
    for part in sequences_mm_h:
        part = np.asarray(part, np.float32)
        if part.ndim != 4 or part.shape[1] < context + horizon:
            raise ValueError(f"need sequences (N, ≥{context + horizon}, H, W), got shape {part.shape}")
        truth = part[:, context:context + horizon]
        for method, f in radar_forecasts(model, part, context, horizon).items():
            for name, values in per_frame_scores(f, truth).items():
                per_frame[method].setdefault(name, []).append(values)
        count += len(part)
    if not count:
        raise ValueError("no sequences to evaluate")
    methods = {m: summarize({k: np.concatenate(v) for k, v in scores.items()}) for m, scores in per_frame.items()}
    return {"sequences": count, "context": context, "horizon": horizon, "step_minutes": STEP_MINUTES,
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
    heads = [f"{s} @ {t:g} mm/h" for t in THRESHOLDS[1:] for s in ("CSI ↑", "FAR ↓", "POD ↑")]
    lines += ["", "CSI / FAR / POD at heavier rain (value > threshold):", "",
              "| Model | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for name, r in methods.items():
        m = r["mean"]
        cells = [f"{m[f'{s}@{t:g}']:.3f}" for t in THRESHOLDS[1:] for s in ("csi", "far", "pod")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Fractions skill score at {FSS_THRESHOLD:g} mm/h by neighbourhood (px):", "",
              "| Model | " + " | ".join(f"FSS {s}×{s} ↑" for s in FSS_SCALES) + " |",
              "|---|" + "---|" * len(FSS_SCALES)]
    for name, r in methods.items():
        cells = [f"{r['mean'][f'fss{s}@{FSS_THRESHOLD:g}']:.3f}" for s in FSS_SCALES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    leads = _lead_minutes(results)
    lines += ["", "CSI at 0.5 mm/h by lead time:", "",
              "| Model | " + " | ".join(f"{m} min" for m in leads) + " |", "|---|" + "---|" * len(leads)]
    for name, r in methods.items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in r["per_lead"]["csi@0.5"]) + " |")
    return "\n".join(lines)


def _lead_minutes(results: dict) -> list[int]:
    step = results.get("step_minutes", STEP_MINUTES)
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
    tick = STEP_MINUTES * max(1, round(len(leads) / 8))
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


# --- the app's radar tab ---------------------------------------------------------------------

def radar_comparison(model: EncoderForecaster, frames_mm_h, context: int = 5,
                     horizon: int = 15) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """Forecast one sequence (T, H, W) in mm/h with the three methods.

    The first ``context`` frames (all of them if fewer) are the input; the frames after them,
    up to ``horizon``, are the truth. Returns forecasts {method: (horizon, H, W) mm/h} and skill
    {method: skill dict over the lead times that have a true frame} (empty if none has).
    Frames of any size work: ``convlstm.forecast`` fits them to the model's grid and back.
    """
    frames = np.asarray(frames_mm_h, np.float32)
    if frames.ndim != 3 or min(frames.shape) < 1:
        raise ValueError(f"frames must be (T, H, W), got shape {frames.shape}")
    inputs = radar.to_unit(frames[:context]).astype(np.float32)
    truth = frames[context:context + horizon]
    forecasts = {
        "ConvLSTM": radar.from_unit(forecast(model, inputs, horizon)),
        "optical flow": radar.from_unit(baselines.optical_flow(inputs, horizon)),
        "persistence": radar.from_unit(baselines.persistence(inputs, horizon)),
    }
    forecasts = {name: f.astype(np.float32) for name, f in forecasts.items()}
    skill = {name: skill_scores(f[:len(truth)], truth) for name, f in forecasts.items()} if len(truth) else {}
    return forecasts, skill


def _with_legend(image: np.ndarray) -> np.ndarray:
    """Append the colour legend under a picture (or under every frame of an animation)."""
    legend = radar.legend_image()
    frames = image if image.ndim == 4 else image[None]
    width = max(frames.shape[2], legend.shape[1])
    out = np.full((len(frames), frames.shape[1] + render.PAD + legend.shape[0], width, 3), 255, np.uint8)
    out[:, :frames.shape[1], :frames.shape[2]] = frames
    out[:, frames.shape[1] + render.PAD:, (width - legend.shape[1]) // 2:][:, :, :legend.shape[1]] = legend
    return out if image.ndim == 4 else out[0]


def radar_animation(frames_mm_h, forecasts: dict[str, np.ndarray], context: int = 5, *,
                    scale: int = 2) -> np.ndarray:
    """Colourised side-by-side animation frames, uint8 (T, H', W', 3), legend underneath:
    ground truth | each forecast, every panel the input frames followed by its forecast."""
    frames = np.asarray(frames_mm_h, np.float32)
    inputs = frames[:context]
    horizon = max(len(f) for f in forecasts.values())
    panels = [("ground truth", radar.colorize(frames[:context + horizon]))]
    panels += [(name, radar.colorize(np.concatenate([inputs, f]))) for name, f in forecasts.items()]
    labels = [f"input {t + 1} of {len(inputs)}" for t in range(len(inputs))]
    labels += [f"forecast +{STEP_MINUTES * (k + 1)} min" for k in range(horizon)]
    return _with_legend(render.side_by_side(panels, scale=scale, length=len(labels), frame_labels=labels))


def radar_grid(frames_mm_h, forecasts: dict[str, np.ndarray], context: int = 5, *, every: int = 3,
               scale: int = 2, title: str | None = None) -> np.ndarray:
    """A still picture, uint8 (H, W, 3): rows ground truth and each forecast; columns the last input
    ("now") and every ``every``-th lead time; legend underneath."""
    frames = np.asarray(frames_mm_h, np.float32)
    horizon = max(len(f) for f in forecasts.values())
    leads = list(range(every - 1, horizon, every))
    now = frames[min(context, len(frames)) - 1]
    truth = frames[context:context + horizon]
    truth_cells = [now] + [truth[k] if k < len(truth) else np.zeros_like(now) for k in leads]
    rows = [render.Row("ground truth", radar.colorize(np.stack(truth_cells)))]
    rows += [render.Row(name, radar.colorize(np.stack([now] + [f[k] for k in leads]))) for name, f in forecasts.items()]
    columns = ["now"] + [f"+{STEP_MINUTES * (k + 1)} min" for k in leads]
    return _with_legend(render.frame_grid(rows, column_labels=columns, scale=scale, title=title))


SKILL_COLUMNS = {"CSI ↑": "csi@0.5", "POD ↑": "pod@0.5", "FAR ↓": "far@0.5", "CSI 2 mm/h ↑": "csi@2",
                 "FSS 11 px ↑": "fss11@1", "rain MSE ↓": "rainfall_mse", "corr. ↑": "correlation"}


def skill_table(skill: dict[str, dict]) -> tuple[list[str], list[list]]:
    """Headers and one row per method of the mean scores the app shows (0.5 mm/h unless named)."""
    headers = ["method", *SKILL_COLUMNS]
    return headers, [[name, *(s["mean"][key] for key in SKILL_COLUMNS.values())] for name, s in skill.items()]


def render_radar(frames_mm_h, forecasts: dict[str, np.ndarray], skill: dict[str, dict], folder: Path,
                 context: int) -> dict[str, Path | None]:
    """Write the app's radar pictures into ``folder``: the animation (.webm, or .gif where no WebM
    encoder works), the lead-time grid PNG, and the CSI-by-lead-time plot PNG (None without truth)."""
    folder = Path(folder)
    video = render.write_video(radar_animation(frames_mm_h, forecasts, context), folder / "radar.webm", fps=4)
    grid = render.save_png(radar_grid(frames_mm_h, forecasts, context), folder / "radar_grid.png")
    csi = None
    if skill:
        leads = len(next(iter(skill.values()))["per_lead"]["csi@0.5"])
        results = {"horizon": leads, "step_minutes": STEP_MINUTES, "methods": skill}
        csi = render.save_png(csi_plot(results), folder / "radar_csi.png")
    return {"animation": video, "grid": grid, "csi": csi}


# --- uploads ---------------------------------------------------------------------------------

def read_radar_upload(path, units: str = "mm/h") -> np.ndarray:
    """An uploaded radar sequence → float32 (T, H, W) rain rate in mm/h; raises SequenceError.

    - ``.npy`` / ``.npz``: values in ``units``, "mm/h" (≥ 0) or "dBZ" (converted with
      Marshall–Palmer, ``radar.dbz_to_rain``; -inf means no echo). Layout (T, H, W), or with a
      single channel axis; an .npz holds one array or one named ``frames``.
    - Pictures, GIFs and videos: gray levels, pixel 0–255 ↦ 0–60 dBZ linearly (pixel 0 is dry),
      the same scale the model uses; colour is turned into luminance first, so a colour-coded
      radar picture will not read correctly. ``units`` does not apply to them.
    Frames longer than 512 px are shrunk (area average of mm/h); at most 100 frames are kept.
    """
    if units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, got {units!r}")
    path = Path(path)
    if path.suffix.lower() not in (".npy", ".npz"):
        return radar.from_unit(read_sequence(path)).astype(np.float32)

    name = path.name
    if not path.is_file():
        raise SequenceError(f"{name}: the file can't be found.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SequenceError(f"{name}: is larger than {MAX_FILE_BYTES // 2**20} MB; upload fewer or smaller frames.")
    values = _raw_array(path)
    if values.dtype.kind not in "biuf":
        raise SequenceError(f"{name}: holds {values.dtype} values; radar frames must be numbers.")
    values = values.astype(np.float32)
    if values.ndim == 2:
        values = values[None]  # one frame
    elif values.ndim == 4 and values.shape[1] == 1:
        values = values[:, 0]  # (T, 1, H, W)
    elif values.ndim == 4 and values.shape[3] == 1:
        values = values[..., 0]  # (T, H, W, 1)
    if values.ndim != 3 or min(values.shape) < 1:
        raise SequenceError(f"{name}: an array of shape {values.shape} is not a radar sequence. "
                            "Use (T, H, W): time, rows, columns, one value per pixel.")
    if np.isnan(values).any() or (units == "mm/h" and not np.isfinite(values).all()) or np.isposinf(values).any():
        raise SequenceError(f"{name}: has NaN or infinite values; mark dry pixels with 0 mm/h (or -inf dBZ).")
    if units == "mm/h" and values.min() < 0:
        raise SequenceError(f"{name}: has negative rain rates ({values.min():.3g}); were these dBZ? "
                            "Choose dBZ as the units.")
    if units == "dBZ" and values.max() > 100:
        raise SequenceError(f"{name}: has reflectivities up to {values.max():.3g} dBZ, more than any weather "
                            "radar measures; are these raw counts? Convert them to dBZ or mm/h first.")
    rain = values if units == "mm/h" else radar.dbz_to_rain(values)
    rain = rain[:MAX_FRAMES]
    longest = max(rain.shape[1:])
    if longest > MAX_SIDE:
        size = (round(rain.shape[2] * MAX_SIDE / longest), round(rain.shape[1] * MAX_SIDE / longest))  # (W, H)
        rain = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in rain])
    return np.ascontiguousarray(rain, np.float32)


def _raw_array(path: Path) -> np.ndarray:
    """The numbers in a .npy or .npz as stored (not rescaled), never unpickling."""
    name = path.name
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False)
        with zipfile.ZipFile(path) as archive:  # an .npz is a ZIP: refuse one that would expand too far
            if sum(info.file_size for info in archive.infolist()) > MAX_ZIP_UNCOMPRESSED:
                raise SequenceError(f"{name}: expands to more than {MAX_ZIP_UNCOMPRESSED // 2**20} MB; "
                                    "upload fewer or smaller frames.")
        with np.load(path, allow_pickle=False) as loaded:
            keys = list(loaded.keys())
            if not keys:
                raise SequenceError(f"{name}: holds no arrays. Save the frames with numpy.save.")
            key = keys[0] if len(keys) == 1 else next((k for k in ("frames", "arr_0") if k in keys), None)
            if key is None:
                raise SequenceError(f"{name}: holds several arrays ({', '.join(sorted(keys))}); "
                                    "name the one to use 'frames'.")
            return loaded[key]
    except SequenceError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise SequenceError(f"{name}: is not a NumPy file that can be read safely "
                            f"({' '.join(str(error).split())[:200]}).") from None


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
    # The test set is 800 MB of float32: generate it in pieces. radar() is prefix-stable, so the
    # sequences first..first+chunk of a longer prefix are those of the full set.
    pieces = (radar.radar_evaluation_set("test", n=min(args.n, first + args.chunk))[first:, :context + horizon]
              for first in range(0, args.n, args.chunk))
    results = evaluate_radar(model, pieces, context, horizon)
    results["model"] = str(args.model)
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
