"""Train an EncoderForecaster on sequences generated on the fly.

    python -m convlstm.train --out runs/mnist --max-minutes 10
    torchrun --nproc_per_node 2 -m convlstm.train ...   # DistributedDataParallel

The schedule (warm-up then cosine, and scheduled sampling) follows training *progress*, the
larger of steps/--max-steps and minutes/--max-minutes, so a wall-clock budget gets a whole
schedule. Each rank streams its own sequences; rank 0 evaluates, logs and saves.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from . import metrics
from .cell import compile_gate_update
from .inference import load_model, predict
from .model import EncoderForecaster

DATASETS = ("moving-mnist", "radar")


@dataclass
class TrainConfig:
    out: str = "runs/moving-mnist"
    dataset: str = "moving-mnist"
    # model
    hidden_channels: list[int] = field(default_factory=lambda: [128, 64, 64])
    kernel_size: int = 5
    patch_size: int = 4
    peephole: str = "spatial"
    autoregressive: bool = False
    context_frames: int = 10
    horizon: int = 10
    init_from: str | None = None
    # data
    num_digits: int = 2
    # optimisation
    loss: str = "bce"
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 16
    max_steps: int = 20_000
    max_minutes: float | None = None
    warmup_steps: int = 100
    min_lr_ratio: float = 0.02
    grad_clip: float = 1.0
    teacher_forcing_until: float = 0.5  # scheduled sampling: truth-feeding decays to 0 by this progress
    # evaluation and logging
    eval_every: int = 500
    eval_sequences: int = 500
    log_every: int = 25
    seed: int = 0
    # speed
    device: str = "auto"
    bf16: bool = True
    compile: str = "none"
    channels_last: bool = False
    save_dtype: str = "float32"
    progress_bar: bool = True


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    d = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m convlstm.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=d.out, help="output folder: best/ checkpoint, log.jsonl, metrics.json")
    p.add_argument("--dataset", choices=DATASETS, default=d.dataset, help="what to train on")
    p.add_argument("--hidden-channels", type=int, nargs="+", default=d.hidden_channels,
                   help="hidden channels per ConvLSTM layer, e.g. 128 64 64")
    p.add_argument("--kernel-size", type=int, default=d.kernel_size, help="odd convolution kernel size")
    p.add_argument("--patch-size", type=int, default=d.patch_size, help="space-to-depth patch size")
    p.add_argument("--peephole", choices=["spatial", "channel", "none"], default=d.peephole,
                   help="peephole weights: per location (paper), per channel, or none")
    p.add_argument("--autoregressive", action="store_true",
                   help="the forecaster reads its previous prediction (with scheduled sampling)")
    p.add_argument("--context-frames", type=int, default=d.context_frames, help="input frames per sequence")
    p.add_argument("--horizon", type=int, default=d.horizon, help="frames to predict")
    p.add_argument("--init-from", default=d.init_from, help="start from this checkpoint (folder or Hub id)")
    p.add_argument("--num-digits", type=int, default=d.num_digits, help="digits per Moving MNIST sequence")
    p.add_argument("--loss", choices=["bce", "mse"], default=d.loss,
                   help="per-pixel binary cross-entropy on logits (paper) or MSE on probabilities")
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate (AdamW)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="AdamW weight decay")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="sequences per step per process")
    p.add_argument("--max-steps", type=int, default=d.max_steps, help="stop after this many steps")
    p.add_argument("--max-minutes", type=float, default=d.max_minutes,
                   help="stop after this many minutes of training; the schedule is sized to it")
    p.add_argument("--warmup-steps", type=int, default=d.warmup_steps, help="linear learning-rate warm-up")
    p.add_argument("--min-lr-ratio", type=float, default=d.min_lr_ratio, help="final lr as a fraction of --lr")
    p.add_argument("--grad-clip", type=float, default=d.grad_clip, help="clip the gradient norm to this")
    p.add_argument("--teacher-forcing-until", type=float, default=d.teacher_forcing_until,
                   help="autoregressive only: feed true frames with probability falling from 1 to 0 "
                        "by this fraction of training")
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="validate every this many steps")
    p.add_argument("--eval-sequences", type=int, default=d.eval_sequences,
                   help="validation sequences (fixed validation split)")
    p.add_argument("--log-every", type=int, default=d.log_every, help="log every this many steps")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for weights and the data stream")
    p.add_argument("--device", default=d.device, help="'auto', 'cpu', 'cuda', 'cuda:1', ...")
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="disable bf16 autocast on CUDA")
    p.add_argument("--compile", choices=["none", "gates", "model"], default=d.compile,
                   help="torch.compile the cells' pointwise gate math (fast to compile), or the whole model")
    p.add_argument("--channels-last", action="store_true", help="channels_last memory format (CUDA)")
    p.add_argument("--save-dtype", choices=["float32", "float16"], default=d.save_dtype,
                   help="dtype of the saved weights (float16 halves the file)")
    p.add_argument("--no-progress-bar", dest="progress_bar", action="store_false", help="plain log lines only")
    return TrainConfig(**vars(p.parse_args(argv)))


def make_model(config: TrainConfig) -> EncoderForecaster:
    if config.init_from:
        return load_model(config.init_from, device="cpu")
    frame_size = 100 if config.dataset == "radar" else 64
    return EncoderForecaster(
        frame_size=frame_size, patch_size=config.patch_size, hidden_channels=config.hidden_channels,
        kernel_size=config.kernel_size, peephole=config.peephole, autoregressive=config.autoregressive,
        context_frames=config.context_frames, horizon=config.horizon,
    )


def make_data(config: TrainConfig, device: torch.device, rank: int):
    """A stream of training batches (B, T, H, W) on `device`, and the fixed validation set (numpy)."""
    frames = config.context_frames + config.horizon
    if config.dataset == "radar":
        from .radar import RadarStream, radar_evaluation_set, to_unit

        stream = RadarStream(config.batch_size, seed=config.seed + 1000 * rank, frames=frames, device=device)
        val = to_unit(radar_evaluation_set("val", n=config.eval_sequences))[:, :frames]
    else:
        from .data import MovingMNISTStream, evaluation_set

        stream = MovingMNISTStream(config.batch_size, seed=config.seed + 1000 * rank, split="train",
                                   num_digits=config.num_digits, frames=frames, device=device)
        val = evaluation_set("val", n=config.eval_sequences, num_digits=config.num_digits)[:, :frames]
    return stream, np.ascontiguousarray(val, dtype=np.float32)


def lr_factor(step: int, progress: float, config: TrainConfig) -> float:
    warmup = min(1.0, (step + 1) / max(1, config.warmup_steps))
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return warmup * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


def loss_fn(logits: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
    logits = logits.float()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, targets)
    return F.mse_loss(torch.sigmoid(logits), targets)


def validate(model: EncoderForecaster, val: np.ndarray, config: TrainConfig, bf16: bool) -> dict:
    was_training = model.training
    model.eval()
    truth = val[:, config.context_frames:config.context_frames + config.horizon]
    pred = predict(model, val, config.context_frames, config.horizon, bf16=bf16)
    model.train(was_training)
    return {"val_mse": float(metrics.mse(pred, truth).mean()),
            "val_bce": float(metrics.bce(pred, truth).sum(-1).mean())}


def save(model: EncoderForecaster, folder: Path, config: TrainConfig, record: dict) -> None:
    model.save_pretrained(folder)
    if config.save_dtype == "float16":  # load_model casts back to float32
        weights = folder / "model.safetensors"
        save_file({k: v.half() for k, v in load_file(weights).items()}, weights, metadata={"format": "pt"})
    (folder / "training.json").write_text(json.dumps({"config": dataclasses.asdict(config), **record}, indent=2))


def train(config: TrainConfig) -> dict:
    """Run training; returns the best validation record (rank 0) or {} (other ranks)."""
    # --- set-up: processes, device, model, data
    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() and config.device != "cpu" else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    if config.device == "auto":
        device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available()
                              else "cpu")
    else:
        device = torch.device(config.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(config.seed)
    bf16 = config.bf16 and device.type == "cuda"

    model = make_model(config).to(device).train()
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if config.compile == "gates":
        compile_gate_update(model)
    elif config.compile == "model":
        model.compile(dynamic=False)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                  fused=device.type == "cuda")
    stream, val = make_data(config, device, rank)

    out = Path(config.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        log = (out / "log.jsonl").open("w")
        bar = ProgressBar(config)
    best: dict = {}
    step, seen, start = 0, 0, time.perf_counter()
    window_start, window_seen = start, 0
    budget = config.max_minutes * 60 if config.max_minutes else math.inf

    while True:
        # --- progress, shared by every rank so their schedules stay identical
        progress = max(step / config.max_steps, (time.perf_counter() - start) / budget)
        if distributed:
            shared = torch.tensor([progress], device=device)
            dist.broadcast(shared, 0)
            progress = float(shared)
        done = progress >= 1

        # --- evaluate and checkpoint (rank 0)
        if rank == 0 and (done or (step > 0 and step % config.eval_every == 0)):
            record = {"step": step, "sequences": seen * world,
                      "minutes": (time.perf_counter() - start) / 60, **validate(model, val, config, bf16)}
            log.write(json.dumps({"event": "eval", **record}) + "\n")
            log.flush()
            if not best or record["val_mse"] < best["val_mse"]:
                best = record
                save(model, out / "best", config, record)
            bar.write(f"step {step}: val MSE/frame {record['val_mse']:.1f}, val BCE/seq {record['val_bce']:.0f}")
        if done:
            break

        # --- learning rate and scheduled sampling
        for group in optimizer.param_groups:
            group["lr"] = config.lr * lr_factor(step, progress, config)
        teacher = max(0.0, 1 - progress / config.teacher_forcing_until) if config.autoregressive else 0.0

        # --- forward, backward, clip, step
        batch = next(stream)[:, :, None]  # (B, T, 1, H, W)
        context, targets = batch[:, :config.context_frames], batch[:, config.context_frames:]
        if config.channels_last:
            context = context.contiguous()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = ddp(context, config.horizon, targets=targets, teacher_forcing=teacher)
        loss = loss_fn(logits, targets, config.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        step += 1
        seen += len(batch)
        window_seen += len(batch)
        if step == 1:  # the budget starts after the first step: compilation and autotuning are one-off costs
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = window_start = time.perf_counter()
            window_seen = 0

        # --- log (the only host sync in the loop, every log_every steps)
        if rank == 0 and step % config.log_every == 0:
            now = time.perf_counter()
            rate = window_seen * world / (now - window_start)
            entry = {"event": "train", "step": step, "loss": loss.item(), "lr": optimizer.param_groups[0]["lr"],
                     "teacher_forcing": teacher, "sequences_per_s": rate, "minutes": (now - start) / 60}
            log.write(json.dumps(entry) + "\n")
            bar.set(progress, f"loss {entry['loss']:.4f}  {rate:.0f} seq/s  step {step}")
            window_start, window_seen = now, 0

    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    if rank != 0:
        return {}
    bar.close()
    log.close()
    minutes = (time.perf_counter() - start) / 60
    summary = {"best": best, "steps": step, "sequences": seen * world, "minutes": minutes,
               "sequences_per_s": seen * world / (minutes * 60), "device": _device_name(device)}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    return summary


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({os.cpu_count()} cores, torch {torch.__version__})"


class ProgressBar:
    """tqdm (shipped with huggingface_hub) over training progress in per-mille."""

    def __init__(self, config: TrainConfig):
        from tqdm.auto import tqdm

        self.plain = not config.progress_bar
        self.bar = tqdm(total=1000, disable=self.plain, unit="‰", dynamic_ncols=True)

    def set(self, progress: float, text: str) -> None:
        if self.plain:
            print(f"{progress:6.1%}  {text}", flush=True)
            return
        self.bar.n = min(1000, int(progress * 1000))
        self.bar.set_postfix_str(text, refresh=True)

    def write(self, text: str) -> None:
        self.bar.write(text)

    def close(self) -> None:
        self.bar.close()


def main(argv: list[str] | None = None) -> None:
    summary = train(parse_args(argv))
    if summary:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
