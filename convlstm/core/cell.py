"""The ConvLSTM cell of Shi et al. (2015), eq. (3), with one fused gate convolution."""

from __future__ import annotations

import torch
from torch import nn

PEEPHOLE_MODES = ("spatial", "channel", "none")

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (B, hidden, H, W)


def gate_update(z, c, w_ci, w_cf, w_co) -> State:
    """Eq. (3) after the convolutions. z: the gate pre-activations (B, 4·hidden, H, W) in the
    order i, f, g, o; c: C_{t-1}; w_c*: Hadamard peephole weights, or None for none."""
    i, f, g, o = z.chunk(4, dim=1)
    if w_ci is not None:
        i = i + w_ci * c
        f = f + w_cf * c
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    if w_co is not None:
        o = o + w_co * c  # the output gate peeks at the new cell, C_t
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def compile_gate_update(module: nn.Module) -> None:
    """Fuse the pointwise gate math of every cell in `module` with torch.compile.

    Eager PyTorch runs it as ~12 separate memory-bound kernels per cell step, which dominate a
    ConvLSTM on a GPU; compiled, forward and backward are a few fused kernels. One compilation
    with dynamic shapes serves every layer, so start-up costs seconds, not minutes.
    """
    fused = torch.compile(gate_update, dynamic=True)
    for cell in module.modules():
        if isinstance(cell, ConvLSTMCell):
            cell.update = fused


class ConvLSTMCell(nn.Module):
    """One ConvLSTM layer for one time step.

    i = σ(W_xi * X + W_hi * H + W_ci ∘ C_prev + b_i)
    f = σ(W_xf * X + W_hf * H + W_cf ∘ C_prev + b_f)
    C = f ∘ C_prev + i ∘ tanh(W_xc * X + W_hc * H + b_c)
    o = σ(W_xo * X + W_ho * H + W_co ∘ C + b_o)
    H = o ∘ tanh(C)

    The eight convolutions are one convolution over [X, H] with 4·hidden output channels.
    ``peephole`` chooses the shape of W_c*: ``"spatial"`` (hidden × rows × cols, the paper's;
    needs ``grid_size``), ``"channel"`` (one weight per channel; any grid) or ``"none"``.
    ``in_channels=0`` makes a cell with no input, as the paper's forecaster's first layer.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 5,
        peephole: str = "spatial",
        grid_size: tuple[int, int] | None = None,
        forget_bias: float = 1.0,
    ):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd so that 'same' padding is symmetric, got {kernel_size}")
        if in_channels < 0 or hidden_channels < 1:
            raise ValueError(f"need in_channels >= 0 and hidden_channels >= 1, got {in_channels}, {hidden_channels}")
        if peephole not in PEEPHOLE_MODES:
            raise ValueError(f"peephole must be one of {PEEPHOLE_MODES}, got {peephole!r}")
        if peephole == "spatial" and grid_size is None:
            raise ValueError("peephole='spatial' has one weight per location: pass grid_size=(rows, cols)")
        self.update = gate_update  # compile_gate_update() swaps in a fused version
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.peephole = peephole
        self.grid_size = tuple(grid_size) if peephole == "spatial" else None

        # Zero padding: the paper treats the world outside the grid as zero.
        self.gates = nn.Conv2d(in_channels + hidden_channels, 4 * hidden_channels, kernel_size,
                               padding=kernel_size // 2)
        with torch.no_grad():
            # A forget bias near 1 keeps the cell remembering early in training (Gers et al.).
            self.gates.bias.zero_()
            self.gates.bias[hidden_channels:2 * hidden_channels].fill_(forget_bias)

        if peephole != "none":
            shape = (hidden_channels, *self.grid_size) if peephole == "spatial" else (hidden_channels, 1, 1)
            self.w_ci = nn.Parameter(torch.zeros(shape))
            self.w_cf = nn.Parameter(torch.zeros(shape))
            self.w_co = nn.Parameter(torch.zeros(shape))

    def initial_state(self, batch: int, grid: tuple[int, int], like: torch.Tensor) -> State:
        zeros = like.new_zeros(batch, self.hidden_channels, *grid)
        return zeros, zeros

    def forward(self, x: torch.Tensor | None, state: State) -> State:
        h, c = state  # (B, hidden, H, W) each
        if (0 if x is None else x.shape[1]) != self.in_channels:
            got = "no input" if x is None else f"{x.shape[1]} input channels"
            raise ValueError(f"this cell expects {self.in_channels} input channels, got {got}")
        if self.peephole == "spatial" and tuple(h.shape[-2:]) != self.grid_size:
            raise ValueError(f"this cell's spatial peepholes are for a {self.grid_size} grid, "
                             f"got {tuple(h.shape[-2:])}; use peephole='channel' for any grid size")
        z = self.gates(h if x is None else torch.cat([x, h], dim=1))  # (B, 4·hidden, H, W)
        if self.peephole == "none":
            return self.update(z, c, None, None, None)
        return self.update(z, c, self.w_ci, self.w_cf, self.w_co)

    def extra_repr(self) -> str:
        return (f"in={self.in_channels}, hidden={self.hidden_channels}, "
                f"kernel={self.gates.kernel_size[0]}, peephole={self.peephole!r}")
