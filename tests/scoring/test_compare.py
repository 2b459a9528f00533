"""The one comparison path: the model beside optical flow and persistence, scored by the value scale."""

import numpy as np
import pytest

from convlstm import EncoderForecaster, load_model
from convlstm.core import values
from convlstm.core.checkpoint import RADAR_CHECKPOINT
from convlstm.core.values import GRAY
from convlstm.data import synthetic_radar
from convlstm.scoring import baselines, metrics
from convlstm.scoring.compare import (
    METHODS,
    Comparison,
    compare,
    lead_time_scores,
    method_forecasts,
    score,
    scores_table,
)


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
    c = Comparison(truth, forecasts, truth, GRAY, trained_horizon=10)
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


def test_radar_comparison_scores_skill_and_plots_csi_by_minutes():
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=6).eval()
    frames = synthetic_radar.radar(1, seed=1, frames=7, size=40)[0]
    c = compare(model, frames, context=3, horizon=4)
    assert set(c.scores) == set(METHODS)
    unit = values.to_unit(frames[:3])
    np.testing.assert_allclose(c.forecasts["optical flow"], values.from_unit(baselines.optical_flow(unit, 4)))
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
