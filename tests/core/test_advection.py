"""The advection head: the last frame moved along the head's motion, about persistence when untrained."""

import torch

from tests.helpers import small_model


def test_the_advection_head_moves_the_last_frame_along_its_motion():
    """With the head's fields fixed (1 px/step to the right, no growth, the sharp level), lead k is the
    last input frame shifted k pixels: the departure points are traced back along the motion."""
    model = small_model(frame_size=24, forecast_head="advection", max_speed=4.0)
    conv = model.head.conv
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.bias[1] = torch.atanh(torch.tensor(1 / 4))  # (row, col) velocity: col +1 px per step
        conv.bias[3] = 30.0  # all weight on the unblurred frame
    frames = torch.rand(1, 3, 1, 24, 24)
    predicted = torch.sigmoid(model(frames, 4))[0, :, 0]  # (4, 24, 24)
    last = frames[0, -1, 0]
    for k in range(1, 5):
        torch.testing.assert_close(predicted[k - 1, :, k:], last[:, :-k], atol=1e-4, rtol=0)
        assert predicted[k - 1, :, :k].abs().max() < 1e-4  # nothing came in from outside the frame


def test_a_fresh_advection_head_forecasts_about_persistence():
    model = small_model(frame_size=24, forecast_head="advection")
    y, x = torch.meshgrid(torch.arange(24.0), torch.arange(24.0), indexing="ij")
    smooth = torch.exp(-((y - 12) ** 2 + (x - 10) ** 2) / 30)[None, None, None].expand(1, 3, 1, 24, 24)
    predicted = torch.sigmoid(model(smooth, 2))
    assert (predicted - smooth[:, -1:]).abs().max() < 0.1  # untrained: the last frame, barely moved or blurred
