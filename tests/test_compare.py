"""The one comparison path: the model beside optical flow and persistence, scored by the value scale."""

import json

import numpy as np
import pytest
import torch

from convlstm import EncoderForecaster, baselines, forecast, load_model, metrics, radar
from convlstm.compare import METHODS, Comparison, compare, lead_time_scores, method_forecasts, score, scores_table
from convlstm.inference import RADAR_CHECKPOINT, probability_matched
from convlstm.scales import SCALES
from convlstm.showcase import moving_mnist_sequence


@pytest.fixture(scope="module")
def model():
    return EncoderForecaster(hidden_channels=[8], kernel_size=3).eval()


@pytest.fixture(scope="module")
def sequence():
    return moving_mnist_sequence(seed=3, digits=2, context=10, horizon=10)  # (20, 64, 64)


def test_compare_with_truth(model, sequence):
    c = compare(model, sequence, context=10, horizon=10)
    assert list(c.forecasts) == list(METHODS)
    for frames in c.forecasts.values():
        assert frames.shape == (10, 64, 64) and frames.min() >= 0 and frames.max() <= 1
    assert np.array_equal(c.context, sequence[:10]) and np.array_equal(c.truth, sequence[10:])
    assert np.array_equal(c.forecasts["persistence"], np.repeat(sequence[9:10], 10, axis=0))
    assert set(c.scores) == set(METHODS)
    for name, s in c.scores.items():
        assert set(s) == {"mse", "ssim"} and s["mse"].shape == s["ssim"].shape == (10,)
        np.testing.assert_allclose(s["mse"], metrics.mse(c.forecasts[name], c.truth))
        np.testing.assert_allclose(s["ssim"], metrics.ssim(c.forecasts[name], c.truth))
    assert c.notes == []  # 10 in, 10 out, 20 frames: nothing to say
    rows = lead_time_scores(c)
    assert len(rows) == 30 and {r["method"] for r in rows} == set(METHODS)
    assert [r["lead time"] for r in rows[:10]] == list(range(1, 11))


def test_compare_without_truth_uses_every_frame(model, sequence):
    c = compare(model, sequence[:6], context=10, horizon=4)
    assert c.truth is None and c.scores == {} and len(c.context) == 6
    assert c.forecasts["ConvLSTM"].shape == (4, 64, 64)
    assert any("no ground truth" in n for n in c.notes)
    headers, rows, best = scores_table(c)
    assert rows == [] and best == {} and headers[0] == "method"
    assert lead_time_scores(c) == []


def test_compare_partial_truth_and_extrapolation(model, sequence):
    c = compare(model, sequence[:13], context=10, horizon=12)
    assert len(c.truth) == 3 and c.scores["ConvLSTM"]["mse"].shape == (3,)
    assert c.lead_labels()[9:] == ["+10", "+11*", "+12*"]  # past the model's horizon of 10
    assert any("extrapolation" in n for n in c.notes) and any("+1 to +3" in n for n in c.notes)


def test_small_non_square_frames(model):
    frames = np.random.default_rng(0).random((8, 9, 20), dtype=np.float32)
    c = compare(model, frames, context=5, horizon=3)
    assert c.forecasts["ConvLSTM"].shape == (3, 9, 20)
    assert np.isnan(c.scores["ConvLSTM"]["ssim"]).all()  # SSIM needs 11×11
    headers, rows, best = scores_table(c)
    assert set(best) == {"MSE/frame ↓"}


def test_scores_table_marks_the_best():
    truth = np.zeros((2, 16, 16), np.float32)
    forecasts = {"ConvLSTM": truth + 0.1, "optical flow": truth + 0.5, "persistence": truth + 0.3}
    c = Comparison(truth, forecasts, truth, SCALES["unit"], trained_horizon=10)
    c.scores = score(c)
    headers, rows, best = scores_table(c)
    assert [r[0] for r in rows] == list(METHODS)
    assert best["MSE/frame ↓"] == 0
    assert rows[1][1] == pytest.approx(0.25 * 256)


