"""CPU speed of the fused ConvLSTM against a seed-style reference (eight convolutions per step).

    python -m benchmarks.bench_model

Paper sizes: 16×16 grid, 16 input channels (64×64 frames in 4×4 patches), 128-64-64, 5×5.
Prints a markdown table; run it on an otherwise idle machine.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import torch
from torch import nn

from convlstm import ConvLSTM, EncoderForecaster, forecast


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


def top_output(model, x):
    out = model(x)
    return out[0] if isinstance(out, tuple) else out  # ConvLSTM also returns its states


def timed(fn, repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    hidden = [128, 64, 64]
    fused = ConvLSTM(16, hidden, 5, "spatial", (16, 16))
    reference = EightConvStack(16, hidden, 5)
    rows = []
    for batch in (1, 16):
        x = torch.rand(batch, 10, 16, 16, 16)
        repeats = 5 if batch == 1 else 2
        for name, model in (("fused (ours)", fused), ("eight convolutions", reference)):
            with torch.inference_mode():
                fwd = timed(lambda m=model, x=x: m(x), repeats)
            fwd_bwd = timed(lambda m=model, x=x: top_output(m, x).sum().backward(), repeats)
            rows.append((batch, name, fwd, fwd_bwd))

    model = EncoderForecaster().eval()
    frames = np.random.default_rng(0).random((10, 64, 64), dtype=np.float32)
    latency = {p: timed(lambda p=p: forecast(model, frames, 10, precision=p), 5) for p in ("fp32", "bf16", "auto")}
    error = np.abs(forecast(model, frames, 10, precision="bf16") - forecast(model, frames, 10, precision="fp32"))
    relative = error.max() / max(1e-12, np.abs(forecast(model, frames, 10, precision="fp32")).max())

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| batch | ConvLSTM 128-64-64, 10 steps | forward ms | forward+backward ms |\n|---|---|---|---|")
    for batch, name, fwd, fwd_bwd in rows:
        print(f"| {batch} | {name} | {fwd:.1f} | {fwd_bwd:.1f} |")
    for batch in (1, 16):
        ours, ref = [r for r in rows if r[0] == batch]
        print(f"| {batch} | speed-up of fusion | {ref[2] / ours[2]:.2f}× | {ref[3] / ours[3]:.2f}× |")
    print("\n| convlstm.forecast, 10 → 10, batch 1, paper-size model | ms |\n|---|---|")
    for p, ms in latency.items():
        print(f"| precision={p} | {ms:.1f} |")
    print(f"\nbf16 max relative error against fp32: {relative:.2e}")


if __name__ == "__main__":
    main()
