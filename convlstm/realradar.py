"""Real radar composites: nowcasting samples cut from them, and every method scored the same way.

    python -m convlstm.realradar --data ../shared/radar --out results/real_radar.json

Needs pysteps (``pip install -r requirements-dev.txt``): its importers read the files, and its
Lucas–Kanade extrapolation and S-PROG are the field's reference nowcasts, scored beside the
ConvLSTM, our optical flow and persistence.

Samples (``samples``), from each source's 5-minute composites:
1. Rain rate in mm/h with the source's own conversion (pysteps ``to_rainrate``: FMI dBZ with
   Z = 223 R^1.53, KNMI 5-minute accumulations × 12); pixels outside radar coverage are NaN.
2. Block-averaged by the source's factor so that rain moves about 1–3 px a step (FMI 2016-09-28
   and KNMI ×3, FMI 2017-05-09 ×1); a block is covered only if all its pixels are.
3. Start times every ``every`` frames (20 minutes); each sample is 5 frames in, 15 out.
4. Candidate 100×100 windows on a grid of ``stride`` px; a window qualifies when at least
   ``min_coverage`` of its pixels are covered in every one of its 20 frames, and at least
   ``min_wet`` of its pixels exceed ``wet`` mm/h in the last input frame. Up to ``per_start``
   qualifying windows per start time, wettest first, no two sharing more than half their area.
5. The coverage mask (covered in all 20 frames) zeroes uncovered pixels in the inputs, the truth
   and every forecast, so no method is scored where the radar saw nothing.
The rules are deterministic: the same files give the same samples.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import compare, metrics, nowcast, radar, render
from .inference import load_model, matching_switched, probability_matched
from .model import EncoderForecaster

CONTEXT, HORIZON, STEP_MINUTES = 5, 15, 5
SIZE = 100
REFERENCE = "pysteps S-PROG"  # the nowcast to beat; the first model is also scored at its rain amounts


@dataclass(frozen=True)
class Source:
    name: str
    folder: str  # below the data folder
    pattern: str
    importer: str  # "fmi" or "knmi"
    block: int  # block-averaging factor


SOURCES = (
    Source("FMI 2016-09-28 (rain band)", "fmi/pgm/20160928", "*.pgm.gz", "fmi", 3),
    Source("FMI 2017-05-09 (showers)", "fmi/pgm/20170509", "*.pgm.gz", "fmi", 1),
    Source("KNMI 2010-08-26", "KNMI/2010/08", "*.h5", "knmi", 3),
)


@dataclass(frozen=True)
class Sample:
    source: str
    start: int  # index of the first frame in the source's sequence
    top: int
    left: int
    frames: np.ndarray  # (20, 100, 100) mm/h, 0 outside coverage
    mask: np.ndarray  # (100, 100) bool: covered in every frame


def read_source(data: Path, source: Source) -> np.ndarray:
    """A source's composites as rain rate, float32 (T, H, W) mm/h, NaN outside coverage."""
    from pysteps import io as pysteps_io
    from pysteps.utils import conversion

    files = sorted((Path(data) / source.folder).glob(source.pattern))
    if not files:
        raise FileNotFoundError(f"no {source.pattern} files in {Path(data) / source.folder}")
    frames = []
    for path in files:
        if source.importer == "fmi":
            values, _, meta = pysteps_io.import_fmi_pgm(str(path), gzipped=True)
        else:
            values, _, meta = pysteps_io.import_knmi_hdf5(str(path), pixelsize=1000.0)  # as pysteps' pystepsrc
        rain, _ = conversion.to_rainrate(values, meta)
        frames.append(rain.astype(np.float32))
    return np.stack(frames)


