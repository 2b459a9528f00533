"""Precipitation nowcasting: the paper's radar experiment, scored as operational nowcasts are.

    python -m convlstm.nowcast --model checkpoints/radar --n 1000 --out results/radar.json

Scores (``convlstm.scoring.metrics.rain_scores``) are those of Shi et al. (2015) Table 2 and of
operational nowcasting, on rain rates in mm/h: CSI, POD and FAR (event: value > threshold) at
0.5, 2 and 5 mm/h; the fractions skill score at 1 mm/h over 1, 5, 11 and 21 px neighbourhoods;
rainfall MSE in (mm/h)² per pixel; Pearson correlation of the rain rates. The ConvLSTM, optical
flow and persistence forecasts come from ``convlstm.scoring.compare.method_forecasts``: every method sees
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

import numpy as np

from ..core.checkpoint import device_name, load_model
from ..core.inference import matching_switched
from ..core.model import EncoderForecaster
from ..core.values import RAIN
from ..data import synthetic_radar
from ..scoring import compare, metrics
from ..scoring.compare import lead_label
from ..viz import render
from ..viz.plots import csi_plot
from .reports import markdown_table

METHODS = compare.METHODS


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
        if m.scale != RAIN:
            raise ValueError(f"a radar model takes rain rates (value_transform 'dbz60'), not {m.scale.units}")
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
    methods = {name: r["mean"] for name, r in results["methods"].items()}
    paper = markdown_table(
        ["Model", "Rainfall-MSE ↓", "CSI ↑", "FAR ↓", "POD ↑", "Correlation ↑"],
        [[name, *(f"{m[key]:.3f}" for key in ("rainfall_mse", "csi@0.5", "far@0.5", "pod@0.5", "correlation"))]
         for name, m in methods.items()])
    heavier = [(score, threshold) for threshold in metrics.RAIN_THRESHOLDS[1:] for score in ("csi", "far", "pod")]
    arrows = {"csi": "CSI ↑", "far": "FAR ↓", "pod": "POD ↑"}
    heavy = markdown_table(["Model", *(f"{arrows[s]} @ {t:g} mm/h" for s, t in heavier)],
                           [[name, *(f"{m[f'{s}@{t:g}']:.3f}" for s, t in heavier)] for name, m in methods.items()])
    fss = markdown_table(["Model", *(f"FSS {s}×{s} ↑" for s in metrics.FSS_SCALES)],
                         [[name, *(f"{m[f'fss{s}@{metrics.FSS_THRESHOLD:g}']:.3f}" for s in metrics.FSS_SCALES)]
                          for name, m in methods.items()])
    step = results["step_minutes"]
    leads = markdown_table(["Model", *(lead_label(k + 1, step) for k in range(results["horizon"]))],
                           [[name, *(f"{v:.2f}" for v in r["per_lead"]["csi@0.5"])]
                            for name, r in results["methods"].items()])
    return "\n\n".join([paper, "CSI / FAR / POD at heavier rain (value > threshold):", heavy,
                        f"Fractions skill score at {metrics.FSS_THRESHOLD:g} mm/h by neighbourhood (px):", fss,
                        "CSI at 0.5 mm/h by lead time:", leads])


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
    pieces = (synthetic_radar.radar_evaluation_set("test", n=min(args.chunk, args.n - first), first=first)
              [:, :context + horizon] for first in range(0, args.n, args.chunk))
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
