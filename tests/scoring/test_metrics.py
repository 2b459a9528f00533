"""Every score against an independent reference: scikit-image, numpy, or a table worked by hand."""

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from convlstm.scoring import metrics


def skimage_ssim(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=1.0)


def image_pairs():
    rng = np.random.default_rng(0)
    noise = rng.random((64, 64))
    smooth = cv2.GaussianBlur(rng.random((64, 64)), (0, 0), 3)
    smooth = (smooth - smooth.min()) / np.ptp(smooth)
    yy, xx = np.mgrid[:64, :64]
    disc = ((yy - 30) ** 2 + (xx - 25) ** 2 < 150).astype(float)
    return [
        (noise, rng.random((64, 64))),                                 # unrelated noise
        (smooth, np.clip(smooth + 0.1 * rng.standard_normal((64, 64)), 0, 1)),  # noisy copy
        (disc, np.roll(disc, (3, -2), axis=(0, 1))),                   # shifted shape
        (disc, cv2.GaussianBlur(disc, (0, 0), 2)),                     # blurred shape
        (np.zeros((64, 64)), disc),                                    # empty forecast
        (smooth, smooth),                                              # identical
        (rng.random((11, 11)), rng.random((11, 11))),                  # smallest frame
        (rng.random((23, 40)), rng.random((23, 40))),                  # not square
    ]


@pytest.mark.parametrize("pair", image_pairs())
def test_ssim_matches_scikit_image(pair):
    a, b = pair
    ours = metrics.ssim(a[None], b[None])
    assert ours.shape == (1,)
    assert ours[0] == pytest.approx(skimage_ssim(a, b), abs=1e-4)


def test_ssim_is_per_frame_over_batches():
    rng = np.random.default_rng(1)
    pred = rng.random((3, 4, 32, 32)).astype(np.float32)
    truth = np.clip(pred + 0.2 * rng.standard_normal(pred.shape), 0, 1).astype(np.float32)
    expected = [[skimage_ssim(pred[n, t].astype(float), truth[n, t].astype(float)) for t in range(4)]
                for n in range(3)]
    np.testing.assert_allclose(metrics.ssim(pred, truth), expected, atol=1e-4)


def test_ssim_rejects_frames_smaller_than_the_window():
    with pytest.raises(ValueError, match="11"):
        metrics.ssim(np.zeros((1, 10, 10)), np.zeros((1, 10, 10)))


def openstl_ssim_reference(a, b):
    # What OpenSTL's structural_similarity(p, t) on float frames computed in the scikit-image versions it
    # used, with every default that matters spelled out (data_range=None then meant the float dtype's -1..1).
    return structural_similarity(a, b, win_size=7, data_range=2.0, gaussian_weights=False,
                                 use_sample_covariance=True, K1=0.01, K2=0.03)


def moving_mnist_like_pairs():
    from convlstm.data import moving_mnist

    seqs = moving_mnist(2, seed=3, split="test").astype(np.float64)  # (2, 20, 64, 64): digits on black
    truth = seqs[:, 10:]
    blurry = np.stack([[cv2.GaussianBlur(f, (0, 0), 2.5) * 0.7 for f in s] for s in seqs[:, 9:19]])  # a grey haze
    return truth, blurry


def test_ssim_openstl_matches_scikit_image_with_openstls_convention():
    rng = np.random.default_rng(11)
    pairs = [(a, b) for a, b in image_pairs() if min(a.shape) >= 7]
    pairs += [(rng.random((7, 7)), rng.random((7, 7))), (rng.random((9, 30)), rng.random((9, 30)))]
    for a, b in pairs:
        assert metrics.ssim_openstl(a[None], b[None])[0] == pytest.approx(openstl_ssim_reference(a, b), abs=1e-6)

    truth, blurry = moving_mnist_like_pairs()
    ours = metrics.ssim_openstl(blurry, truth)
    assert ours.shape == (2, 10)  # per frame, (N, T)
    expected = [[openstl_ssim_reference(blurry[n, t], truth[n, t]) for t in range(10)] for n in range(2)]
    np.testing.assert_allclose(ours, expected, atol=1e-6)
    # float32 frames, as OpenSTL passes them: the same numbers to float32 rounding.
    np.testing.assert_allclose(metrics.ssim_openstl(blurry.astype(np.float32), truth.astype(np.float32)),
                               expected, atol=1e-4)
    # Data range 2 quadruples C1 and C2: the black background scores higher than with range 1.
    assert (ours > metrics.ssim(blurry, truth)).all()
    with pytest.raises(ValueError, match="7"):
        metrics.ssim_openstl(np.zeros((1, 6, 6)), np.zeros((1, 6, 6)))


