"""Real radar composites: nowcasting samples cut from them, and every method scored the same way.

    python -m convlstm.realradar --data ../shared/radar --out results/real_radar.json

Needs pysteps and h5py (``pip install -r requirements-radar.txt``): pysteps' Lucas–Kanade extrapolation and
S-PROG are the field's reference nowcasts, scored beside the ConvLSTM, our optical flow and persistence; h5py
reads KNMI's files. The samples, and the rules that read and cut them from the composites, are
``convlstm.data.composites``'. Every method is also scored with S-PROG's rain amounts (``with_amounts_of``), so
that CSI and FAR compare where each puts the rain at the same rain area; and each method's frequency bias says
how much rain area it forecasts.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..core.checkpoint import device_name, load_model
from ..core.inference import matching_switched
from ..core.model import EncoderForecaster
from ..data.composites import SOURCES, all_samples
from ..data.radar_windows import CONTEXT, HORIZON, STEP_MINUTES, Sample
from ..scoring import compare, metrics
from ..scoring.compare import at_amounts, lead_label, with_amounts_of
from ..scoring.reference import SPROG, pysteps_forecasts
from ..viz import render
from ..viz.colors import colorize
from ..viz.plots import csi_plot, performance_diagram
from .radar_eval import table_like_paper
from .reports import markdown_table

REFERENCE = SPROG  # the nowcast to beat; every other method is also scored at its rain amounts


# --- evaluation -----------------------------------------------------------------------------------

def forecasts(models: dict[str, EncoderForecaster], sample: Sample, seconds: dict[str, float]) -> dict:
    """Every method's forecast (HORIZON, 100, 100) of one sample, mm/h, zero outside coverage: each
    model, our baselines, then pysteps'; CPU seconds per method are added to ``seconds``."""
    (first, model), *others = models.items()
    timing: dict[str, float] = {}
    made = compare.method_forecasts(model, sample.frames[None, :CONTEXT], HORIZON, others=dict(others),
                                    seconds=timing)
    out = {}
    for method, f in made.items():
        key = first if method == "ConvLSTM" else method
        out[key] = f[0]
        seconds[key] = seconds.get(key, 0.0) + timing[method]
    begin = time.process_time()
    out |= pysteps_forecasts(sample.frames[:CONTEXT], HORIZON)
    seconds["pysteps LK + S-PROG, together"] = (seconds.get("pysteps LK + S-PROG, together", 0.0)
                                                + time.process_time() - begin)
    return {name: np.where(sample.mask, f, 0.0).astype(np.float32) for name, f in out.items()}


def evaluate(models: dict[str, EncoderForecaster], all_: list[Sample]) -> dict:
    """Scores of every method on the samples: {'samples', 'horizon', 'step_minutes', 'methods': {name:
    summary}, 'by_source': {source: {'samples', 'methods'}}, 'area_ratio_60min': {name: ratio},
    'cpu_seconds_per_forecast': {name: s}, 'at_reference_amounts': {'model', 'reference', 'methods',
    'by_source'}}; the last scores every other method ``with_amounts_of`` ``REFERENCE`` (``at_amounts``' names),
    beside the reference as it is. Scores leave out what the radar did not see (each sample's mask)."""
    if not all_:
        raise ValueError("no samples to evaluate")
    per_frame: dict[str, dict[str, dict[str, list]]] = {}  # source → method → score → values
    wet_area: dict[str, float] = {}
    seconds: dict[str, float] = {}
    lead_60 = 60 // STEP_MINUTES - 1

    def add(source: str, name: str, scores: dict) -> None:
        for key, values in scores.items():
            per_frame.setdefault(source, {}).setdefault(name, {}).setdefault(key, []).append(values)
    for sample in all_:
        truth = sample.frames[CONTEXT:]
        wet_area["truth"] = wet_area.get("truth", 0.0) + float((truth[lead_60] > 0.5).sum())
        made = forecasts(models, sample, seconds)
        for name, f in made.items():
            add(sample.source, name, metrics.rain_scores(f, truth, sample.mask))
            wet_area[name] = wet_area.get(name, 0.0) + float((f[lead_60] > 0.5).sum())
        for name, f in made.items():
            if name != REFERENCE:
                add(sample.source, at_amounts(name, REFERENCE),
                    metrics.rain_scores(with_amounts_of(f, made[REFERENCE]), truth, sample.mask))

    def summarize(scores):
        return metrics.summarize({k: np.stack(v) for k, v in scores.items()})

    def pooled(name):
        out: dict[str, list] = {}
        for methods in per_frame.values():
            for key, values in methods[name].items():
                out.setdefault(key, []).extend(values)
        return out
    names = list(per_frame[all_[0].source])
    summaries = {name: summarize(pooled(name)) for name in names}
    by_source = {source: {name: summarize(v) for name, v in m.items()} for source, m in per_frame.items()}
    counts = {source: sum(s.source == source for s in all_) for source in per_frame}
    placed = [name for name in names if name not in wet_area]  # the methods at the reference's amounts

    def at_reference(methods: dict) -> dict:
        return {REFERENCE: methods[REFERENCE], **{name: methods[name] for name in placed}}
    return {
        "samples": len(all_), "context": CONTEXT, "horizon": HORIZON, "step_minutes": STEP_MINUTES,
        "methods": {name: summaries[name] for name in names if name not in placed},
        "by_source": {source: {"samples": counts[source],
                               "methods": {name: m[name] for name in names if name not in placed}}
                      for source, m in by_source.items()},
        "area_ratio_60min": {name: area / max(wet_area["truth"], 1.0) for name, area in wet_area.items()
                             if name != "truth"},
        "cpu_seconds_per_forecast": {name: s / len(all_) for name, s in seconds.items()},
        "at_reference_amounts": {
            "model": next(iter(models)), "reference": REFERENCE, "methods": at_reference(summaries),
            "by_source": {source: at_reference(m) for source, m in by_source.items()},
        },
    }


