"""The stack over time: states in and out, streaming in chunks, devices and dtypes, clear errors."""

import pytest
import torch

from convlstm import ConvLSTM


def test_states_follow_the_input_device_and_dtype():
    stack = ConvLSTM(1, [3], kernel_size=3, peephole="channel").double()
    out, [(h, c)] = stack(torch.rand(1, 2, 1, 7, 9, dtype=torch.float64))
    assert out.dtype == h.dtype == c.dtype == torch.float64
    assert out.device == h.device == torch.device("cpu")
    assert h.shape == (1, 3, 7, 9)  # "channel" peepholes work on any grid


def test_bf16_autocast_runs_and_stays_close():
    stack = ConvLSTM(1, [8, 8], kernel_size=3, peephole="channel")
    x = torch.rand(2, 3, 1, 8, 8)
    want, _ = stack(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, _ = stack(x)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got.float(), want, atol=3e-2, rtol=0)


def test_different_frames_at_different_steps_change_the_output():
    stack = ConvLSTM(1, [4], kernel_size=3, peephole="none")
    x = torch.rand(1, 3, 1, 6, 6)
    y = x.clone()
    y[:, 1] = torch.rand(1, 1, 6, 6)  # change only the middle frame
    a, _ = stack(x)
    b, _ = stack(y)
    assert torch.equal(a[:, 0], b[:, 0]) and not torch.allclose(a[:, 2], b[:, 2])


def test_streaming_in_chunks_equals_one_pass():
    stack = ConvLSTM(2, [4, 3], kernel_size=3, peephole="spatial", grid_size=(5, 5)).double()
    x = torch.randn(2, 7, 2, 5, 5, dtype=torch.float64)
    whole, whole_states = stack(x)
    first, states = stack(x[:, :3])
    second, states = stack(x[:, 3:], states)
    torch.testing.assert_close(torch.cat([first, second], 1), whole)
    for (h1, c1), (h2, c2) in zip(states, whole_states, strict=True):
        torch.testing.assert_close(h1, h2)
        torch.testing.assert_close(c1, c2)


def test_wrong_channels_rank_or_grid_are_clear_errors():
    stack = ConvLSTM(2, [4], kernel_size=3, peephole="spatial", grid_size=(5, 5))
    with pytest.raises(ValueError, match="expects 2 input channels"):
        stack(torch.rand(1, 3, 3, 5, 5))
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        stack(torch.rand(3, 2, 5, 5))
    with pytest.raises(ValueError, match="peephole='channel'"):
        stack(torch.rand(1, 3, 2, 6, 6))
