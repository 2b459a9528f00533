"""Forecasting numpy frames with a model, in the units of its value scale."""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch

from .grid import fit_to_grid
from .model import EncoderForecaster

DRY = 1 / 255  # in the model's [0, 1] scale, below one gray level or a quarter of a dBZ: nothing there

def forecast(
    model: EncoderForecaster,
    frames: np.ndarray,
    horizon: int,
    *,
    precision: str = "auto",
    batch_size: int = 64,
) -> np.ndarray:
    """Predict the next ``horizon`` frames of one sequence (T, H, W) or of many (N, T, H, W).

    Frames are in the units of the model's ``value_transform`` (``model.scale``, see ``convlstm.core.values``): gray
    levels in [0, 1] for most models, rain rates in mm/h for a radar model; the forecast comes
    back in the same units, shape (horizon, H, W) or (N, horizon, H, W), float32. Any T ≥ 1 and
    any H, W: frames are fitted to the model's grid and back (see ``convlstm.grid``). Sequences
    go through the model ``batch_size`` at a time.
    ``precision``: "fp32", "bf16" (autocast), or "auto": bf16 on CUDA and on CPUs with native
    bf16 support, whose error against fp32 is far below what a viewer can see.
    """
    scale = model.scale
    frames = scale.check(frames)
    one = frames.ndim == 3
    batch = frames[None] if one else frames
    if batch.ndim != 4 or min(batch.shape) < 1:
        raise ValueError(f"frames must be (T, H, W) or (N, T, H, W) with T ≥ 1, got shape {frames.shape}")
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a whole number ≥ 1, got {horizon}")
    N, T, H, W = batch.shape
    encoded = scale.encode(batch)
    fitted, fit = fit_to_grid(encoded.reshape(N * T, H, W), model.frame_size)
    fitted = fitted.reshape(N, T, 1, model.frame_size, model.frame_size)
    device = next(model.parameters()).device
    out = []
    for start in range(0, N, batch_size):
        x = torch.from_numpy(fitted[start:start + batch_size]).to(device)  # (B, T, 1, S, S)
        # no_grad, not inference_mode: under inference_mode autocast keeps no bf16 copy of the weights
        # and casts every weight again at every time step (a few per cent of a CPU forecast).
        with torch.no_grad(), _autocast(device, precision):
            logits = model(x, int(horizon))  # (B, horizon, 1, S, S)
        out.append(torch.sigmoid(logits.float())[:, :, 0].cpu().numpy())
    predicted = np.concatenate(out).reshape(N * int(horizon), model.frame_size, model.frame_size)
    restored = fit.restore(predicted).clip(0, 1).reshape(N, int(horizon), H, W)  # resizing can overshoot [0, 1]
    if model.probability_matching:
        restored = probability_matched(restored, encoded[:, -1])
    result = scale.decode(restored).astype(np.float32, copy=False)
    return result[0] if one else result


def probability_matched(forecast: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Forecast frames (N, K, H, W) given the values of the last input frame (N, H, W), both in the
    model's [0, 1] scale: probability matching, as S-PROG and STEPS do it (pysteps'
    ``nonparam_match_empirical_cdf``). Each frame keeps the order of its pixels and takes the last
    frame's distribution, so a forecast trained on squared error can neither wash out the heavy
    cores nor spread light rain over too large an area. Dry pixels (below ``DRY``) stay dry: a
    frame with fewer wet pixels than the last input keeps its wet area and takes the heaviest values.
    ``last`` may also be (N, K, H, W), one distribution per forecast frame.
    """
    N, K, H, W = forecast.shape
    flat = forecast.reshape(N, K, H * W)
    ranks = flat.argsort(axis=-1).argsort(axis=-1)  # each pixel's place in its frame, 0 = the driest
    target = np.sort(last.reshape(N, -1, H * W), axis=-1)
    matched = np.take_along_axis(np.broadcast_to(target, flat.shape), ranks, axis=-1)
    return np.where(flat < DRY, 0.0, matched).reshape(N, K, H, W).astype(np.float32)


def matching_switched(model: EncoderForecaster, name: str) -> tuple[str, EncoderForecaster]:
    """A copy of ``model`` with probability matching switched the other way, and its name beside ``name``:
    the evaluations score a model both ways, since what matching does is part of the evidence."""
    other = copy.deepcopy(model)
    other.probability_matching = not model.probability_matching
    return f"{name} {'with' if other.probability_matching else 'without'} probability matching", other


def _autocast(device: torch.device, precision: str):
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    use_bf16 = precision == "bf16" or (precision == "auto" and _fast_bf16(device))
    if not use_bf16:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def _fast_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False
