"""A stack of ConvLSTM layers unrolled over time."""

from __future__ import annotations

import torch
from torch import nn

from .cell import ConvLSTMCell, State


class ConvLSTM(nn.Module):
    """Layers of ConvLSTMCell; layer l reads layer l-1's hidden state.

    ``forward(x, states)`` takes ``x`` of shape (B, T, C, H, W) (or ``None`` with ``steps=T``
    for a stack whose first layer has no input) and the per-layer ``(h, c)`` to start from
    (zeros when ``None``). It returns the top layer's hidden state at every step,
    (B, T, hidden[-1], H, W), and each layer's final ``(h, c)``, so a long sequence can be
    streamed in chunks by passing the returned states back in.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: list[int],
        kernel_size: int = 5,
        peephole: str = "spatial",
        grid_size: tuple[int, int] | None = None,
    ):
        super().__init__()
        if not hidden_channels:
            raise ValueError("hidden_channels needs at least one layer")
        inputs = [in_channels, *hidden_channels[:-1]]
        self.cells = nn.ModuleList(
            ConvLSTMCell(c_in, c_hid, kernel_size, peephole, grid_size)
            for c_in, c_hid in zip(inputs, hidden_channels, strict=True)
        )

    def initial_states(self, batch: int, grid: tuple[int, int], like: torch.Tensor) -> list[State]:
        return [cell.initial_state(batch, grid, like) for cell in self.cells]

    def step(self, x: torch.Tensor | None, states: list[State]) -> list[State]:
        """Advance every layer by one time step; x is (B, C, H, W) or None."""
        new_states = []
        for cell, state in zip(self.cells, states, strict=True):
            h, c = cell(x, state)
            new_states.append((h, c))
            x = h
        return new_states

    def forward(
        self,
        x: torch.Tensor | None,
        states: list[State] | None = None,
        steps: int | None = None,
    ) -> tuple[torch.Tensor, list[State]]:
        if x is not None:
            if x.dim() != 5:
                raise ValueError(f"ConvLSTM expects (B, T, C, H, W), got a tensor of shape {tuple(x.shape)}")
            steps = x.shape[1]
        if states is None:
            if x is None:
                raise ValueError("a stack without input needs initial states")
            B, _, _, H, W = x.shape
            states = self.initial_states(B, (H, W), x)
        if len(states) != len(self.cells):
            raise ValueError(f"expected states for {len(self.cells)} layers, got {len(states)}")
        if steps is None or steps < 1:
            raise ValueError(f"need at least one time step, got {steps}")

        outputs = []
        for t in range(steps):
            states = self.step(None if x is None else x[:, t], states)
            outputs.append(states[-1][0])
        return torch.stack(outputs, dim=1), states  # (B, T, hidden[-1], H, W)
