"""Tune the optical-flow baseline's settings on the Moving MNIST validation split.

Tries every combination of flow method (DIS presets, Farnebäck windows), number of past
frames the motion is averaged over, and Gaussian smoothing of the motion field; scores each by
MSE per frame (summed over the 64×64 pixels, averaged over the 10 predicted frames and the
sequences) for 10 → 10 forecasts; prints the table, best first. Only the validation split is
read: the test split stays unseen. The winner's values are the defaults of
``convlstm.scoring.baselines.optical_flow``.

    python -m scripts.tune_optical_flow --n 200      # from the repository root
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from convlstm import data
from convlstm.scoring import baselines, metrics

CONTEXT = 10  # frames 0-9 in, 10-19 to predict


def candidates(flow_frames: list[int], smoothing: list[float]) -> list[dict]:
    estimators = [{"method": "dis", "preset": p} for p in baselines.DIS_PRESETS]
    estimators += [{"method": "farneback", "window": w} for w in (3, 5, 9, 15)]
    return [{**e, "flow_frames": k, "smoothing": s}
            for e, k, s in itertools.product(estimators, flow_frames, smoothing)]


def score(forecaster, inputs: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """(MSE/frame, SSIM, milliseconds per forecast) over all sequences."""
    start = time.perf_counter()
    predicted = np.stack([forecaster(x, truth.shape[1]) for x in inputs])  # (N, 10, H, W)
    ms = (time.perf_counter() - start) / len(inputs) * 1000
    return metrics.average(metrics.mse(predicted, truth)), metrics.average(metrics.ssim(predicted, truth)), ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="number of validation sequences to score on")
    parser.add_argument("--flow-frames", type=int, nargs="+", default=[2, 3],
                        help="values to try for the number of past frames the motion is averaged over")
    parser.add_argument("--smoothing", type=float, nargs="+", default=[0, 1, 2, 4],
                        help="values to try for the Gaussian σ (pixels) that smooths the motion field")
    args = parser.parse_args()

    sequences = data.evaluation_set("val", n=args.n)  # (n, 20, 64, 64)
    inputs, truth = sequences[:, :CONTEXT], sequences[:, CONTEXT:]

    rows = []
    for settings in candidates(args.flow_frames, args.smoothing):
        mse, ssim, ms = score(lambda x, h, s=settings: baselines.optical_flow(x, h, **s), inputs, truth)
        rows.append((mse, ssim, ms, settings))
    persistence = score(baselines.persistence, inputs, truth)

    print(f"Moving MNIST validation split, n = {len(inputs)} sequences, {CONTEXT} → {truth.shape[1]} frames")
    print(f"{'MSE/frame':>9}  {'SSIM':>6}  {'ms':>5}  settings")
    for mse, ssim, ms, settings in sorted(rows, key=lambda r: r[0]):
        print(f"{mse:9.2f}  {ssim:6.4f}  {ms:5.1f}  {settings}")
    print(f"{persistence[0]:9.2f}  {persistence[1]:6.4f}  {persistence[2]:5.1f}  persistence")
    print(f"best: {min(rows, key=lambda r: r[0])[3]}")


if __name__ == "__main__":
    main()
