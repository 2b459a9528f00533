"""How a training run scores its model on the validation set, to log it and keep its best checkpoint."""

from __future__ import annotations

import numpy as np
import torch

from ..core.inference import forecast, matching_switched
from ..core.model import EncoderForecaster
from ..scoring import metrics
from .losses import loss_fn
from .train_config import TrainConfig


def validate(model: EncoderForecaster, val: np.ndarray, config: TrainConfig) -> dict:
    """MSE/frame and BCE/sequence on the validation set, in the model's [0, 1] scale."""
    was_training = model.training
    model.eval()
    encode = model.scale.encode
    context, truth = val[:, :config.context_frames], val[:, config.context_frames:][:, :config.horizon]
    # The network's own output, which training fits: probability matching is switched on after
    # training, and a run continued from such a checkpoint must be validated as it was trained.
    own = matching_switched(model, "")[1] if model.probability_matching else model
    pred, truth = encode(forecast(own, context, config.horizon)), encode(truth)
    model.train(was_training)
    logits = torch.logit(torch.from_numpy(np.ascontiguousarray(pred)), eps=1e-6)
    return {"val_mse": float(metrics.mse(pred, truth).mean()),
            "val_bce": float(metrics.bce(pred, truth).sum(-1).mean()),
            "val_loss": float(loss_fn(logits, torch.from_numpy(np.ascontiguousarray(truth)), config.loss))}
