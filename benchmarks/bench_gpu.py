"""Training-step and inference speed on a CUDA GPU (the training step also runs on the CPU, for dry runs).

    python -m benchmarks.bench_gpu [--seconds 3] [--json out.json] [--training-only | --inference-only] \\
        [convlstm.train flags: --init-from checkpoints/moving-mnist --batch-size 16 --loss bce ...]

Training step: one model (the train flags', e.g. the bundled checkpoint) and one set of batches,
stepped by the plain eager loop (``convlstm.commands.step.EagerStep``, as ``train()`` runs it) and by the
CUDA-graph step (``GraphedStep``, ``--cuda-graph``), each with the gate math plain and fused by
torch.compile (``--compile gates``). For each: steps/s and sequences/s, the ratio to the plain
eager step, and model FLOP utilisation: FLOPs per step (forward + backward, counted by
``torch.utils.flop_counter.FlopCounterMode``) × steps/s over the GPU's dense bf16 peak by its name
(H100/H200; other GPUs: unknown). A check runs first: 4 steps on one repeated batch from the same
weights, eager and graphed, must give the same losses (the first shows the warm-up was undone,
the later ones that the replays update the weights). ``recommended`` in the JSON holds the train
flags of the fastest variant that passed. On the CPU only the eager step runs; graphed variants
are reported as needing CUDA.

Inference (CUDA only): batch-1 10 → 10 latency, eager against a CUDA-graph replay, and batch throughput.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import time

import torch

from convlstm import EncoderForecaster
from convlstm.commands.losses import loss_fn
from convlstm.commands.run_control import use_device
from convlstm.commands.schedules import lr_factor, teacher_forcing
from convlstm.commands.step import EagerStep, GraphedStep, make_optimizer
from convlstm.commands.train import make_model, parse_args, with_architecture_of
from convlstm.commands.train_data import make_stream
from convlstm.core.cell import compile_gate_update

# Dense bf16 tensor-core peaks from NVIDIA's datasheets (the sparse figures halved), by device name:
# the first entry found in torch.cuda.get_device_name() wins, so the specific names come first.
PEAK_BF16_DENSE_TFLOPS = (("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H200 NVL", 835.0),
                          ("H100", 989.4), ("H200", 989.4))
VARIANTS = {  # name → (graphed, fused gates, channels-last, the train flags that select it)
    "eager": (False, False, False, []),
    "eager, fused gates": (False, True, False, ["--compile", "gates"]),
    "CUDA graph": (True, False, False, ["--cuda-graph"]),
    "CUDA graph, fused gates": (True, True, False, ["--cuda-graph", "--compile", "gates"]),
    "CUDA graph, fused gates, channels-last": (True, True, True, ["--cuda-graph", "--compile", "gates",
                                                                  "--channels-last"]),
}
CHECK_STEPS = 4
CHECK_FIRST_REL = 1e-2  # same weights, same batch: bf16 arithmetic, possibly other cuDNN algorithms
CHECK_DROP_REL = 0.25  # the loss drop over the check steps, graphed against eager


def peak_tflops(device_name: str) -> float | None:
    for key, tflops in PEAK_BF16_DENSE_TFLOPS:
        if key in device_name:
            return tflops
    return None


def flops_per_step(model: EncoderForecaster, batch: torch.Tensor, config, bf16: bool) -> float:
    """Forward + backward FLOPs of one training step (convolutions; pointwise work is not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = copy.deepcopy(model)
    counter = FlopCounterMode(display=False)
    frames = batch[:, :, None]
    with counter, torch.autocast(batch.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(frames[:, :config.context_frames], config.horizon,
                       targets=frames[:, config.context_frames:], teacher_forcing=0.0)
        loss_fn(logits, frames[:, config.context_frames:], config.loss).backward()
    return float(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_variant(name: str, base: EncoderForecaster, config, batches: list[torch.Tensor], device: torch.device,
                 seconds: float, bf16: bool) -> dict:
    """The check steps (where there is a graph to check), then steps for `seconds`: a result row."""
    graph, fused, channels_last, flags = VARIANTS[name]
    config = dataclasses.replace(config, channels_last=channels_last)
    model = copy.deepcopy(base).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if fused:
        compile_gate_update(model)
    optimizer = make_optimizer(model, config, device, graphed=graph)
    step = GraphedStep(model, optimizer, config, bf16=bf16) if graph else \
        EagerStep(model, model, optimizer, config, bf16=bf16)
    row = {"variant": name, "flags": flags}
    if device.type == "cuda":  # the same batch each time, the peak learning rate: the loss must fall alike
        start = time.perf_counter()
        row["check_losses"] = [float(step(batches[0], config.lr, 0.0)) for _ in range(CHECK_STEPS)]
        row["check_s"] = time.perf_counter() - start  # the first step compiles, autotunes, captures
    # (on the CPU there is nothing to compile or capture: the FLOP count's step was the warm-up)
    lr, teacher = config.lr * lr_factor(0, 0.0, config), teacher_forcing(0.0, config)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 1:
        step(batches[steps % len(batches)], lr, teacher)
        steps += 1
    _sync(device)
    elapsed = time.perf_counter() - start
    row.update(steps=steps, steps_per_s=steps / elapsed, sequences_per_s=steps * len(batches[0]) / elapsed)
    return row


def check(row: dict, eager: dict | None) -> str:
    """'ok', or why a graphed variant's check losses disagree with the eager ones (or 'n/a')."""
    if "check_losses" not in row or eager is None or "check_losses" not in eager:
        return "n/a"
    e, g = eager["check_losses"], row["check_losses"]
    if abs(g[0] - e[0]) > CHECK_FIRST_REL * abs(e[0]):
        return f"first loss {g[0]:.5g} vs eager {e[0]:.5g}"
    drop_e, drop_g = e[0] - e[-1], g[0] - g[-1]
    if drop_e > 0 and abs(drop_g - drop_e) > CHECK_DROP_REL * drop_e:
        return f"loss drop {drop_g:.3g} vs eager {drop_e:.3g}"
    return "ok"


def training_step_speed(config, seconds: float, variants: list[str], extra_batch_sizes: tuple[int, ...] = ()) -> dict:
    device = use_device(config.device)
    bf16 = config.bf16 and device.type == "cuda"
    torch.manual_seed(config.seed)
    base = make_model(config).to(device)
    if config.init_from:
        config = with_architecture_of(config, base)
    stream = make_stream(config, device)
    batches = [next(stream) for _ in range(4)]
    _sync(device)
    start = time.perf_counter()
    for _ in range(8 if device.type == "cuda" else 1):
        next(stream)
    _sync(device)
    data_ms = (time.perf_counter() - start) * 1000 / (8 if device.type == "cuda" else 1)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    peak = peak_tflops(name) if device.type == "cuda" else None
    flops = flops_per_step(base, batches[0], config, bf16)
    rows = []
    for variant in variants:
        graph, fused, _, flags = VARIANTS[variant]
        if device.type != "cuda" and (graph or fused):
            rows.append({"variant": variant, "flags": flags,
                         "error": "needs CUDA" if graph else "skipped on the CPU (compiling takes minutes)"})
            continue
        try:
            rows.append(time_variant(variant, base, config, batches, device, seconds, bf16))
        except Exception as error:  # one variant failing must not hide the others
            rows.append({"variant": variant, "flags": flags, "error": f"{type(error).__name__}: {error}"[:500]})
        print(json.dumps(rows[-1]), flush=True)
    eager = next((r for r in rows if r["variant"] == "eager" and "error" not in r), None)
    for r in rows:
        if "error" in r:
            continue
        r["check"] = check(r, eager)
        r["ratio_to_eager"] = r["steps_per_s"] / eager["steps_per_s"] if eager else None
        r["mfu"] = flops * r["steps_per_s"] / (peak * 1e12) if peak else None
    passed = [r for r in rows if "error" not in r and r["check"] in ("ok", "n/a")]
    best = max(passed, key=lambda r: r["steps_per_s"], default=None)
    by_batch = []  # the fastest passing variant at other batch sizes: what a step costs as the batch grows
    for size in extra_batch_sizes if best else ():
        sized = dataclasses.replace(config, batch_size=size)
        sized_stream = make_stream(sized, device)
        sized_batches = [next(sized_stream) for _ in range(2)]
        try:
            row = time_variant(best["variant"], base, sized, sized_batches, device, seconds / 2, bf16)
            row.pop("check_losses", None)
            row["batch_size"] = size
        except Exception as error:
            row = {"variant": best["variant"], "batch_size": size, "error": f"{type(error).__name__}: {error}"[:500]}
        by_batch.append(row)
        print(json.dumps(row), flush=True)
    for row in by_batch:
        if "error" not in row:
            row["mfu"] = flops * row["batch_size"] / config.batch_size * row["steps_per_s"] / (peak * 1e12) \
                if peak else None
    # The batch size that moves the most sequences a second; a larger batch trains with the learning rate
    # scaled by the square root of the batch ratio (the rule for Adam-type optimizers).
    fastest = max([r for r in by_batch if "error" not in r] + ([best] if best else []),
                  key=lambda r: r["sequences_per_s"], default=None)
    batch = fastest.get("batch_size", config.batch_size) if fastest else config.batch_size
    return {"device": name, "torch": torch.__version__, "batch_size": config.batch_size,
            "parameters": base.num_parameters(), "flops_per_step": flops, "peak_bf16_dense_tflops": peak,
            "data_ms_per_batch": data_ms, "data_chunk": config.data_chunk, "variants": rows,
            "recommended": best["flags"] if best else None, "other_batch_sizes": by_batch,
            "recommended_batch_size": batch, "lr_scale": (batch / config.batch_size) ** 0.5}


def speed_table(result: dict) -> str:
    b = result["batch_size"]
    lines = [f"Training step, {result['device']}, batch {b}, {result['flops_per_step'] / 1e12:.2f} TFLOP per step "
             f"(forward + backward), data {result['data_ms_per_batch']:.1f} ms per batch "
             f"({result['data_chunk']} batches per generator call):", "",
             "| step | steps/s | sequences/s | × eager | MFU (bf16 dense peak) | check |", "|---|---|---|---|---|---|"]
    for r in result["variants"]:
        if "error" in r:
            lines.append(f"| {r['variant']} | {r['error']} | | | | |")
            continue
        ratio = f"{r['ratio_to_eager']:.2f}" if r.get("ratio_to_eager") else "n/a"
        mfu = f"{r['mfu']:.1%}" if r.get("mfu") is not None else "unknown peak"
        lines.append(f"| {r['variant']} | {r['steps_per_s']:.1f} | {r['sequences_per_s']:.0f} | {ratio} | {mfu} | "
                     f"{r['check']} |")
    if result.get("other_batch_sizes"):
        lines += ["", "| the recommended step at batch | steps/s | sequences/s |", "|---|---|---|"]
        best = max((r for r in result["variants"] if r.get("flags") == result["recommended"] and "steps_per_s" in r),
                   key=lambda r: r["steps_per_s"])
        lines.append(f"| {b} | {best['steps_per_s']:.1f} | {best['sequences_per_s']:.0f} |")
        for r in result["other_batch_sizes"]:
            cells = f"{r['steps_per_s']:.1f} | {r['sequences_per_s']:.0f}" if "error" not in r else f"{r['error']} |"
            lines.append(f"| {r['batch_size']} | {cells} |")
    flags = result["recommended"]
    flags = "(none passed)" if flags is None else " ".join(flags) or "(none: the plain eager step)"
    lines += ["", f"recommended train flags: {flags}"]
    return "\n".join(lines)


# --- inference ---------------------------------------------------------------------------------

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


def inference_speed(hidden_channels: list[int]) -> dict:
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True

    def fresh(compiled: bool):
        torch.manual_seed(0)
        model = EncoderForecaster(hidden_channels=hidden_channels).to(device).eval()
        if compiled:
            compile_gate_update(model)
        return model

    inference = {}
    model = fresh(False)
    x1 = torch.rand(1, 10, 1, 64, 64, device=device)
    with torch.inference_mode():
        inference["eager fp32, batch 1"] = latency_ms(lambda: model(x1, 10))
        with torch.autocast("cuda", torch.bfloat16):
            inference["eager bf16, batch 1"] = latency_ms(lambda: model(x1, 10))
    graph, _, _ = cuda_graph(model, x1)
    inference["CUDA graph bf16, batch 1"] = latency_ms(graph.replay)
    fused = fresh(True)
    graph_fused, _, _ = cuda_graph(fused, x1)
    inference["fused gates + CUDA graph bf16, batch 1"] = latency_ms(graph_fused.replay)
    xb = torch.rand(256, 10, 1, 64, 64, device=device)
    graph_b, _, _ = cuda_graph(fused, xb)
    batch_ms = latency_ms(graph_b.replay, repeats=20)
    inference["fused gates + CUDA graph bf16, batch 256"] = batch_ms
    return {"inference_ms": inference, "inference_batch256_seq_per_s": 256 / batch_ms * 1000}


def inference_table(result: dict) -> str:
    lines = ["| inference, 10 → 10 | ms |", "|---|---|"]
    lines += [f"| {name} | {ms:.2f} |" for name, ms in result["inference_ms"].items()]
    lines.append(f"\nbatch 256: {result['inference_batch256_seq_per_s']:.0f} sequences/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_gpu", description=__doc__, allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per training-step variant")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                   help="training-step variants to time")
    p.add_argument("--extra-batch-sizes", type=int, nargs="*", default=[],
                   help="also time the fastest passing variant at these batch sizes (half the seconds each)")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--training-only", action="store_true", help="skip the inference measurements")
    only.add_argument("--inference-only", action="store_true", help="skip the training-step measurements")
    p.add_argument("--json", default=None, help="write the results here")
    args, train_flags = p.parse_known_args(argv)
    config = parse_args(train_flags)

    result = {}
    if not args.inference_only:
        result["training_step"] = training_step_speed(config, args.seconds, args.variants,
                                                      tuple(args.extra_batch_sizes))
    if not args.training_only:
        if torch.cuda.is_available():
            result |= inference_speed(config.hidden_channels)
        else:
            result["inference"] = "needs CUDA"
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    print()
    if "training_step" in result:
        print(speed_table(result["training_step"]))
    if "inference_ms" in result:
        print("\n" + inference_table(result))


if __name__ == "__main__":
    main()
