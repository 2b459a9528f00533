"""CPU speed of the Moving MNIST generator, and its share of a training step.

    python -m benchmarks.bench_data [--threads N]     (from the repository root)

20 frames of 64×64, 2 digits from the train bank. The share is generation time / (generation +
one forward + backward of the default EncoderForecaster on a batch of 16, 10 → 10, fp32).
Prints a markdown table. Timings on a shared machine are noisy: the median of several runs is
reported, with the best run beside it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from convlstm import EncoderForecaster
from convlstm.data import MovingMNISTStream


def timings(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per batch size")
    parser.add_argument("--step-repeats", type=int, default=1, help="timed training steps (10–60 s each on 2 cores)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}\n")
    print("| batch | sequences/s (median) | sequences/s (best) | ms per batch (median) |")
    print("|---:|---:|---:|---:|")
    per_batch = {}
    for batch in (16, 64, 256):
        stream = MovingMNISTStream(batch, seed=0)
        times = timings(lambda s=stream: next(s), args.repeats)
        per_batch[batch] = statistics.median(times)
        print(f"| {batch} | {batch / per_batch[batch]:,.0f} | {batch / min(times):,.0f} "
              f"| {1000 * per_batch[batch]:.1f} |")

    model = EncoderForecaster()
    batch = next(MovingMNISTStream(16, seed=1))[:, :, None]  # (16, 20, 1, 64, 64)

    def step():
        logits = model(batch[:, :10], horizon=10)
        F.binary_cross_entropy_with_logits(logits, batch[:, 10:]).backward()

    step_time = statistics.median(timings(step, args.step_repeats))
    share = per_batch[16] / (per_batch[16] + step_time)
    print(f"\nTraining step (EncoderForecaster 128-64-64, batch 16, 10 → 10, fp32 forward + backward): "
          f"{1000 * step_time:.0f} ms; generating its batch takes {1000 * per_batch[16]:.1f} ms = "
          f"{100 * share:.2f}% of generation + step.")


if __name__ == "__main__":
    main()