def block_average(rain: np.ndarray, factor: int) -> np.ndarray:
    """(T, H, W) → (T, H // factor, W // factor): the mean of each block, NaN unless every pixel is covered."""
    if factor == 1:
        return rain
    T, H, W = rain.shape
    blocks = rain[:, :H - H % factor, :W - W % factor].reshape(T, H // factor, factor, W // factor, factor)
    return blocks.mean(axis=(2, 4))  # a NaN anywhere in a block makes its mean NaN


def samples(rain: np.ndarray, source: str = "", *, every: int = 4, stride: int = 10, per_start: int = 4,
            min_coverage: float = 0.9, min_wet: float = 0.05, wet: float = 0.5) -> list[Sample]:
    """The samples of one source's block-averaged rain (T, H, W), NaN outside coverage (module docstring)."""
    T, H, W = rain.shape
    length = CONTEXT + HORIZON
    out = []
    for start in range(0, T - length + 1, every):
        clip = rain[start:start + length]
        covered = np.isfinite(clip).all(axis=0)  # (H, W)
        last = np.nan_to_num(clip[CONTEXT - 1]) > wet
        candidates = []
        for top in range(0, H - SIZE + 1, stride):
            for left in range(0, W - SIZE + 1, stride):
                window = (slice(top, top + SIZE), slice(left, left + SIZE))
                wet_fraction = last[window].mean()
                if covered[window].mean() >= min_coverage and wet_fraction >= min_wet:
                    candidates.append((-wet_fraction, top, left))
        chosen: list[tuple[int, int]] = []
        for _, top, left in sorted(candidates):  # wettest first; ties by position, so deterministic
            if len(chosen) == per_start:
                break
            if all(abs(top - t) >= SIZE // 2 or abs(left - c) >= SIZE // 2 for t, c in chosen):  # ≤ half shared
                chosen.append((top, left))
        for top, left in chosen:
            mask = covered[top:top + SIZE, left:left + SIZE]
            frames = np.where(mask, np.nan_to_num(clip[:, top:top + SIZE, left:left + SIZE]), 0).astype(np.float32)
            out.append(Sample(source, start, top, left, frames, mask))
    return out


def all_samples(data: Path) -> list[Sample]:
    return [s for source in SOURCES for s in samples(block_average(read_source(data, source), source.block),
                                                      source.name)]


# --- the field's reference nowcasts ---------------------------------------------------------------

def pysteps_forecasts(context_mm_h: np.ndarray, horizon: int) -> dict[str, np.ndarray]:
    """pysteps' Lucas–Kanade motion with semi-Lagrangian extrapolation of the last field, and S-PROG
    (6 cascade levels, AR(2)) on dBR, as in pysteps' own examples; (horizon, H, W) mm/h each."""
    from pysteps import motion, nowcasts
    from pysteps.utils import transformation

    threshold = 0.1  # mm/h: below is no rain, as in pysteps' examples
    db, meta = transformation.dB_transform(context_mm_h, threshold=threshold, zerovalue=-15.0)
    velocity = motion.get_method("LK")(db[-3:])
    extrapolated = nowcasts.get_method("extrapolation")(context_mm_h[-1], velocity, horizon,
                                                        extrap_kwargs={"outval": 0.0})
    sprog = nowcasts.get_method("sprog")(db[-3:], velocity, horizon, n_cascade_levels=6, ar_order=2,
                                         precip_thr=meta["threshold"])
    sprog, _ = transformation.dB_transform(sprog, meta, inverse=True)
    return {name: np.nan_to_num(f, nan=0.0).clip(0, None).astype(np.float32)
            for name, f in (("pysteps LK", extrapolated), ("pysteps S-PROG", sprog))}


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


def with_amounts_of(forecast: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``forecast`` (K, H, W) mm/h given, frame by frame, the values of ``reference`` by rank: where the
    forecast puts rain, with exactly as much of it as the reference has (less only where the forecast is
    dry). Scored beside the reference, it compares placement at the same rain area in every frame, since
    CSI and FAR alone reward a larger or a smaller area. Not a forecast anyone could issue alone."""
    placed = probability_matched(radar.to_unit(forecast)[None], radar.to_unit(reference)[None])[0]
    return radar.from_unit(placed).astype(np.float32)


def evaluate(models: dict[str, EncoderForecaster], all_: list[Sample]) -> dict:
    """Scores of every method on the samples: {'samples', 'horizon', 'step_minutes', 'methods': {name:
    summary}, 'by_source': {source: {'samples', 'methods'}}, 'area_ratio_60min': {name: ratio},
    'cpu_seconds_per_forecast': {name: s}, 'at_reference_amounts': {'model', 'reference', 'methods',
    'by_source'}}; the last scores the first model ``with_amounts_of`` ``REFERENCE``, beside it."""
    if not all_:
        raise ValueError("no samples to evaluate")
    first = next(iter(models))
    per_frame: dict[str, dict[str, dict[str, list]]] = {}
    placed: dict[str, dict[str, list]] = {}  # source → score → values: the first model at the reference's amounts
    wet_area: dict[str, float] = {}
    seconds: dict[str, float] = {}
    lead_60 = 60 // STEP_MINUTES - 1
    for sample in all_:
        truth = sample.frames[CONTEXT:]
        wet_area["truth"] = wet_area.get("truth", 0.0) + float((truth[lead_60] > 0.5).sum())
        made = forecasts(models, sample, seconds)
        for name, f in made.items():
            scores = per_frame.setdefault(sample.source, {}).setdefault(name, {})
            for key, values in metrics.rain_scores(f, truth).items():
                scores.setdefault(key, []).append(values)
            wet_area[name] = wet_area.get(name, 0.0) + float((f[lead_60] > 0.5).sum())
        for key, values in metrics.rain_scores(with_amounts_of(made[first], made[REFERENCE]), truth).items():
            placed.setdefault(sample.source, {}).setdefault(key, []).append(values)

    def pooled(by_source):
        out: dict[str, list] = {}
        for scores in by_source.values():
            for key, values in scores.items():
                out.setdefault(key, []).extend(values)
        return out

    def summarize(scores):
        return metrics.summarize({k: np.stack(v) for k, v in scores.items()})
    names = per_frame[all_[0].source]
    methods = {name: summarize(pooled({source: m[name] for source, m in per_frame.items()})) for name in names}
    by_source = {source: {name: summarize(v) for name, v in m.items()} for source, m in per_frame.items()}
    counts = {source: sum(s.source == source for s in all_) for source in per_frame}
    at_amounts = f"{first} at {REFERENCE}'s rain amounts"
    return {
        "samples": len(all_), "context": CONTEXT, "horizon": HORIZON, "step_minutes": STEP_MINUTES,
        "methods": methods,
        "by_source": {source: {"samples": counts[source], "methods": m} for source, m in by_source.items()},
        "area_ratio_60min": {name: area / max(wet_area["truth"], 1.0) for name, area in wet_area.items()
                             if name != "truth"},
        "cpu_seconds_per_forecast": {name: s / len(all_) for name, s in seconds.items()},
        "at_reference_amounts": {
            "model": first, "reference": REFERENCE,
            "methods": {REFERENCE: methods[REFERENCE], at_amounts: summarize(pooled(placed))},
            "by_source": {source: {REFERENCE: by_source[source][REFERENCE], at_amounts: summarize(scores)}
                          for source, scores in placed.items()},
        },
    }


def summary_table(results: dict) -> str:
    """Markdown: mean CSI/FAR at 0.5 and CSI at 2 mm/h per method, overall and by source; area ratio; speed."""
    lines = ["| method | CSI@0.5 ↑ | FAR@0.5 ↓ | POD@0.5 ↑ | CSI@2 ↑ | FSS 11 px ↑ | wet area at +60 min / truth |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results["methods"].items():
        m = r["mean"]
        lines.append(f"| {name} | {m['csi@0.5']:.3f} | {m['far@0.5']:.3f} | {m['pod@0.5']:.3f} | {m['csi@2']:.3f} "
                     f"| {m['fss11@1']:.3f} | {results['area_ratio_60min'][name]:.2f} |")
    for source, part in results["by_source"].items():
        lines += ["", f"{source}, {part['samples']} samples:", "",
                  "| method | CSI@0.5 ↑ | FAR@0.5 ↓ | CSI@2 ↑ |", "|---|---|---|---|"]
        for name, r in part["methods"].items():
            m = r["mean"]
            lines.append(f"| {name} | {m['csi@0.5']:.3f} | {m['far@0.5']:.3f} | {m['csi@2']:.3f} |")
    same = results.get("at_reference_amounts")
    if same:
        lines += ["", f"At the same rain amounts: every frame of the {same['model']} forecast takes "
                  f"{same['reference']}'s values by rank, so both have the same rain area at every threshold, and "
                  "what differs is where the rain is put:", "",
                  "| samples | method | CSI@0.5 ↑ | FAR@0.5 ↓ | POD@0.5 ↑ | CSI@2 ↑ | FSS 11 px ↑ |",
                  "|---|---|---|---|---|---|---|"]
        for part, by_method in [(f"all {results['samples']}", same["methods"]), *same["by_source"].items()]:
            for name, r in by_method.items():
                m = r["mean"]
                lines.append(f"| {part} | {name} | {m['csi@0.5']:.3f} | {m['far@0.5']:.3f} | {m['pod@0.5']:.3f} "
                             f"| {m['csi@2']:.3f} | {m['fss11@1']:.3f} |")
    lines += ["", "CPU seconds per 15-step forecast of a 100×100 window:", "", "| method | s |", "|---|---|"]
    lines += [f"| {name} | {s:.3f} |" for name, s in results["cpu_seconds_per_forecast"].items()]
    return "\n".join(lines)


def picture(sample: Sample, forecast_by_method: dict[str, np.ndarray], every: int = 3) -> np.ndarray:
    """uint8 RGB: rows truth and each method, columns "now" and every ``every``-th lead time, radar colours."""
    leads = list(range(every - 1, HORIZON, every))
    now = sample.frames[CONTEXT - 1]
    rows = [render.Row("truth", radar.colorize(np.stack([now, *sample.frames[CONTEXT:][leads]])))]
    rows += [render.Row(name, radar.colorize(np.stack([now, *f[leads]]))) for name, f in forecast_by_method.items()]
    labels = ["now"] + [f"+{STEP_MINUTES * (k + 1)} min" for k in leads]
    return render.frame_grid(rows, column_labels=labels, scale=1, title=f"{sample.source}, start frame {sample.start}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m convlstm.realradar", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/radar",
                   help="folder holding fmi/ and KNMI/ as the pysteps example data lays them out")
    p.add_argument("--model", action="append", default=None,
                   help="NAME=FOLDER of a radar checkpoint to score (repeat); default: ConvLSTM=checkpoints/radar")
    p.add_argument("--out", default="results/real_radar.json",
                   help="JSON results; the markdown tables (.md), the CSI plot (.png) and one picture per source "
                        "(_SOURCE.png) go beside it; the first model is also scored with probability matching switched "
                        "the other way (convlstm.inference.probability_matched)")
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
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    table = nowcast.table_like_paper(results) + "\n\n" + summary_table(results)
    out.with_suffix(".md").write_text(f"Real radar, {results['samples']} samples.\n\n{table}\n")
    render.save_png(nowcast.csi_plot(results), out.with_suffix(".png"))
    for source in SOURCES:
        first = next((s for s in all_ if s.source == source.name), None)
        if first is not None:
            slug = source.folder.replace("/", "_")
            render.save_png(picture(first, forecasts(models, first, {})), out.with_name(f"{out.stem}_{slug}.png"))
    print(table)


if __name__ == "__main__":
    main()
