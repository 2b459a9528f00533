"""What a training run changes as it progresses: the learning rate and scheduled sampling."""

from __future__ import annotations

import math

from .train_config import TrainConfig


def lr_factor(step: int, progress: float, config: TrainConfig) -> float:
    warmup = min(1.0, (step + 1) / max(1, config.warmup_steps))
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return warmup * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


def teacher_forcing(progress: float, config: TrainConfig) -> float:
    """Scheduled sampling: the probability of feeding the true frame, falling linearly from
    --teacher-forcing-start to 0 at --teacher-forcing-until; always 0 for the paper's forecaster."""
    if not config.autoregressive or config.teacher_forcing_until <= 0:
        return 0.0
    return config.teacher_forcing_start * max(0.0, 1 - progress / config.teacher_forcing_until)