def test_mse_and_mae_sum_over_the_pixels_of_each_frame():
    pred = np.array([[[0.0, 1.0], [0.5, 0.0]], [[0.2, 0.2], [0.2, 0.2]]])
    truth = np.array([[[0.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_allclose(metrics.mse(pred, truth), [1 + 0.25, 4 * 0.04])
    np.testing.assert_allclose(metrics.mae(pred, truth), [1 + 0.5, 4 * 0.2])
    np.testing.assert_allclose(metrics.mse(pred[None], truth[None]), [[1.25, 0.16]])  # (N, T)
    assert metrics.average(metrics.mse(pred, truth)) == pytest.approx((1.25 + 0.16) / 2)


def test_a_64x64_frame_counts_all_4096_pixels():
    pred, truth = np.full((1, 64, 64), 0.5), np.zeros((1, 64, 64))
    assert metrics.mse(pred, truth)[0] == pytest.approx(4096 * 0.25)
    assert metrics.mae(pred, truth)[0] == pytest.approx(4096 * 0.5)


def test_psnr_formula_and_perfect_frames():
    rng = np.random.default_rng(2)
    pred, truth = rng.random((2, 16, 16)), rng.random((2, 16, 16))
    per_pixel = ((pred - truth) ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(metrics.psnr(pred, truth), 10 * np.log10(1 / per_pixel))
    np.testing.assert_allclose(metrics.psnr(truth, truth), [100.0, 100.0])  # capped, not inf


def test_bce_by_hand():
    prob = np.array([[[0.8, 0.2], [0.0, 1.0]]])
    truth = np.array([[[1.0, 0.5], [1.0, 1.0]]])
    expected = (-np.log(0.8)
                - (0.5 * np.log(0.2) + 0.5 * np.log(0.8))
                - np.log(1e-7)            # a certain miss is clamped, not infinite
                - np.log(1 - 1e-7))       # a certain hit costs (almost) nothing
    np.testing.assert_allclose(metrics.bce(prob, truth), [expected])


def test_bce_per_sequence_sums_over_frames():
    rng = np.random.default_rng(3)
    prob, truth = rng.random((2, 10, 8, 8)), rng.random((2, 10, 8, 8))
    per_frame = metrics.bce(prob, truth)
    assert per_frame.shape == (2, 10)
    np.testing.assert_allclose(metrics.bce_per_sequence(prob, truth), per_frame.sum(axis=1))
    assert metrics.bce_per_sequence(prob[0], truth[0]) == pytest.approx(per_frame[0].sum())
    # 0.09 nats per pixel over 10 frames of 64×64 is the scale of the paper's 3670.85
    p = np.full((10, 64, 64), 0.5)
    assert metrics.bce_per_sequence(p, p) == pytest.approx(10 * 4096 * np.log(2))


def contingency_example():
    # threshold 0.5; 0.5 itself is not an event (strict >)
    pred = np.array([[[0.9, 0.9, 0.1], [0.5, 0.6, 0.0]],
                     [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    truth = np.array([[[0.7, 0.2, 0.8], [0.9, 0.5, 0.0]],
                      [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    # frame 0: hits (0,0); false alarms (0,1), (1,1); misses (0,2), (1,0); correct negative (1,2)
    return pred, truth


def test_contingency_table_by_hand():
    table = metrics.contingency(*contingency_example(), threshold=0.5)
    assert table["hits"].tolist() == [1, 0]
    assert table["misses"].tolist() == [2, 0]
    assert table["false_alarms"].tolist() == [2, 0]
    assert table["correct_negatives"].tolist() == [1, 6]


def test_csi_pod_far_by_hand_and_nan_when_undefined():
    pred, truth = contingency_example()
    np.testing.assert_allclose(metrics.csi(pred, truth, 0.5), [1 / 5, np.nan])
    np.testing.assert_allclose(metrics.pod(pred, truth, 0.5), [1 / 3, np.nan])
    np.testing.assert_allclose(metrics.far(pred, truth, 0.5), [2 / 3, np.nan])
    # bias: (hits + false alarms) / (hits + misses) = 3 / 3 in frame 0; nothing observed in frame 1
    np.testing.assert_allclose(metrics.categorical_scores(pred, truth, 0.5)["bias"], [1.0, np.nan])


def test_frequency_bias_is_the_forecast_area_over_the_observed_one():
    truth = np.zeros((1, 10, 10))
    truth[0, :4] = 1.0  # 40 wet pixels observed
    for rows, area in ((2, 0.5), (4, 1.0), (8, 2.0)):  # forecasts of half, the same and twice the area
        pred = np.zeros((1, 10, 10))
        pred[0, :rows] = 1.0
        s = metrics.categorical_scores(pred, truth, 0.5)
        assert s["bias"][0] == pytest.approx(area) == pytest.approx(s["pod"][0] / (1 - s["far"][0]))


def test_fss_worked_example():
    # One event pixel each, one column apart; 3×3 windows: the 9-pixel squares of 1/9
    # overlap in 6 pixels, so Σ(F−O)² = 6/81 and ΣF² + ΣO² = 18/81: FSS = 1 − 6/18.
    pred, truth = np.zeros((1, 4, 4)), np.zeros((1, 4, 4))
    pred[0, 1, 1], truth[0, 1, 2] = 1.0, 1.0
    assert metrics.fss(pred, truth, 0.5, scale=3)[0] == pytest.approx(2 / 3)
    assert metrics.fss(pred, truth, 0.5, scale=1)[0] == pytest.approx(0.0)  # no overlap
    assert metrics.fss(pred, pred, 0.5, scale=1)[0] == pytest.approx(1.0)


def test_fss_zero_padding_at_the_border():
    # An event in the corner: the window hangs over the edge, and the outside counts as no
    # event, so the fraction there is 1/9 (not 1/4 as a shrunken window would give).
    pred, truth = np.zeros((1, 3, 3)), np.zeros((1, 3, 3))
    pred[0, 0, 0], truth[0, 2, 2] = 1.0, 1.0
    # F is 1/9 on the top-left 2×2, O on the bottom-right 2×2; they share the centre.
    assert metrics.fss(pred, truth, 0.5, scale=3)[0] == pytest.approx(1 - 6 / 8)


def test_fss_identical_fields_and_no_events():
    rng = np.random.default_rng(4)
    field = rng.random((3, 20, 20))
    np.testing.assert_allclose(metrics.fss(field, field, 0.7, scale=5), 1.0)
    assert np.isnan(metrics.fss(field, field, 2.0, scale=5)).all()


def test_rainfall_mse_and_correlation():
    rng = np.random.default_rng(5)
    pred, truth = 30 * rng.random((2, 12, 12)), 30 * rng.random((2, 12, 12))
    np.testing.assert_allclose(metrics.rainfall_mse(pred, truth), ((pred - truth) ** 2).mean(axis=(1, 2)))
    expected = [np.corrcoef(p.ravel(), t.ravel())[0, 1] for p, t in zip(pred, truth, strict=True)]
    np.testing.assert_allclose(metrics.correlation(pred, truth), expected)
    assert np.isnan(metrics.correlation(np.ones((1, 4, 4)), truth[:1, :4, :4])).all()


def test_rainfall_mse_and_correlation_over_the_covered_pixels_only():
    rng = np.random.default_rng(7)
    pred, truth = 30 * rng.random((2, 12, 12)), 30 * rng.random((2, 12, 12))
    covered = np.zeros((12, 12), bool)
    covered[2:9, 3:11] = True
    inside = (slice(None), slice(2, 9), slice(3, 11))
    for score in (metrics.rainfall_mse, metrics.correlation):
        np.testing.assert_allclose(score(pred, truth, covered), score(pred[inside], truth[inside]))
    assert np.isnan(metrics.rainfall_mse(pred, truth, np.zeros((12, 12), bool))).all()  # nothing covered
    with pytest.raises(ValueError, match="coverage mask"):
        metrics.rainfall_mse(pred, truth, covered[:5])


def test_rain_scores_leave_out_what_the_radar_did_not_see():
    rng = np.random.default_rng(8)
    covered = np.ones((16, 16), bool)
    covered[:, 10:] = False
    truth = np.where(covered, rng.gamma(0.6, 3.0, (3, 16, 16)), 0)
    pred = np.where(covered, rng.gamma(0.6, 3.0, (3, 16, 16)), 0)
    masked, inside = metrics.rain_scores(pred, truth, covered), metrics.rain_scores(pred[..., :10], truth[..., :10])
    for key in ("csi@0.5", "pod@2", "far@0.5", "bias@0.5", "rainfall_mse", "correlation"):
        np.testing.assert_allclose(masked[key], inside[key], err_msg=key)  # as if the uncovered pixels were cut off
    assert not np.allclose(metrics.rain_scores(pred, truth)["rainfall_mse"], masked["rainfall_mse"])  # diluted without
    with pytest.raises(ValueError, match="zero outside"):
        metrics.rain_scores(pred + 1, truth, covered)


def test_scores_for_the_app():
    rng = np.random.default_rng(6)
    pred, truth = rng.random((5, 64, 64)), rng.random((5, 64, 64))
    result = metrics.scores(pred, truth)
    assert set(result) == {"mse", "mae", "ssim", "psnr"}
    assert all(v.shape == (5,) for v in result.values())
    np.testing.assert_allclose(result["ssim"], metrics.ssim(pred, truth))


def test_average_leaves_out_undefined_frames():
    assert metrics.average([0.5, np.nan, 1.0]) == pytest.approx(0.75)
    assert np.isnan(metrics.average([np.nan]))


SCORES = [
    metrics.mse, metrics.mae, metrics.psnr, metrics.ssim, metrics.bce, metrics.bce_per_sequence,
    metrics.rainfall_mse, metrics.correlation, metrics.scores,
    lambda p, t: metrics.contingency(p, t, 0.5), lambda p, t: metrics.csi(p, t, 0.5),
    lambda p, t: metrics.pod(p, t, 0.5), lambda p, t: metrics.far(p, t, 0.5),
    lambda p, t: metrics.fss(p, t, 0.5, 3),
]


@pytest.mark.parametrize("score", SCORES)
def test_mismatched_or_wrong_shapes_raise_value_error(score):
    with pytest.raises(ValueError, match="same shape"):
        score(np.zeros((2, 16, 16)), np.zeros((3, 16, 16)))
    with pytest.raises(ValueError, match="same shape"):
        score(np.zeros((2, 16, 16)), np.zeros((2, 16, 17)))
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        score(np.zeros((16, 16)), np.zeros((16, 16)))


def test_fss_rejects_a_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        metrics.fss(np.zeros((1, 8, 8)), np.zeros((1, 8, 8)), 0.5, scale=0)


# --- the radar scores together, as the evaluations summarize them ----------------------------------


def skill(forecast, truth) -> dict:
    return metrics.summarize(metrics.rain_scores(forecast, truth))


def test_contingency_scores_match_a_hand_counted_table():
    # One 2×4 frame, rain in mm/h. At 0.5 mm/h (strictly greater counts as rain):
    # forecast wet at columns 0-2 of row 0 and column 0 of row 1; observed wet at (0,0), (0,1), (1,0), (1,1).
    # hits (0,0) (0,1) (1,0) = 3; false alarm (0,2) = 1; miss (1,1) = 1.
    forecast = np.array([[[3.0, 1.0, 0.6, 0.5], [2.5, 0.5, 0.0, 0.0]]])
    truth = np.array([[[1.0, 6.0, 0.0, 0.0], [0.7, 2.1, 0.5, 0.4]]])
    s = skill(forecast, truth)["mean"]
    assert s["csi@0.5"] == pytest.approx(3 / 5)
    assert s["pod@0.5"] == pytest.approx(3 / 4)
    assert s["far@0.5"] == pytest.approx(1 / 4)
    # At 2 mm/h: forecast wet (0,0) (1,0); observed wet (0,1) (1,1): no hits, 2 misses, 2 false alarms.
    assert (s["csi@2"], s["pod@2"], s["far@2"]) == (0.0, 0.0, 1.0)
    # At 5 mm/h nothing is forecast: FAR is undefined (NaN), POD is 0 of 1.
    assert np.isnan(s["far@5"]) and s["pod@5"] == 0.0 and s["csi@5"] == 0.0
    assert s["rainfall_mse"] == pytest.approx(((forecast - truth) ** 2).mean())


def test_fss_through_skill_scores_matches_a_hand_worked_case():
    # A 1×3 strip at 1 mm/h: forecast event at x=0, observed at x=1.
    forecast = np.array([[[2.0, 0.0, 0.0]]])
    truth = np.array([[[0.0, 2.0, 0.0]]])
    s = skill(forecast, truth)["mean"]
    assert s["fss1@1"] == pytest.approx(0.0)  # pixelwise: no overlap at all
    # 5×5 windows (zero outside) hold 1 event in 25 pixels wherever the event is within 2 px:
    # F = [1, 1, 1]/25 (every pixel sees x=0), O = [1, 1, 1]/25 (every pixel sees x=1): identical.
    assert s["fss5@1"] == pytest.approx(1.0)


def test_skill_scores_per_lead_time():
    rng = np.random.default_rng(0)
    truth = rng.gamma(0.5, 2.0, (3, 4, 16, 16)).astype(np.float32)
    result = skill(truth, truth)
    assert set(result["per_lead"]) == set(metrics.rain_score_names())
    assert all(len(v) == 4 for v in result["per_lead"].values())
    assert result["mean"]["csi@0.5"] == 1.0 and result["mean"]["far@0.5"] == 0.0
    assert result["mean"]["correlation"] == pytest.approx(1.0)
