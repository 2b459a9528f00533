"""A forecaster head that moves the last frame instead of drawing every pixel anew.

The paper's head turns the forecaster's hidden states into the next frame's pixels directly. On
rain that blurs and loses the rain within a few steps unless the network is trained far longer
than a CPU allows. This head keeps the ConvLSTM as the recurrent core and asks it, at each lead
time k, for three smooth fields on its grid (upsampled bilinearly to the frame):

- a motion field v_k (pixels per step, at most ``max_speed``): the departure point of every pixel
  is traced back, d_k = d_{k-1} − v_k(d_{k-1}) (semi-Lagrangian, as pysteps' extrapolation), and
  the forecast samples the *last input frame* there, so sharp edges are blurred once, not once
  per step;
- weights over a pyramid of that frame blurred at growing scales (σ = 0, 1.5, 3, 6 px): the
  network learns where and when small scales stop being predictable and should be smoothed,
  which is what S-PROG's scale-dependent AR filtering does by hand;
- an intensity change g_k, added up over lead times, for growth and decay (in the model's
  [0, 1] scale, i.e. dB: a change of intensity by a factor).

frame_k = clamp(Σ_s w_{k,s} · blur_s(x_last)(d_k) + Σ_{j≤k} g_j, 0, 1). At initialisation the
motion and growth are zero and the weights favour the sharp level: the forecast starts as
persistence, and training only has to learn what moves.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SIGMAS = (0.0, 1.5, 3.0, 6.0)  # px: the pyramid's blur scales
GROWTH_PER_STEP = 0.05  # largest intensity change a step, in the [0, 1] scale (3 dBZ)


class AdvectionHead(nn.Module):
    """Hidden states (B, hidden, h, w) → the next frame (B, C, H, W) in [0, 1], by moving the last one."""

    def __init__(self, hidden: int, channels: int, patch_size: int, max_speed: float = 4.0):
        super().__init__()
        self.channels, self.patch_size, self.max_speed = channels, patch_size, max_speed
        self.conv = nn.Conv2d(hidden, 3 + len(SIGMAS), kernel_size=1)  # vx, vy, growth, pyramid weights
        with torch.no_grad():
            self.conv.weight.mul_(0.1)
            self.conv.bias.zero_()
            self.conv.bias[3] = 3.0  # the sharp level first: the untrained head is persistence
        for i, sigma in enumerate(SIGMAS[1:], start=1):
            self.register_buffer(f"kernel{i}", _gaussian(sigma), persistent=False)

    def start(self, last: torch.Tensor) -> dict:
        """The state of a forecast from the last input frame (B, C, H, W): its pyramid, zero motion and growth."""
        B, C, H, W = last.shape
        levels = [last] + [_blur(last, getattr(self, f"kernel{i}")) for i in range(1, len(SIGMAS))]
        pixels = torch.stack(torch.meshgrid(torch.arange(H, device=last.device, dtype=last.dtype),
                                            torch.arange(W, device=last.device, dtype=last.dtype), indexing="ij"),
                             dim=-1)  # (H, W, 2) as (row, col)
        return {"pyramid": torch.stack(levels, dim=1),  # (B, S, C, H, W)
                "departure": pixels.expand(B, H, W, 2).clone(),  # (B, H, W, 2)
                "growth": torch.zeros_like(last)}

    def forward(self, hidden: torch.Tensor, state: dict) -> torch.Tensor:
        B, S, C, H, W = state["pyramid"].shape
        fields = F.interpolate(self.conv(hidden), size=(H, W), mode="bilinear", align_corners=False)  # (B, 3+S, H, W)
        velocity = self.max_speed * torch.tanh(fields[:, :2])  # (B, 2, H, W) as (row, col) px per step
        state["growth"] = state["growth"] + GROWTH_PER_STEP * torch.tanh(fields[:, 2:3])  # (B, 1, H, W)
        weights = torch.softmax(fields[:, 3:], dim=1)  # (B, S, H, W)

        # Trace the departure points back one step along the motion found there.
        moved = F.grid_sample(velocity, _normalized(state["departure"], H, W), align_corners=True)  # (B, 2, H, W)
        state["departure"] = state["departure"] - moved.permute(0, 2, 3, 1)
        grid = _normalized(state["departure"], H, W)  # (B, H, W, 2)
        levels = F.grid_sample(state["pyramid"].flatten(1, 2), grid, align_corners=True)  # (B, S·C, H, W), zero outside
        advected = (levels.unflatten(1, (S, C)) * weights[:, :, None]).sum(1)  # (B, C, H, W)
        return (advected + state["growth"]).clamp(0, 1)


def _normalized(points: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """Pixel (row, col) → grid_sample's (x, y) in [-1, 1] (align_corners=True)."""
    row, col = points.unbind(-1)
    return torch.stack([col * (2 / max(W - 1, 1)) - 1, row * (2 / max(H - 1, 1)) - 1], dim=-1)


def _gaussian(sigma: float) -> torch.Tensor:
    radius = math.ceil(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def _blur(frames: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W), zero outside the frame (the outside world is zero)."""
    C, r = frames.shape[1], len(kernel) // 2
    horizontal = kernel.view(1, 1, 1, -1).expand(C, 1, 1, -1).to(frames.dtype)
    vertical = kernel.view(1, 1, -1, 1).expand(C, 1, -1, 1).to(frames.dtype)
    out = F.conv2d(frames, horizontal, padding=(0, r), groups=C)
    return F.conv2d(out, vertical, padding=(r, 0), groups=C)
