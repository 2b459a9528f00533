"""Pictures of Moving MNIST forecasts against the truth: one PNG per test sequence.

    python scripts/sharp_digits_pictures.py --model checkpoints/moving-mnist-objects --index 0 5 17 --out artifacts

Rows: the context, the truth, then each model (--model, --other) and the classical per-object
tracking and optical-flow forecasts; columns: the 10 context frames, then lead times +1..+10.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from convlstm.core.checkpoint import load_model
from convlstm.core.inference import forecast
from convlstm.core.objects import forecast_objects
from convlstm.data.mnist import CONTEXT, HORIZON, evaluation_set
from convlstm.scoring import baselines, metrics
from convlstm.viz.render import frame_grid, save_png


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="a checkpoint folder (repeatable)")
    p.add_argument("--index", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--digits", type=int, default=2)
    p.add_argument("--out", default="artifacts")
    args = p.parse_args()
    torch.set_num_threads(1)
    sequences = evaluation_set("test", n=max(args.index) + 1, num_digits=args.digits)[args.index]
    context, truth = sequences[:, :CONTEXT], sequences[:, CONTEXT:CONTEXT + HORIZON]
    rows = {Path(m).name: forecast(load_model(m, device="cpu"), context, HORIZON, precision="fp32") for m in args.model}
    rows["per-object tracking"] = forecast_objects(context, HORIZON)
    rows["optical flow"] = np.stack([baselines.optical_flow(s, HORIZON) for s in context])
    blank = np.zeros_like(context[0])
    Path(args.out).mkdir(parents=True, exist_ok=True)
    labels = [f"in {t + 1}" for t in range(CONTEXT)] + [f"+{k + 1}" for k in range(HORIZON)]
    for n, index in enumerate(args.index):
        grid = [("context | truth", np.concatenate([context[n], truth[n]]))]
        for name, predicted in rows.items():
            ssim = metrics.ssim(predicted[n], truth[n]).mean()
            mse = metrics.mse(predicted[n], truth[n]).mean()
            grid.append((f"{name} (SSIM {ssim:.2f}, MSE {mse:.0f})", np.concatenate([blank, predicted[n]])))
        image = frame_grid(grid, column_labels=labels, scale=2,
                           title=f"Moving MNIST test sequence {index} ({args.digits} digits)")
        path = save_png(image, Path(args.out) / f"sharp_digits_test{index}_{args.digits}digits.png")
        print(path)


if __name__ == "__main__":
    main()
