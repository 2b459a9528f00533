"""The training losses, on the model's logits and the targets in its [0, 1] scale."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..core.values import to_unit

LOSSES = ("bce", "mse", "bmse")
# Balanced MSE for radar (Shi et al. 2017, the TrajGRU paper): pixels whose true rain rate reaches
# 2, 5, 10, 30 mm/h weigh 2, 5, 10, 30 (else 1), so that heavy rain is not averaged away. The
# thresholds in the model's dBZ/60 scale, for Marshall-Palmer: 23.0 + 16 log10(R) dBZ, over 60.
BALANCED_MSE = ((to_unit(2.0), 2.0), (to_unit(5.0), 5.0), (to_unit(10.0), 10.0),
                (to_unit(30.0), 30.0))


def loss_fn(logits: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-pixel binary cross-entropy on the logits (the paper's), MSE on the probabilities, or
    (radar) the balanced MSE of BALANCED_MSE."""
    logits = logits.float()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, targets)
    if kind == "mse":
        return F.mse_loss(torch.sigmoid(logits), targets)
    weights = torch.ones_like(targets)
    for threshold, weight in BALANCED_MSE:
        weights = torch.where(targets >= float(threshold), weight, weights)
    return (weights * (torch.sigmoid(logits) - targets) ** 2).mean()
