"""Could anything beat this CPU's bf16 floor for a batch-1 forecast? Winograd and int8.

    python -m benchmarks.bench_cpu_alternatives

The direct 5×5 convolutions of a batch-1 forecast already run near this CPU's best bf16 rate
(`bench_model` prints the floor). Two ways could go below it:

- fewer multiplications: Winograd's minimal filtering F(4×4, 5×5) (Lavin & Gray, 2016)
  computes each 4×4 output tile from an 8×8 input tile with 64 multiplications per channel
  pair instead of 400, 6.25× fewer;
- cheaper ones: int8 products (AVX-512 VNNI), with weights rounded per output channel and
  inputs per call.

This script measures both, per gate convolution of the paper-size model and for a whole
forecast of the bundled checkpoint, with how far each moves the output from fp32.
It is an experiment, not part of the package.
"""

from __future__ import annotations

import copy
import os
import platform
import warnings
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.bench_model import timed, worst_relative_error
from convlstm import forecast, load_model
from convlstm.core.cell import ConvLSTMCell
from convlstm.data import evaluation_set

TILE = 4  # output tile: 16×16 grids split into 4×4 tiles exactly
POINTS = (0, 1, -1, 2, -2, 0.5, -0.5)  # plus the point at infinity: the usual well-conditioned choice


