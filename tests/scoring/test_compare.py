"""The one comparison path: the model beside optical flow and persistence, scored by the value scale."""

import sys
from datetime import datetime, timezone

import numpy as np
import pytest

from convlstm import EncoderForecaster, load_model
from convlstm.core import values
from convlstm.core.checkpoint import RADAR_CHECKPOINT
from convlstm.core.values import GRAY
from convlstm.data import synthetic_radar
from convlstm.scoring import baselines, metrics
from convlstm.scoring.compare import (
    BIAS,
    METHODS,
    Comparison,
    at_amounts,
    compare,
    lead_label,
    lead_time_scores,
    method_forecasts,
    score,
    scores_table,
    with_amounts_of,
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


def test_with_amounts_of_keeps_the_placement_and_takes_the_reference_amounts():
    rng = np.random.default_rng(1)

    def rain(wet, scale):  # mm/h, 0.1 and more where wet: the dBZ scale has nothing below 0 dBZ (0.04 mm/h)
        return np.where(rng.random((3, 30, 40)) < wet, 0.1 + rng.gamma(0.6, scale, (3, 30, 40)), 0).astype(np.float32)
    forecast, reference = rain(0.6, 2.0), rain(0.4, 4.0)
    placed = with_amounts_of(forecast, reference)
    for k in range(3):  # each frame on its own
        np.testing.assert_allclose(np.sort(placed[k].ravel()), np.sort(reference[k].ravel()), rtol=1e-5, atol=1e-6)
        for threshold in (0.5, 2.0, 5.0):  # the same rain area at every threshold
            assert (placed[k] > threshold).sum() == (reference[k] > threshold).sum()
        wetter = forecast[k].ravel().argsort(kind="stable")
        assert (np.diff(placed[k].ravel()[wetter]) >= -1e-6).all()  # the forecast's order of its pixels kept
    sparse = rain(0.2, 2.0)  # fewer wet pixels than the reference: they take its heaviest values, the rest stays dry
    placed = with_amounts_of(sparse, reference)
    assert (placed[sparse == 0] == 0).all() and ((placed > 0).sum((1, 2)) == (sparse > 0).sum((1, 2))).all()
    np.testing.assert_allclose(placed.max((1, 2)), reference.max((1, 2)), rtol=1e-5)


def test_lead_labels_read_as_clock_times_where_the_frames_have_them():
    frames = np.zeros((3, 8, 8), np.float32)
    now = datetime(2024, 11, 26, 1, 20, tzinfo=timezone.utc)
    c = Comparison(frames, {"ConvLSTM": np.zeros((15, 8, 8), np.float32)}, None, values.RAIN, trained_horizon=12,
                   step_minutes=5, now=now)
    assert c.lead_labels()[:2] == ["+5 min, 01:25 UTC", "+10 min, 01:30 UTC"]
    assert c.lead_labels()[-1] == "+75 min, 02:35 UTC*"  # past the training horizon, across the hour
    assert c.input_labels() == ["input 1/3, 01:10 UTC", "input 2/3, 01:15 UTC", "input 3/3, 01:20 UTC"]
    assert c.now_label() == "now, 01:20 UTC"
    assert lead_label(6, 5.0, now) == "+30 min, 01:50 UTC" and lead_label(6, 5.0) == "+30 min" and lead_label(6) == "+6"
    untimed = Comparison(frames, c.forecasts, None, values.RAIN, trained_horizon=15, step_minutes=5)
    assert untimed.lead_labels()[0] == "+5 min" and untimed.input_labels()[0] == "input 1/3"


def test_the_bias_column_prefers_the_method_closest_to_one():
    truth = np.zeros((2, 20, 20), np.float32)
    truth[:, :10] = 3.0  # half the frame wet
    forecasts = {}
    for name, rows in (("ConvLSTM", 16), ("optical flow", 9), ("persistence", 4)):  # bias 1.6, 0.9, 0.4
        forecasts[name] = np.zeros_like(truth)
        forecasts[name][:, :rows] = 3.0
    c = Comparison(truth, forecasts, truth, values.RAIN, trained_horizon=2)
    c.scores = score(c)
    headers, rows, best = scores_table(c)
    column = headers.index(BIAS)
    assert [round(row[column], 3) for row in rows] == [1.6, 0.9, 0.4]
    assert best[BIAS] == 1 and best["FAR ↓"] == 1 and best["POD ↑"] == 0


def rain_model():
    return EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                             horizon=4, value_transform="dbz60", step_minutes=6).eval()


def test_radar_coverage_is_zeroed_and_never_scored():
    frames = synthetic_radar.radar(1, seed=2, frames=7, size=40)[0] + 0.3  # rain everywhere, outside coverage too
    covered = np.ones((40, 40), bool)
    covered[:, 28:] = False
    c = compare(rain_model(), frames, context=3, horizon=4, covered=covered)
    for f in (c.context, c.truth, *c.forecasts.values()):
        assert (f[:, ~covered] == 0).all()
    for name, s in c.scores.items():
        cut = metrics.rain_scores(c.forecasts[name][..., :28], c.truth[..., :28])  # as if the rest were not there
        for key in ("csi@0.5", "far@2", "bias@0.5", "rainfall_mse", "correlation"):
            np.testing.assert_allclose(s[key], cut[key], err_msg=f"{name} {key}")
    with pytest.raises(ValueError, match="coverage mask"):
        compare(rain_model(), frames, context=3, horizon=4, covered=covered[:20])
    with pytest.raises(ValueError, match="radar models"):
        compare(EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4]), frames / frames.max(),
                context=3, horizon=4, covered=covered)


def test_the_reference_nowcast_and_the_convlstm_at_its_amounts():
    pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) makes S-PROG")
    from convlstm.scoring import reference

    frames = synthetic_radar.radar(1, seed=3, frames=7, size=40)[0]
    c = compare(rain_model(), frames, context=3, horizon=4, with_reference=True)
    assert c.reference == reference.SPROG and list(c.forecasts)[-1] == reference.SPROG
    sprog = reference.pysteps_forecasts(frames[:3], 4)[reference.SPROG]
    np.testing.assert_allclose(c.forecasts[reference.SPROG], sprog)
    placed = at_amounts("ConvLSTM", reference.SPROG)
    assert list(c.scores) == [*c.forecasts, placed]  # its own row, after the methods
    expected = metrics.rain_scores(with_amounts_of(c.forecasts["ConvLSTM"], c.forecasts[reference.SPROG]), frames[3:])
    for key, values_ in expected.items():
        np.testing.assert_allclose(c.scores[placed][key], values_, equal_nan=True)
    np.testing.assert_array_equal(c.scores[placed]["bias@0.5"], c.scores[reference.SPROG]["bias@0.5"])  # equal area
    assert placed in [row[0] for row in scores_table(c)[1]]


def test_without_pysteps_optical_flow_gives_the_amounts(monkeypatch):
    monkeypatch.setitem(sys.modules, "pysteps", None)  # what `import pysteps` meets where it isn't installed
    frames = synthetic_radar.radar(1, seed=3, frames=7, size=40)[0]
    c = compare(rain_model(), frames, context=3, horizon=4, with_reference=True)
    assert c.reference == "optical flow" and "pysteps S-PROG" not in c.forecasts
    assert "ConvLSTM at optical flow's rain amounts" in c.scores
    assert any("pip install -r requirements-radar.txt" in note for note in c.notes)
    short = compare(rain_model(), frames[:4], context=2, horizon=2, with_reference=True)  # S-PROG needs 3 frames
    assert short.reference == "optical flow" and any("needs 3 input frames" in note for note in short.notes)
