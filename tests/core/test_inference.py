"""The numpy forecast contract: shapes, units, precision, and probability matching."""

import numpy as np
import pytest
import torch

from convlstm import forecast, load_model
from convlstm.core import values
from convlstm.core.checkpoint import RADAR_CHECKPOINT
from convlstm.core.inference import probability_matched
from convlstm.data import synthetic_radar
from tests.helpers import small_model


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


def test_a_radar_checkpoint_takes_rain_rates_through_the_public_api():
    model = load_model(RADAR_CHECKPOINT, device="cpu")
    assert model.value_transform == "dbz60" and model.step_minutes == 6
    rain = synthetic_radar.radar(2, seed=5, frames=model.context_frames)  # mm/h
    got = forecast(model, rain, model.horizon, precision="fp32")
    # The radar tab before the checkpoint carried its contract: mm/h → dBZ/60, the network, the
    # probability matching the checkpoint asks for, and back.
    with torch.no_grad():
        logits = model(torch.from_numpy(values.to_unit(rain))[:, :, None], model.horizon)
    unit = torch.sigmoid(logits)[:, :, 0].numpy()
    if model.probability_matching:
        unit = probability_matched(unit, values.to_unit(rain)[:, -1])
    expected = values.from_unit(unit)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert got.shape == (2, model.horizon, 100, 100) and got.max() > 1  # rain rates, not [0, 1]
    with pytest.raises(ValueError, match="mm/h"):
        forecast(model, -rain, 3)