@pytest.mark.parametrize("kwargs", [{"horizon": 0}, {"horizon": 21}, {"horizon": 2.5}, {"context": 0},
                                    {"context": "ten"}])
def test_bad_arguments_are_plain_value_errors(model, sequence, kwargs):
    args = {"context": 10, "horizon": 10} | kwargs
    with pytest.raises(ValueError, match="whole number"):
        compare(model, sequence, **args)


def test_method_forecasts_of_a_batch_equal_one_by_one(model, sequence):
    batch = np.stack([sequence, sequence[::-1].copy()])[:, :10]
    together = method_forecasts(model, batch, 5)
    for i in range(2):
        alone = method_forecasts(model, batch[i:i + 1], 5)
        for name in METHODS:
            np.testing.assert_allclose(together[name][i], alone[name][0], atol=1e-6)


def test_a_radar_checkpoint_takes_rain_rates_through_the_public_api():
    model = load_model(RADAR_CHECKPOINT, device="cpu")
    assert model.value_transform == "dbz60" and model.step_minutes == 6
    rain = radar.radar(2, seed=5, frames=model.context_frames)  # mm/h
    got = forecast(model, rain, model.horizon, precision="fp32")
    # The radar tab before the checkpoint carried its contract: mm/h → dBZ/60, the network, the
    # probability matching the checkpoint asks for, and back.
    with torch.no_grad():
        logits = model(torch.from_numpy(radar.to_unit(rain))[:, :, None], model.horizon)
    unit = torch.sigmoid(logits)[:, :, 0].numpy()
    if model.probability_matching:
        unit = probability_matched(unit, radar.to_unit(rain)[:, -1])
    expected = radar.from_unit(unit)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert got.shape == (2, model.horizon, 100, 100) and got.max() > 1  # rain rates, not [0, 1]
    with pytest.raises(ValueError, match="mm/h"):
        forecast(model, -rain, 3)


def test_checkpoints_without_a_recorded_scale_take_gray_levels(tmp_path):
    folder = tmp_path / "old"
    EncoderForecaster(hidden_channels=[4], kernel_size=3).save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    for key in ("value_transform", "step_minutes"):  # as written before the contract was recorded
        config.pop(key)
    (folder / "config.json").write_text(json.dumps(config))
    old = load_model(folder, device="cpu")
    assert old.value_transform == "unit" and old.step_minutes is None
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        forecast(old, np.full((3, 64, 64), 2.0, np.float32), 2)


def test_radar_comparison_scores_skill_and_plots_csi_by_minutes():
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=6).eval()
    frames = radar.radar(1, seed=1, frames=7, size=40)[0]
    c = compare(model, frames, context=3, horizon=4)
    assert set(c.scores) == set(METHODS)
    unit = radar.to_unit(frames[:3])
    np.testing.assert_allclose(c.forecasts["optical flow"], radar.from_unit(baselines.optical_flow(unit, 4)))
    for name, s in c.scores.items():
        assert set(s) == set(metrics.rain_score_names())
        np.testing.assert_allclose(s["csi@0.5"], metrics.csi(c.forecasts[name], frames[3:], 0.5), equal_nan=True)
    headers, rows, best = scores_table(c)
    assert headers[:4] == ["method", "CSI ↑", "POD ↑", "FAR ↓"] and len(rows) == 3
    rows = lead_time_scores(c)
    assert [r["lead time"] for r in rows[:4]] == [6, 12, 18, 24] and "CSI" in rows[0]


def test_a_model_beside_must_read_the_same_values(model, sequence):
    rain_model = load_model(RADAR_CHECKPOINT, device="cpu")
    with pytest.raises(ValueError, match="rain rate in mm/h, not gray level"):
        method_forecasts(model, sequence[None, :10], 3, others={"radar": rain_model})


def test_a_model_beside_cannot_take_a_method_name(model, sequence):
    with pytest.raises(ValueError, match="can't be named 'optical flow'"):
        method_forecasts(model, sequence[None, :10], 3, others={"optical flow": model})