def summary_table(results: dict) -> str:
    """Markdown: mean CSI/FAR/POD/bias at 0.5 and CSI at 2 mm/h per method, overall and by source; the same at the
    reference's rain amounts; area ratio; speed."""
    def scores(r: dict, keys: tuple[str, ...]) -> list[str]:
        return [f"{r['mean'].get(key, float('nan')):.{2 if key.startswith('bias') else 3}f}" for key in keys]
    full = ("csi@0.5", "far@0.5", "pod@0.5", "bias@0.5", "csi@2", "fss11@1")
    headers = ["CSI@0.5 ↑", "FAR@0.5 ↓", "POD@0.5 ↑", "bias@0.5 (1 best)", "CSI@2 ↑", "FSS 11 px ↑"]
    parts = [markdown_table(["method", *headers, "wet area at +60 min / truth"],
                            [[name, *scores(r, full), f"{results['area_ratio_60min'][name]:.2f}"]
                             for name, r in results["methods"].items()])]
    for source, part in results["by_source"].items():
        parts += [f"{source}, {part['samples']} samples:",
                  markdown_table(["method", "CSI@0.5 ↑", "FAR@0.5 ↓", "bias@0.5", "CSI@2 ↑"],
                                 [[name, *scores(r, ("csi@0.5", "far@0.5", "bias@0.5", "csi@2"))]
                                  for name, r in part["methods"].items()])]
    same = results.get("at_reference_amounts")
    if same:
        parts += [f"At the same rain amounts: every frame of each forecast takes {same['reference']}'s values by rank, "
                  "so all have its rain area at every threshold (its bias), and what differs is where the rain is put:",
                  markdown_table(["samples", "method", *headers],
                                 [[part, name, *scores(r, full)]
                                  for part, by_method in [(f"all {results['samples']}", same["methods"]),
                                                          *same["by_source"].items()]
                                  for name, r in by_method.items()])]
    parts += ["CPU seconds per 15-step forecast of a 100×100 window:",
              markdown_table(["method", "s"],
                             [[name, f"{s:.3f}"] for name, s in results["cpu_seconds_per_forecast"].items()])]
    return "\n\n".join(parts)


def picture(sample: Sample, forecast_by_method: dict[str, np.ndarray], every: int = 3) -> np.ndarray:
    """uint8 RGB: rows truth and each method, columns "now" and every ``every``-th lead time, radar colours."""
    leads = list(range(every - 1, HORIZON, every))
    now = sample.frames[CONTEXT - 1]
    rows = [render.Row("truth", colorize(np.stack([now, *sample.frames[CONTEXT:][leads]])))]
    rows += [render.Row(name, colorize(np.stack([now, *f[leads]]))) for name, f in forecast_by_method.items()]
    labels = ["now"] + [lead_label(k + 1, STEP_MINUTES) for k in leads]
    return render.frame_grid(rows, column_labels=labels, scale=1, title=f"{sample.source}, start frame {sample.start}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m convlstm.realradar", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/radar",
                   help="folder holding fmi/ and KNMI/ as the pysteps example data lays them out")
    p.add_argument("--model", action="append", default=None,
                   help="NAME=FOLDER of a radar checkpoint to score (repeat); default: ConvLSTM=checkpoints/radar")
    p.add_argument("--out", default="results/real_radar.json",
                   help="JSON results; the markdown tables (.md), the CSI plot (.png), the performance diagram "
                        "(_performance.png) and one picture per source (_SOURCE.png) go beside it; the first model is "
                        "also scored with probability matching switched the other way "
                        "(convlstm.inference.probability_matched)")
    args = p.parse_args(argv)

    folders = dict(spec.split("=", 1) for spec in (args.model or ["ConvLSTM=checkpoints/radar"]))
    models = {name: load_model(folder, device="cpu") for name, folder in folders.items()}
    first = next(iter(models))
    name, other = matching_switched(models[first], first)
    models[name] = other
    start = time.perf_counter()
    all_ = all_samples(Path(args.data))
    results = evaluate(models, all_)
    results["models"] = folders
    results["seconds"] = time.perf_counter() - start
    results["device"] = device_name(next(models[first].parameters()).device)  # where the CPU seconds were measured
    results["date"] = f"{datetime.now(timezone.utc):%Y-%m-%d}"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    table = table_like_paper(results) + "\n\n" + summary_table(results)
    out.with_suffix(".md").write_text(f"Real radar, {results['samples']} samples.\n\n{table}\n")
    render.save_png(csi_plot(results), out.with_suffix(".png"))
    render.save_png(performance_diagram(results, title=f"{results['samples']} real radar samples at 0.5 mm/h: "
                                                      "CSI (curves), bias (dashed)"),
                    out.with_name(f"{out.stem}_performance.png"))
    for source in SOURCES:
        first = next((s for s in all_ if s.source == source.name), None)
        if first is not None:
            slug = source.folder.replace("/", "_")
            render.save_png(picture(first, forecasts(models, first, {})), out.with_name(f"{out.stem}_{slug}.png"))
    print(table)


if __name__ == "__main__":
    main()
