"""The encoding-forecasting network: shapes and gradients, the forecaster's start and inputs, FC-LSTM."""

import pytest
import torch

from convlstm import EncoderForecaster
from tests.helpers import small_model, tiny_model


@pytest.mark.parametrize("autoregressive, head", [(False, "pixels"), (True, "pixels"), (False, "advection"),
                                                  (True, "advection")])
def test_shapes_and_every_parameter_learns(autoregressive, head):
    model = small_model(autoregressive=autoregressive, forecast_head=head)
    frames = torch.rand(2, 4, 1, 16, 16)
    logits = model(frames, horizon=3)
    assert logits.shape == (2, 3, 1, 16, 16)
    logits.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_forecaster_starts_from_the_encoders_states():
    model = small_model()
    a = model(torch.rand(1, 4, 1, 16, 16), 2)
    b = model(torch.rand(1, 4, 1, 16, 16), 2)
    assert not torch.allclose(a, b)  # the forecaster has no input: only the copied states differ


def test_teacher_forcing_feeds_the_true_frames():
    model = small_model(autoregressive=True)
    frames, targets = torch.rand(1, 4, 1, 16, 16), torch.rand(1, 3, 1, 16, 16)
    free = model(frames, 3)
    forced = model(frames, 3, targets=targets, teacher_forcing=1.0)
    torch.testing.assert_close(forced[:, 0], free[:, 0])  # the first step sees the last input either way
    assert not torch.allclose(forced[:, 1], free[:, 1])
    other = model(frames, 3, targets=torch.rand(1, 3, 1, 16, 16), teacher_forcing=1.0)
    assert not torch.allclose(other[:, 2], forced[:, 2])


def test_fc_lstm_is_the_one_by_one_special_case():
    """The whole network on a 1×1 grid equals a peephole FC-LSTM written with matrix products."""
    model = EncoderForecaster.fc_lstm(frame_size=4, hidden_channels=[5, 3]).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    frames = torch.rand(2, 3, 1, 4, 4, dtype=torch.float64)

    def lstm(cell, x, h, c):
        w = cell.gates.weight[:, :, 0, 0]  # (4·hid, in + hid)
        z = (torch.cat([x, h], 1) if x is not None else h) @ w.T + cell.gates.bias
        i, f, g, o = z.chunk(4, 1)
        peep = [p.reshape(1, -1) for p in (cell.w_ci, cell.w_cf, cell.w_co)]
        i, f = torch.sigmoid(i + peep[0] * c), torch.sigmoid(f + peep[1] * c)
        c = f * c + i * torch.tanh(g)
        return torch.sigmoid(o + peep[2] * c) * torch.tanh(c), c

    states = [(torch.zeros(2, n, dtype=torch.float64),) * 2 for n in (5, 3)]
    for t in range(3):
        x = frames[:, t].reshape(2, 16)  # one 4×4 patch = the whole frame, row-major
        for k, cell in enumerate(model.encoder.cells):
            states[k] = lstm(cell, x, *states[k])
            x = states[k][0]
    want = []
    for _ in range(2):
        x = None
        for k, cell in enumerate(model.forecaster.cells):
            states[k] = lstm(cell, x, *states[k])
            x = states[k][0]
        hidden = torch.cat([h for h, _ in states], 1)
        want.append((hidden @ model.head.weight[:, :, 0, 0].T + model.head.bias).reshape(2, 1, 4, 4))
    torch.testing.assert_close(model(frames, 2), torch.stack(want, 1))


def test_bad_inputs_are_clear_errors():
    model = small_model()
    with pytest.raises(ValueError, match="horizon"):
        model(torch.rand(1, 2, 1, 16, 16), 0)
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        model(torch.rand(2, 1, 16, 16), 2)
    with pytest.raises(ValueError, match="1×16×16"):
        model(torch.rand(1, 2, 1, 20, 16), 2)
    with pytest.raises(ValueError, match="multiple"):
        EncoderForecaster(frame_size=30, patch_size=4)


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("teacher", [0.0, 0.4, 1.0])
def test_the_forward_takes_the_probability_as_a_tensor(teacher):
    model = tiny_model()
    frames, targets = torch.rand(3, 4, 1, 64, 64), torch.rand(3, 5, 1, 64, 64)
    torch.manual_seed(7)
    expected = model(frames, 5, targets=targets, teacher_forcing=teacher)
    torch.manual_seed(7)
    got = model(frames, 5, targets=targets, teacher_forcing=torch.tensor(teacher))
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    if teacher == 0.4:  # the draws really mix truth and prediction: not the same as either extreme
        torch.manual_seed(7)
        assert not torch.equal(got, model(frames, 5, targets, torch.tensor(0.0)))


@pytest.mark.usefixtures("one_torch_thread")
def test_the_papers_forecaster_reads_no_frames_whatever_the_probability():
    model = tiny_model(autoregressive=False)
    frames, targets = torch.rand(2, 3, 1, 64, 64), torch.rand(2, 4, 1, 64, 64)
    torch.testing.assert_close(model(frames, 4, targets, torch.tensor(0.5)), model(frames, 4), rtol=0, atol=0)
