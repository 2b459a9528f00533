"""CPU speed of the fused ConvLSTM against a seed-style reference (eight convolutions per step),
and the batch-1 latency of `convlstm.forecast` against the arithmetic floor of this CPU.

    python -m benchmarks.bench_model

Paper sizes: 16×16 grid, 16 input channels (64×64 frames in 4×4 patches), 128-64-64, 5×5.
Prints markdown tables; run it on an otherwise idle machine.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from convlstm import ConvLSTM, forecast, load_model
from convlstm.data import evaluation_set


class EightConvCell(nn.Module):
    """What public seed code does: a separate convolution per gate and source, eager."""

    def __init__(self, c_in, hidden, k):
        super().__init__()
        self.wx = nn.ModuleList(nn.Conv2d(c_in, hidden, k, padding=k // 2) for _ in range(4))
        self.wh = nn.ModuleList(nn.Conv2d(hidden, hidden, k, padding=k // 2, bias=False) for _ in range(4))
        self.peep = nn.Parameter(torch.zeros(3, hidden, 16, 16))

    def forward(self, x, h, c):
        i = torch.sigmoid(self.wx[0](x) + self.wh[0](h) + self.peep[0] * c)
        f = torch.sigmoid(self.wx[1](x) + self.wh[1](h) + self.peep[1] * c)
        c = f * c + i * torch.tanh(self.wx[2](x) + self.wh[2](h))
        o = torch.sigmoid(self.wx[3](x) + self.wh[3](h) + self.peep[2] * c)
        return o * torch.tanh(c), c


class EightConvStack(nn.Module):
    def __init__(self, c_in, hidden, k):
        super().__init__()
        self.cells = nn.ModuleList(EightConvCell(a, b, k) for a, b in zip([c_in, *hidden[:-1]], hidden, strict=True))

    def forward(self, x):
        B, T, _, H, W = x.shape
        states = [(x.new_zeros(B, c.wh[0].out_channels, H, W),) * 2 for c in self.cells]
        outs = []
        for t in range(T):
            inp = x[:, t]
            for k, cell in enumerate(self.cells):
                states[k] = cell(inp, *states[k])
                inp = states[k][0]
            outs.append(inp)
        return torch.stack(outs, 1)


def forward_backward(model, x) -> None:
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out  # ConvLSTM also returns its states
    out.sum().backward()


def timed(calls: dict[str, Callable[[], object]], repeats: int, each: bool = False) -> dict:
    """Median milliseconds per call of each function after a warm-up (``each``: every call's
    milliseconds instead). The functions take turns, so that a busy neighbour on a shared
    machine slows each of them alike."""
    times = {name: [] for name in calls}
    for round in range(repeats + 1):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            if round:  # round 0 is the warm-up
                times[name].append((time.perf_counter() - start) * 1000)
    return times if each else {name: float(np.median(t)) for name, t in times.items()}


def in_inference_mode(fn: Callable[[], object]) -> None:
    # There autocast keeps no bf16 copy of the weights and casts every weight at every step.
    with torch.inference_mode():
        fn()


def worst_relative_error(forecasts: np.ndarray, reference: np.ndarray) -> float:
    """Largest |difference| over each sequence's largest reference value, in the worst sequence."""
    axes = tuple(range(1, reference.ndim))
    return float((np.abs(forecasts - reference).max(axis=axes) / reference.max(axis=axes)).max())


def forecast_flops(model) -> int:
    """Floating-point operations of one 10 → 10 forecast at batch 1 (the convolutions: all but ~0.1 %)."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 10, 1, model.frame_size, model.frame_size), 10)
    return counter.get_total_flops()


def bf16_peak() -> float:
    """The best bf16 GFLOP/s seen on this CPU: a large matrix product, and the model's largest
    convolution at batch 16. No kernel runs faster, so FLOPs / this is a floor on latency.
    The fastest of 10 runs counts: a busy neighbour can only make a run slower."""
    a = torch.randn(2048, 2048, dtype=torch.bfloat16)
    x = torch.randn(16, 144, 16, 16, dtype=torch.bfloat16)
    conv = nn.Conv2d(144, 512, 5, padding=2).to(torch.bfloat16)
    kernels = {"matmul": lambda: a @ a, "convolution": lambda: conv(x)}
    flops = {"matmul": 2 * 2048**3, "convolution": 2 * 16 * 144 * 512 * 25 * 16 * 16}
    with torch.inference_mode():
        fastest = {name: min(ms) for name, ms in timed(kernels, 10, each=True).items()}
    return max(flops[name] / fastest[name] / 1e6 for name in kernels)


def main() -> None:
    hidden = [128, 64, 64]
    fused = ConvLSTM(16, hidden, 5, "spatial", (16, 16))
    reference = EightConvStack(16, hidden, 5)
    models = {"fused (ours)": fused, "eight convolutions": reference}
    rows = []
    for batch in (1, 16):
        x = torch.rand(batch, 10, 16, 16, 16)
        repeats = 15 if batch == 1 else 3
        with torch.inference_mode():
            forward = timed({name: partial(m, x) for name, m in models.items()}, repeats)
        backward = timed({name: partial(forward_backward, m, x) for name, m in models.items()}, repeats)
        rows += [(batch, name, forward[name], backward[name]) for name in models]

    model = load_model(device="cpu")  # the bundled checkpoint: its weights set how bf16 rounding propagates
    sequences = evaluation_set("test", 100)[:, :10]
    precisions = ("fp32", "bf16", "auto")
    calls = {f'precision="{p}"': partial(forecast, model, sequences[0], 10, precision=p) for p in precisions}
    calls['precision="auto" called inside torch.inference_mode'] = partial(in_inference_mode, calls['precision="auto"'])
    latency = timed(calls, 20)
    fp32, bf16 = (np.stack([forecast(model, s, 10, precision=p) for s in sequences]) for p in ("fp32", "bf16"))
    relative = worst_relative_error(bf16, fp32)
    flops = forecast_flops(model)
    peak = bf16_peak()

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| batch | ConvLSTM 128-64-64, 10 steps | forward ms | forward+backward ms |\n|---|---|---|---|")
    for batch, name, fwd, fwd_bwd in rows:
        print(f"| {batch} | {name} | {fwd:.1f} | {fwd_bwd:.1f} |")
    for batch in (1, 16):
        ours, ref = [r for r in rows if r[0] == batch]
        print(f"| {batch} | speed-up of fusion | {ref[2] / ours[2]:.2f}× | {ref[3] / ours[3]:.2f}× |")
    print("\n| convlstm.forecast, 10 → 10, batch 1, the bundled 128-64-64 model | ms |\n|---|---|")
    for name, ms in latency.items():
        print(f"| {name} | {ms:.1f} |")
    print(f"| floor: {flops / 1e9:.1f} GFLOP of convolutions at this CPU's best bf16 rate, "
          f"{peak:.0f} GFLOP/s | {flops / peak / 1e6:.1f} |")
    print(f"\nbf16 against fp32 on {len(sequences)} test sequences: the largest difference is {relative:.2e} "
          "of the sequence's largest value, in the worst sequence")


if __name__ == "__main__":
    main()
