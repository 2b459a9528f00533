"""Scores of Moving MNIST forecasters that keep digits sharp, on the fixed test set.

    python benchmarks/bench_sharp_digits.py --n 300 --methods tracking,optical-flow
    python benchmarks/bench_sharp_digits.py --n 3000 --digits 3 --methods tracking --model checkpoints/...

Prints (and with --out writes as JSON) MSE/frame, SSIM and OpenSTL's SSIM, mean and per lead time,
and each method's forecast time per sequence (CPU, one thread: the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from convlstm.commands.evaluate import score
from convlstm.core import objects
from convlstm.core.checkpoint import load_model
from convlstm.core.inference import forecast
from convlstm.data.mnist import CONTEXT, HORIZON, evaluation_set
from convlstm.scoring import baselines


def methods(model_paths: list[str]):
    """Method name → forecast function (N, T, H, W) → (N, horizon, H, W)."""
    found = {
        "tracking": lambda c: objects.forecast_objects(c, HORIZON),
        "tracking-auto-count": lambda c: objects.forecast_objects(c, HORIZON, num_objects=None),
        "tracking-count-more": lambda c: objects.forecast_objects(c, HORIZON, count_more=True),
        "optical-flow": lambda c: np.stack([baselines.optical_flow(s, HORIZON) for s in c]),
        "empty": lambda c: np.zeros((len(c), HORIZON, *c.shape[-2:]), np.float32),
    }
    for spec in model_paths:
        model = loaded(spec)
        found[model_name(spec)] = lambda c, m=model: forecast(m, c, HORIZON, precision="fp32")
    return found


def loaded(spec: str):
    """A checkpoint folder, optionally ":blobs-first" or ":learned" to set an objects model's segmentation."""
    path, _, segmentation = spec.partition(":")
    model = load_model(path, device="cpu")
    if segmentation:
        model.segmentation = segmentation
    return model


def model_name(spec: str) -> str:
    path, _, segmentation = spec.partition(":")
    return Path(path).name + (f" ({segmentation})" if segmentation else "")


def latency(model_paths: list[str], context: np.ndarray) -> dict:
    """Median and mean milliseconds of convlstm.forecast on one sequence at a time (batch 1), per model and
    precision. The models take turns on each sequence, so a load that comes and goes on a shared machine
    weighs on all of them alike."""
    runs = [(model_name(path), loaded(path), precision) for path in model_paths for precision in ("fp32", "auto")]
    for _, model, precision in runs:
        forecast(model, context[0], HORIZON, precision=precision)  # warm-up
    times = {(name, precision): [] for name, _, precision in runs}
    for sequence in context:
        for name, model, precision in runs:
            begin = time.perf_counter()
            forecast(model, sequence, HORIZON, precision=precision)
            times[name, precision].append(1000 * (time.perf_counter() - begin))
    out = {}
    for (name, precision), ms in times.items():
        out[f"{name} {precision}"] = {"median": float(np.median(ms)), "mean": float(np.mean(ms))}
        print(f"latency {name:28s} {precision:5s} median {np.median(ms):6.1f} ms  mean {np.mean(ms):6.1f} ms",
              flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--digits", type=int, default=2)
    p.add_argument("--methods", default="tracking,optical-flow")
    p.add_argument("--model", action="append", default=[], help="a checkpoint folder, scored under its name")
    p.add_argument("--latency", type=int, default=0,
                   help="also time each --model's forecast of one sequence (batch 1) on this many sequences")
    p.add_argument("--touching", action="store_true",
                   help="score only the sequences whose digits' ink never comes apart in the context frames")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    sequences = evaluation_set("test", n=args.n, num_digits=args.digits)
    if args.touching:
        touching = [all(len(objects.blobs(f, None)) < args.digits for f in s[:CONTEXT]) for s in sequences]
        sequences = sequences[np.array(touching)]
        print(f"{len(sequences)} of {args.n} sequences never show their digits apart", flush=True)
    context, truth = sequences[:, :CONTEXT], sequences[:, CONTEXT:CONTEXT + HORIZON]
    available = methods(args.model)
    names = [m for m in args.methods.split(",") if m] + [model_name(m) for m in args.model]
    results = {"sequences": len(sequences), "touching_only": args.touching, "digits": args.digits,
               "threads": torch.get_num_threads(),
               "torch": torch.__version__, "methods": {}}
    for name in names:
        begin = time.perf_counter()
        predicted = available[name](context)
        seconds = time.perf_counter() - begin
        s = score(predicted, truth)
        s["seconds_per_sequence"] = seconds / len(context)
        results["methods"][name] = s
        m = s["mean"]
        print(f"{name:28s} MSE {m['mse']:6.1f}  SSIM {m['ssim']:.3f}  OpenSTL SSIM {m['ssim_openstl']:.3f}  "
              f"{1000 * seconds / len(context):.1f} ms/seq", flush=True)
        print("   MSE by lead ", " ".join(f"{v:5.0f}" for v in s["per_lead"]["mse"]))
        print("   SSIM by lead", " ".join(f"{v:.3f}" for v in s["per_lead"]["ssim"]), flush=True)
    if args.latency:
        results["latency_ms"] = latency(args.model, context[:args.latency])
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
