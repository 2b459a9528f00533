"""Sequences per second of the synthetic radar generator (20 × 100 × 100), as a markdown table.

    python -m benchmarks.bench_radar_data [--device cuda] [--threads 1]   (from the repo root)
"""

from __future__ import annotations

import argparse
import time

import torch

from convlstm.data.synthetic_radar import generate_radar


def sequences_per_second(batch: int, device: torch.device, repeats: int) -> float:
    generator = torch.Generator(device=device).manual_seed(0)
    generate_radar(batch, generator=generator, device=device)  # warm-up: allocations, cuFFT plans
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        generate_radar(batch, generator=generator, device=device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="torch device to generate on")
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 64], help="batch sizes to time")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per batch size")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device {device}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}\n")
    print("| batch | sequences/s |\n|---:|---:|")
    for batch in args.batches:
        print(f"| {batch} | {sequences_per_second(batch, device, args.repeats):,.0f} |")


if __name__ == "__main__":
    main()