def toom_cook(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aᵀ (m×α), G (α×r), Bᵀ (α×α) with y = Aᵀ[(G g) ⊙ (Bᵀ d)] for the correlation
    y_i = Σ_k d_{i+k} g_k, α = m + r - 1 (Lavin & Gray's construction)."""
    alpha = m + r - 1
    points = POINTS[:alpha - 1]
    AT, G = np.zeros((m, alpha)), np.zeros((alpha, r))
    for j, p in enumerate(points):
        AT[:, j] = [p**i for i in range(m)]
        G[j] = [p**k / np.prod([p - q for q in points if q != p]) for k in range(r)]
    AT[-1, -1] = G[-1, -1] = 1  # the point at infinity
    # Bᵀ is then fixed by Σ_j Aᵀ[i,j] G[j,k] Bᵀ[j,l] = [l = i + k]: a small linear system per column.
    system = np.stack([AT[i] * G[:, k] for i in range(m) for k in range(r)])  # (m·r, α)
    targets = np.array([[float(l == i + k) for l in range(alpha)] for i in range(m) for k in range(r)])
    BT = np.linalg.lstsq(system, targets, rcond=None)[0]
    assert np.allclose(system @ BT, targets, atol=1e-9)
    return AT, G, BT


class WinogradConv2d(nn.Module):
    """An odd-kernel, stride-1, "same" nn.Conv2d computed as Winograd F(4×4, k×k); the 64
    transformed-domain products are one batched matrix product in ``dtype``."""

    def __init__(self, conv: nn.Conv2d, dtype: torch.dtype):
        super().__init__()
        r = conv.kernel_size[0]
        AT, G, BT = (torch.from_numpy(a) for a in toom_cook(TILE, r))
        self.r, self.alpha, self.dtype = r, TILE + r - 1, dtype
        weight = conv.weight.detach().double()  # (O, I, r, r)
        U = torch.einsum("xk,oikl,yl->xyoi", G, weight, G)  # (α, α, O, I): G g Gᵀ per channel pair
        self.register_buffer("U", U.flatten(0, 1).to(dtype))  # (α², O, I)
        self.register_buffer("BB", torch.kron(BT, BT).float())  # Bᵀ d B on a flattened tile
        self.register_buffer("AA", torch.kron(AT, AT).float())  # Aᵀ M A on a flattened tile
        self.register_buffer("bias", conv.bias.detach().float()[:, None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        a, p = self.alpha, self.r // 2
        th, tw = -(-H // TILE), -(-W // TILE)
        x = F.pad(x.float(), (p, p + tw * TILE - W, p, p + th * TILE - H))
        d = x.unfold(2, a, TILE).unfold(3, a, TILE)  # (B, C, th, tw, α, α): overlapping input tiles
        d = d.permute(4, 5, 1, 0, 2, 3).reshape(a * a, -1)  # (α², C·B·th·tw)
        V = (self.BB @ d).view(a * a, C, -1).to(self.dtype)  # (α², C, tiles)
        M = torch.bmm(self.U, V).float()  # (α², O, tiles): all the multiplications are here
        O = M.shape[1]
        Y = (self.AA @ M.view(a * a, -1)).view(TILE, TILE, O, B, th, tw)
        Y = Y.permute(3, 2, 4, 0, 5, 1).reshape(B, O, th * TILE, tw * TILE)  # tiles back to a grid
        return Y[:, :, :H, :W] + self.bias


def int8_scale(weight: torch.Tensor) -> torch.Tensor:
    """One scale per output channel: its largest weight becomes ±127."""
    return weight.abs().amax((1, 2, 3)) / 127


class Int8Conv2d(nn.Module):
    """torch's int8 convolution (x86 engine): weights rounded per output channel, the input per
    call, the output per tensor with a range calibrated on ``calibration`` inputs."""

    def __init__(self, conv: nn.Conv2d, calibration: torch.Tensor):
        super().__init__()
        torch.backends.quantized.engine = "x86"
        weight = conv.weight.detach()
        scale = int8_scale(weight)
        zero = torch.zeros(len(scale), dtype=torch.long)
        with warnings.catch_warnings():  # torch's quantized tensors are deprecated (torchao replaces them)
            warnings.simplefilter("ignore")
            self.conv = torch.ao.nn.quantized.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                                                     padding=conv.padding)
            self.conv.set_weight_bias(torch.quantize_per_channel(weight, scale, zero, 0, torch.qint8),
                                      conv.bias.detach())
        self.conv.scale, self.conv.zero_point = float(conv(calibration).abs().max()) / 127, 128

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.quantize_per_tensor(x, float(x.abs().max()) / 127, 128, torch.quint8)).dequantize()


class Int8Rounded(nn.Module):
    """The best any int8 kernel could do: weights and inputs rounded as Int8Conv2d rounds them,
    their products summed exactly (in fp32 here) and the output kept in fp32. Only for accuracy."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        weight = conv.weight.detach()
        scale = int8_scale(weight)[:, None, None, None]
        self.weight, self.bias, self.padding = (weight / scale).round() * scale, conv.bias.detach(), conv.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.abs().max() / 127
        return F.conv2d((x / scale).round() * scale, self.weight, self.bias, padding=self.padding)


def in_bf16(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return conv(x.bfloat16())


def replace_gates(model: nn.Module, make) -> nn.Module:
    model = copy.deepcopy(model)
    for cell in model.modules():
        if isinstance(cell, ConvLSTMCell):
            cell.gates = make(cell.gates)
    return model


def main() -> None:
    torch.manual_seed(0)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| gate convolution, batch 1, 16×16 | method | ms | error |\n|---|---|---|---|")
    for c_in, c_out in ((144, 512), (192, 256), (128, 256)):  # the three layers of 128-64-64
        conv = nn.Conv2d(c_in, c_out, 5, padding=2)
        x = torch.rand(1, c_in, 16, 16) * 2 - 1  # like [X, H]: values in [-1, 1]
        conv_bf16 = copy.deepcopy(conv).to(torch.bfloat16)
        with torch.inference_mode():
            methods = {
                "direct fp32": conv,
                "direct bf16": partial(in_bf16, conv_bf16),
                "Winograd fp32": WinogradConv2d(conv, torch.float32),
                "Winograd bf16": WinogradConv2d(conv, torch.bfloat16),
                "int8": Int8Conv2d(conv, x),
            }
            exact = F.conv2d(x.double(), conv.weight.double(), conv.bias.double(), padding=2)
            times = timed({name: partial(f, x) for name, f in methods.items()}, 30)
            for name, f in methods.items():
                error = ((f(x).double() - exact).abs().max() / exact.abs().max()).item()
                print(f"| {c_in} → {c_out} | {name} | {times[name]:.2f} | {error:.1e} |")

    model = load_model(device="cpu")
    sequences = evaluation_set("test", 20)[:, :10]
    reference = np.stack([forecast(model, s, 10, precision="fp32") for s in sequences])
    timed_variants = {
        "direct, fp32": (model, "fp32"),
        "direct, bf16 autocast (forecast's default here)": (model, "bf16"),
        "Winograd, fp32": (replace_gates(model, partial(WinogradConv2d, dtype=torch.float32)), "fp32"),
        "Winograd, bf16 products": (replace_gates(model, partial(WinogradConv2d, dtype=torch.bfloat16)), "fp32"),
    }
    variants = timed_variants | {
        "int8-rounded weights and inputs, exact products (accuracy only)": (replace_gates(model, Int8Rounded), "fp32"),
    }
    print(f"\n| convlstm.forecast, 10 → 10, batch 1, bundled model | ms | error against fp32, worst of "
          f"{len(sequences)} test sequences |\n|---|---|---|")
    latency = timed({name: partial(forecast, variant, sequences[0], 10, precision=precision)
                     for name, (variant, precision) in timed_variants.items()}, 10)
    for name, (variant, precision) in variants.items():
        predicted = np.stack([forecast(variant, s, 10, precision=precision) for s in sequences])
        ms = f"{latency[name]:.1f}" if name in latency else "–"
        print(f"| {name} | {ms} | {worst_relative_error(predicted, reference):.1e} |")


if __name__ == "__main__":
    main()
