"""The experiments in benchmarks/ compute what their tables say they compute."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.bench_cpu_alternatives import WinogradConv2d


@pytest.mark.parametrize("kernel, grid", [(5, 16), (5, 13), (3, 25)])
def test_winograd_is_the_same_convolution(kernel, grid):
    conv = nn.Conv2d(7, 12, kernel, padding=kernel // 2)
    x = torch.randn(2, 7, grid, grid)
    exact = F.conv2d(x.double(), conv.weight.double(), conv.bias.double(), padding=kernel // 2)
    fast = WinogradConv2d(conv, torch.float32)(x)
    assert fast.shape == exact.shape
    assert (fast.double() - exact).abs().max() < 1e-4 * exact.abs().max()
