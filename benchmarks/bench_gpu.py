"""Training and inference speed of the paper-size model on a CUDA GPU.

    python -m benchmarks.bench_gpu [--seconds 4] [--json out.json]

Training: sequences/s of the plain eager loop (bf16 autocast, batch 64) against the fast loop
(fused gate math via torch.compile, larger batch), and the fast loop's model FLOP utilisation.
Inference: batch-1 10 → 10 latency, eager against a CUDA graph replay, and batch throughput.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from convlstm import EncoderForecaster
from convlstm.cell import compile_gate_update

H100_BF16_DENSE_TFLOPS = 989.0  # datasheet, SXM; the bf16 peak MFU is quoted against


def conv_flops_per_sequence(model: EncoderForecaster, context: int, horizon: int) -> float:
    """Multiply-adds ×2 of every gate convolution and the head, forward only."""
    grid = (model.frame_size // model.patch_size) ** 2
    flops = 0.0
    for stack, steps in ((model.encoder, context), (model.forecaster, horizon)):
        for cell in stack.cells:
            w = cell.gates.weight
            flops += steps * 2 * w.numel() * grid
    flops += horizon * 2 * model.head.weight.numel() * grid
    return flops


def train_rate(model, batch: int, seconds: float, channels_last: bool) -> float:
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    data = torch.rand(batch, 20, 1, 64, 64, device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(data[:, :10], 10)
        loss = F.binary_cross_entropy_with_logits(logits.float(), data[:, 10:])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(3):  # warm-up: compilation, cuDNN autotuning
        step()
    torch.cuda.synchronize()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
        if steps % 5 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def latency_ms(fn, repeats: int = 50) -> float:
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1000


def cuda_graph(model, example):
    """Capture one forward pass; replaying it launches every kernel with one call."""
    static_in = example.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.inference_mode(), torch.autocast("cuda", torch.bfloat16,
                                                                            cache_enabled=False):
        for _ in range(3):
            model(static_in, 10)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.inference_mode(), torch.autocast("cuda", torch.bfloat16,
                                                                         cache_enabled=False):
        static_out = model(static_in, 10)
    return graph, static_in, static_out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=4.0, help="timed seconds per training variant")
    p.add_argument("--hidden-channels", type=int, nargs="+", default=[128, 64, 64], help="model layers")
    p.add_argument("--inference-only", action="store_true", help="skip the training-loop measurements")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args()
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")

    def fresh(compiled: bool):
        torch.manual_seed(0)
        model = EncoderForecaster(hidden_channels=args.hidden_channels).to(device)
        if compiled:
            compile_gate_update(model)
        return model

    flops = conv_flops_per_sequence(fresh(False), 10, 10)
    rows = []
    variants = [] if args.inference_only else [
        ("eager, bf16, batch 64", False, 64, False),
        ("eager, bf16, batch 256", False, 256, False),
        ("fused gates, bf16, batch 64", True, 64, False),
        ("fused gates, bf16, batch 256", True, 256, False),
        ("fused gates, bf16, channels_last, batch 256", True, 256, True),
    ]
    for name, compiled, batch, channels_last in variants:
        try:
            rate = train_rate(fresh(compiled).train(), batch, args.seconds, channels_last)
        except Exception as error:  # a variant failing must not hide the others
            print(f"{name}: failed: {type(error).__name__}: {error}")
            continue
        rows.append({"variant": name, "sequences_per_s": rate,
                     "mfu": 3 * flops * rate / (H100_BF16_DENSE_TFLOPS * 1e12)})
        print(rows[-1], flush=True)

    inference = {}
    model = fresh(False).eval()
    x1 = torch.rand(1, 10, 1, 64, 64, device=device)
    with torch.inference_mode():
        inference["eager fp32, batch 1"] = latency_ms(lambda: model(x1, 10))
        with torch.autocast("cuda", torch.bfloat16):
            inference["eager bf16, batch 1"] = latency_ms(lambda: model(x1, 10))
    graph, _, _ = cuda_graph(model, x1)
    inference["CUDA graph bf16, batch 1"] = latency_ms(graph.replay)
    fused = fresh(True).eval()
    graph_fused, _, _ = cuda_graph(fused, x1)
    inference["fused gates + CUDA graph bf16, batch 1"] = latency_ms(graph_fused.replay)
    xb = torch.rand(256, 10, 1, 64, 64, device=device)
    graph_b, _, _ = cuda_graph(fused, xb)
    batch_ms = latency_ms(graph_b.replay, repeats=20)
    inference_rate = 256 / batch_ms * 1000

    print(f"\nGPU: {torch.cuda.get_device_name()}, torch {torch.__version__}; "
          f"model {args.hidden_channels}, {flops / 1e9:.1f} GFLOP per 10→10 forward")
    print("\n| training loop | sequences/s | × eager b64 | MFU (bf16 dense peak) |\n|---|---|---|---|")
    base = rows[0]["sequences_per_s"] if rows and rows[0]["variant"].startswith("eager, bf16, batch 64") else None
    for r in rows:
        ratio = f"{r['sequences_per_s'] / base:.2f}" if base else "n/a"
        print(f"| {r['variant']} | {r['sequences_per_s']:.0f} | {ratio} | {r['mfu']:.1%} |")
    print("\n| inference, 10 → 10 | ms |\n|---|---|")
    for name, ms in inference.items():
        print(f"| {name} | {ms:.2f} |")
    print(f"| fused gates + CUDA graph bf16, batch 256 | {batch_ms:.2f} ({inference_rate:.0f} sequences/s) |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "training": rows,
                       "inference_ms": inference, "inference_batch256_seq_per_s": inference_rate}, f, indent=2)


if __name__ == "__main__":
    main()
