"""Score a model and the classical baselines on a fixed test set.

    python -m convlstm.evaluate --model checkpoints/moving-mnist
    python -m convlstm.evaluate --model ORG/NAME --digits 3     # the paper's generalization test

Moving MNIST: the fixed test set (3,000 sequences from held-out digits), MSE/MAE/SSIM/PSNR per
frame in OpenSTL units and the paper's cross-entropy per sequence, per lead time and mean; SSIM
also as OpenSTL computes it (``ssim_openstl``: 7×7 uniform window, data range 2), for its tables.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..core.checkpoint import device_name, load_model
from ..core.inference import forecast
from ..core.model import EncoderForecaster
from ..scoring import metrics
from ..scoring.compare import lead_label, method_forecasts
from .reports import markdown_table as markdown_table_of

PIXEL_METRICS = ("mse", "mae", "ssim", "ssim_openstl", "psnr")


def score(forecasts: np.ndarray, truth: np.ndarray) -> dict:
    """Per-lead-time and mean pixel scores, plus the paper's cross-entropy per sequence."""
    per_frame = metrics.scores(forecasts, truth) | {"ssim_openstl": metrics.ssim_openstl(forecasts, truth)}
    result = metrics.summarize({name: per_frame[name] for name in PIXEL_METRICS})  # each (N, horizon)
    result["mean"]["ce_per_sequence"] = float(metrics.bce_per_sequence(forecasts, truth).mean())
    return result


def evaluate(model: EncoderForecaster, sequences: np.ndarray, *, context: int, horizon: int,
             with_baselines: bool = True, precision: str = "auto") -> dict:
    """Scores of the model (and the baselines) on sequences (N, context + horizon, H, W) in [0, 1]."""
    truth = sequences[:, context:context + horizon]
    if truth.shape[1] != horizon:
        raise ValueError(f"sequences have {sequences.shape[1]} frames; need {context} + {horizon}")
    if with_baselines:
        forecasts = method_forecasts(model, sequences[:, :context], horizon, precision=precision)
    else:
        forecasts = {"ConvLSTM": forecast(model, sequences[:, :context], horizon, precision=precision)}
    return {"sequences": len(sequences), "context": context, "horizon": horizon,
            "methods": {name: score(f, truth) for name, f in forecasts.items()}}


def markdown_table(results: dict) -> str:
    """The mean scores of every method, then MSE/frame by lead time."""
    methods = results["methods"]

    def openstl(mean: dict) -> str:
        return f"{mean['ssim_openstl']:.3f}" if "ssim_openstl" in mean else "–"  # results from before it existed
    means = markdown_table_of(
        ["method", "MSE/frame ↓", "MAE/frame ↓", "SSIM ↑", "SSIM (OpenSTL) ↑", "PSNR ↑", "CE/sequence ↓"],
        [[name, f"{m['mse']:.1f}", f"{m['mae']:.1f}", f"{m['ssim']:.3f}", openstl(m), f"{m['psnr']:.2f}",
          f"{m['ce_per_sequence']:.0f}"] for name, m in ((name, r["mean"]) for name, r in methods.items())])
    by_lead = markdown_table_of(["method", *(lead_label(k + 1) for k in range(results["horizon"]))],
                                [[name, *(f"{v:.0f}" for v in r["per_lead"]["mse"])] for name, r in methods.items()])
    return f"{means}\n\nMSE/frame by lead time:\n\n{by_lead}"


def default_out(model: str | None, digits: int, sequences: str | None) -> Path | None:
    """Where results go without --out: beside a model folder's weights; nowhere for the bundled
    checkpoint or a Hub repo (their files are not this run's to overwrite)."""
    if model is None or not Path(model).is_dir():
        return None
    name = f"evaluation_{Path(sequences).stem}" if sequences else "evaluation" if digits == 2 else \
        f"evaluation_{digits}digits"
    return Path(model) / f"{name}.json"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m convlstm.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="model folder or Hub repo id (default: the bundled checkpoint)")
    p.add_argument("--revision", default=None, help="Hub revision (branch, tag or commit)")
    p.add_argument("--digits", type=int, default=2, help="digits per sequence (3 = generalization test)")
    p.add_argument("--n", type=int, default=None, help="use only the first N test sequences (default: all)")
    p.add_argument("--sequences", default=None,
                   help="evaluate on an mnist_test_seq.npy-style file instead of the generated test set")
    p.add_argument("--no-baselines", action="store_true", help="score the model only")
    p.add_argument("--device", default=None, help="'cpu', 'cuda', ... (default: CUDA when available)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="the model's arithmetic: auto = bf16 where the hardware has it, as the app uses")
    p.add_argument("--out", default=None,
                   help="write the results as JSON here (and a .md table beside it); default: for a model folder, "
                        "evaluation.json in it (evaluation_3digits.json for --digits 3, evaluation_NAME.json for "
                        "--sequences NAME.npy), where the model card and the app's model panel read them")
    args = p.parse_args(argv)

    from ..data.mnist import evaluation_set, load_sequences

    model = load_model(args.model, revision=args.revision, device=args.device)
    if args.sequences:
        sequences = load_sequences(args.sequences)[: args.n]
    else:
        sequences = evaluation_set("test", n=args.n, num_digits=args.digits)
    results = evaluate(model, sequences, context=model.context_frames, horizon=model.horizon,
                       with_baselines=not args.no_baselines, precision=args.precision)
    results["model"] = str(args.model or "bundled default")
    results["digits"] = args.digits
    results["precision"] = args.precision
    results["device"] = device_name(next(model.parameters()).device)
    table = markdown_table(results)
    out = args.out or default_out(args.model, args.digits, args.sequences)
    if out:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        out.with_suffix(".md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
