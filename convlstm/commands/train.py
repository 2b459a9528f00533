"""Train an EncoderForecaster on sequences generated on the fly.

    python -m convlstm.train --out runs/mnist --max-minutes 10
    torchrun --nproc_per_node 2 -m convlstm.train ...   # DistributedDataParallel

The schedule (warm-up then cosine, and scheduled sampling) follows training *progress*, the
larger of steps/--max-steps and minutes/--max-minutes, so a wall-clock budget gets a whole
schedule. Each rank streams its own sequences; rank 0 evaluates, logs and saves.

--cuda-graph captures the whole step (forward, loss, backward, clipping, AdamW) in a CUDA graph
and replays it: at small batches a step is otherwise bound by kernel launches (convlstm.commands.step).
--init-from continues a checkpoint: its architecture wins, and it is validated before the first step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist

from ..core.cell import compile_gate_update
from ..core.checkpoint import device_name, load_model
from ..core.model import EncoderForecaster
from ..core.values import RAIN
from ..data import mnist, synthetic_radar
from .run_control import ProgressBar, StopOnSigterm, use_device
from .run_record import save, write_training_json
from .schedules import lr_factor, teacher_forcing
from .step import EagerStep, GraphedStep, make_optimizer
from .train_config import TrainConfig
from .train_data import make_data
from .validation import validate


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """The command line → TrainConfig: one flag per field, help and choices from the field's metadata;
    a boolean field that defaults to True is turned off with --no-NAME."""
    p = argparse.ArgumentParser(prog="python -m convlstm.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        value = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        options = dict(f.metadata)
        if f.type == "bool":
            if value:
                p.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false", **options)
            else:
                p.add_argument(flag, action="store_true", **options)
            continue
        kind = {"int": int, "float": float, "str": str, "list[int]": int, "list[float]": float, "int | None": int,
                "float | None": float, "str | None": str}[f.type]
        p.add_argument(flag, type=kind, default=value, nargs="+" if f.type.startswith("list") else None, **options)
    return TrainConfig(**vars(p.parse_args(argv)))


def make_model(config: TrainConfig) -> EncoderForecaster:
    """A new model from the config, or with --init-from the checkpoint's (see with_architecture_of)."""
    if config.init_from:
        return load_model(config.init_from, device="cpu")
    contract = dict(frame_size=synthetic_radar.SIZE, value_transform=RAIN.name,
                    step_minutes=synthetic_radar.STEP_MINUTES) if config.dataset == "radar" \
        else dict(frame_size=mnist.SIZE)
    return EncoderForecaster(
        patch_size=config.patch_size, hidden_channels=config.hidden_channels, kernel_size=config.kernel_size,
        peephole=config.peephole, autoregressive=config.autoregressive, context_frames=config.context_frames,
        horizon=config.horizon, forecast_head=config.forecast_head, max_speed=config.max_speed,
        probability_matching=config.probability_matching, **contract,
    )


def with_architecture_of(config: TrainConfig, model: EncoderForecaster) -> TrainConfig:
    """The config with the model's architecture fields, so that a run continued from a checkpoint
    records (and schedules, e.g. scheduled sampling) what it actually trains."""
    cell = model.encoder.cells[0]
    return dataclasses.replace(config, hidden_channels=list(model.hidden_channels),
                               kernel_size=cell.gates.kernel_size[0], patch_size=model.patch_size,
                               peephole=cell.peephole, autoregressive=model.autoregressive,
                               forecast_head=model.forecast_head, probability_matching=model.probability_matching,
                               max_speed=getattr(model.head, "max_speed", config.max_speed))


def train(config: TrainConfig) -> dict:
    """Run training; returns the run's summary (rank 0; also in best/training.json) or {} (other ranks):
    {"best": best validation record, "steps", "sequences", "minutes", "sequences_per_s", "device"}."""
    # --- set-up: processes, device, model, data
    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    if distributed and config.cuda_graph:
        raise ValueError("--cuda-graph trains in one process: DistributedDataParallel's gradient all-reduce "
                         "runs outside the captured step; drop --cuda-graph or run without torchrun")
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() and config.device != "cpu" else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    device = use_device(config.device)
    torch.manual_seed(config.seed)
    bf16 = config.bf16 and device.type == "cuda"

    model = make_model(config).to(device).train()
    if config.init_from:
        config = with_architecture_of(config, model)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if config.compile == "gates":
        compile_gate_update(model)
    elif config.compile == "model":
        model.compile(dynamic=False)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = make_optimizer(model, config, device, graphed=config.cuda_graph)
    if config.cuda_graph:  # captured at the first step, replayed after
        train_step = GraphedStep(model, optimizer, config, bf16=bf16)
    else:
        train_step = EagerStep(ddp, model, optimizer, config, bf16=bf16)
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
    clock_evals = sorted(config.eval_at_minutes)
    with StopOnSigterm() as stop:
        while True:
            # --- progress, shared by every rank so their schedules stay identical; SIGTERM ends the run as its
            # budget would, with a last validation and checkpoint
            minutes = (time.perf_counter() - start) / 60
            progress = 1.0 if stop.requested else max(step / config.max_steps, minutes * 60 / budget)
            if distributed:
                shared = torch.tensor([progress], device=device)
                dist.broadcast(shared, 0)
                progress = float(shared)
            done = progress >= 1

            # --- evaluate and checkpoint (rank 0); a continued model is scored before it trains too
            due = step % config.eval_every == 0 if step > 0 else bool(config.init_from)
            if clock_evals and minutes >= clock_evals[0] and step > 0:
                due = True
                clock_evals = [m for m in clock_evals if m > minutes]
            if rank == 0 and (done or due):
                record = {"step": step, "sequences": seen * world,
                          "minutes": (time.perf_counter() - start) / 60, **validate(model, val, config)}
                log.write(json.dumps({"event": "eval", **record}) + "\n")
                log.flush()
                if not best or record[config.select_by] < best[config.select_by]:
                    best = record
                    save(model, out / "best", config, {"best": record, "device": device_name(device)})
                bar.write(f"step {step}: val MSE/frame {record['val_mse']:.1f}, val BCE/seq {record['val_bce']:.0f}")
            if done:
                break

            # --- learning rate and scheduled sampling, then forward, backward, clip, step
            lr = config.lr * lr_factor(step, progress, config)
            teacher = teacher_forcing(progress, config)
            batch = next(stream)  # (B, T, H, W)
            loss = train_step(batch, lr, teacher)
            step += 1
            seen += len(batch)
            window_seen += len(batch)
            if step == 1:  # the budget starts after the first step: compilation, autotuning, capture are one-off
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start = window_start = time.perf_counter()
                window_seen = 0

            # --- log (the only host sync in the loop, every log_every steps)
            if rank == 0 and step % config.log_every == 0:
                now = time.perf_counter()
                rate = window_seen * world / (now - window_start)
                entry = {"event": "train", "step": step, "loss": loss.item(), "lr": lr,
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
               "sequences_per_s": seen * world / (minutes * 60), "device": device_name(device)}
    write_training_json(out / "best", config, summary)
    return summary


def main(argv: list[str] | None = None) -> None:
    summary = train(parse_args(argv))
    if summary:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
