"""What a training run trains and validates on: the endless stream of batches and the fixed validation set."""

from __future__ import annotations

import numpy as np
import torch

from ..data import mnist, synthetic_radar
from .train_config import TrainConfig


def make_stream(config: TrainConfig, device: torch.device, rank: int = 0):
    """Endless training batches (B, T, H, W) on `device` in the model's [0, 1] scale, made
    `data_chunk` batches at a time."""
    frames = config.context_frames + config.horizon
    size, seed = config.batch_size * config.data_chunk, config.seed + 1000 * rank
    if config.dataset == "radar":
        stream = synthetic_radar.RadarStream(size, seed=seed, frames=frames, device=device)
    else:
        stream = mnist.MovingMNISTStream(size, seed=seed, split="train", num_digits=config.num_digits,
                                        frames=frames, device=device)
    return stream if config.data_chunk == 1 else _Batches(stream, config.batch_size)


class _Batches:
    """Batches of `batch_size` cut from the larger batches of `stream`."""

    def __init__(self, stream, batch_size: int):
        self.stream, self.batch_size, self.block, self.next = stream, batch_size, None, 0

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        if self.block is None or self.next >= len(self.block):
            self.block, self.next = next(self.stream), 0
        batch = self.block[self.next:self.next + self.batch_size]
        self.next += self.batch_size
        return batch


def make_val(config: TrainConfig) -> np.ndarray:
    """The fixed validation set (numpy) in the data's own units (mm/h for radar), as people would pass it."""
    frames = config.context_frames + config.horizon
    if config.dataset == "radar":
        val = synthetic_radar.radar_evaluation_set("val", n=config.eval_sequences)[:, :frames]
    else:
        val = mnist.evaluation_set("val", n=config.eval_sequences, num_digits=config.num_digits)[:, :frames]
    return np.ascontiguousarray(val, dtype=np.float32)


def make_data(config: TrainConfig, device: torch.device, rank: int):
    """make_stream and make_val."""
    return make_stream(config, device, rank), make_val(config)
