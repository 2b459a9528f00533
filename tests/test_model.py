"""The encoding-forecasting network, checkpoints and the numpy forecast contract."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from convlstm import CheckpointError, EncoderForecaster, forecast, load_model


def small_model(**kwargs):
    config = dict(frame_size=16, patch_size=4, hidden_channels=[6, 5], kernel_size=3)
    return EncoderForecaster(**(config | kwargs))


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


def test_save_and_load_give_identical_outputs(tmp_path):
    model = small_model(peephole="channel", autoregressive=True).eval()
    with torch.no_grad():
        for cell in [*model.encoder.cells, *model.forecaster.cells]:
            cell.w_ci.normal_()
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["hidden_channels"] == [6, 5] and config["autoregressive"] is True
    frames = torch.rand(1, 5, 1, 16, 16)
    for loaded in (EncoderForecaster.from_pretrained(tmp_path), load_model(tmp_path, device="cpu")):
        assert torch.equal(loaded(frames, 4), model(frames, 4))


def test_corrupted_or_mismatched_checkpoints_fail_clearly(tmp_path):
    small_model().save_pretrained(tmp_path / "good")
    weights = load_file(tmp_path / "good" / "model.safetensors")
    config = (tmp_path / "good" / "config.json").read_text()

    def folder(name, weights=None, config=config, raw=None):
        path = tmp_path / name
        path.mkdir()
        (path / "config.json").write_text(config)
        if raw is not None:
            (path / "model.safetensors").write_bytes(raw)
        else:
            save_file(weights, path / "model.safetensors")
        return path

    missing = {k: v for k, v in weights.items() if "w_co" not in k}
    extra = weights | {"encoder.cells.0.surprise": torch.zeros(1)}
    cases = {
        folder("truncated", raw=(tmp_path / "good" / "model.safetensors").read_bytes()[:300]): "",
        folder("missing", missing): "w_co",
        folder("extra", extra): "surprise",
        folder("shape", weights, config=config.replace('"kernel_size": 3', '"kernel_size": 5')): "size",
    }
    for path, detail in cases.items():
        with pytest.raises(CheckpointError, match=f"could not load a model from {path}.*{detail}"):
            load_model(path, device="cpu")
    with pytest.raises(CheckpointError, match="no config.json"):
        load_model(tmp_path / "nowhere")


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


def test_forecast_numpy_contract():
    model = small_model().eval()
    frames = np.random.default_rng(0).random((7, 40, 25)).astype(np.float32)
    for context, horizon in [(7, 1), (1, 5), (3, 20)]:
        out = forecast(model, frames[:context], horizon)
        assert out.shape == (horizon, 40, 25) and out.dtype == np.float32
        assert 0 <= out.min() and out.max() <= 1
    with pytest.raises(ValueError, match="horizon"):
        forecast(model, frames, 0)
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        forecast(model, frames[0], 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        forecast(model, frames * 3, 3)


def test_forecast_bf16_path_is_close_to_fp32():
    model = small_model().eval()
    frames = np.random.default_rng(0).random((5, 16, 16)).astype(np.float32)
    fp32 = forecast(model, frames, 4, precision="fp32")
    bf16 = forecast(model, frames, 4, precision="bf16")
    assert np.abs(bf16 - fp32).max() < 2e-2


def test_forecast_casts_each_weight_to_bf16_once():
    # torch.inference_mode turns off autocast's weight cache: every weight is cast again at every
    # step, a few per cent of a CPU forecast. With the cache it is one cast per weight per call.
    model = small_model().eval()
    frames = np.random.default_rng(0).random((6, 16, 16)).astype(np.float32)
    with torch.profiler.profile(record_shapes=True) as profiler:
        forecast(model, frames, 5, precision="bf16")
    weight = list(model.encoder.cells[0].gates.weight.shape)
    casts = [e for e in profiler.events() if e.name == "aten::_to_copy" and e.input_shapes[:1] == [weight]]
    assert len(casts) == 1


def test_probability_matching_gives_each_frame_the_last_inputs_values(tmp_path):
    model = small_model(probability_matching=True).eval()
    model.save_pretrained(tmp_path)
    assert load_model(tmp_path, device="cpu").probability_matching is True  # recorded in config.json
    rng = np.random.default_rng(0)
    frames = rng.random((3, 5, 16, 16)).astype(np.float32)
    frames[:, :, :6] = 0  # a dry part
    out = forecast(model, frames, 4, precision="fp32")
    model.probability_matching = False
    raw = forecast(model, frames, 4, precision="fp32")
    for n in range(3):
        for k in range(4):
            wet = raw[n, k] >= 1 / 255
            assert np.array_equal(out[n, k][~wet], np.zeros((~wet).sum()))  # dry stays dry
            # the wet pixels keep their order and take the last frame's heaviest values
            heaviest = np.sort(frames[n, -1].ravel())[::-1][:wet.sum()]
            np.testing.assert_array_equal(np.sort(out[n, k][wet])[::-1], heaviest)
            assert len(np.unique(raw[n, k][wet])) == wet.sum()  # no ties, so the order is one order
            assert (np.diff(out[n, k][wet][np.argsort(raw[n, k][wet])]) >= 0).all()
