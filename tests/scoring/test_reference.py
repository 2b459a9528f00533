"""Agreement with pysteps, the field's reference: its verification scores and its probability matching
equal ours; its Lucas–Kanade and S-PROG nowcasts as convlstm.scoring.reference makes them."""

import numpy as np
import pytest

from convlstm.scoring import metrics

pysteps = pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) is the reference implementation")


def test_categorical_scores_and_fss_equal_pysteps_verification():
    from pysteps.verification import det_cat_fct, fss

    rng = np.random.default_rng(0)
    pred, obs = (rng.gamma(0.6, 1.5, (64, 80)) for _ in range(2))  # continuous: no value sits on a threshold
    for threshold in (0.5, 2.0, 5.0):
        ours = metrics.categorical_scores(pred[None], obs[None], threshold)  # one frame, (T, H, W)
        theirs = det_cat_fct(pred, obs, threshold, scores=["CSI", "POD", "FAR", "BIAS"])
        for name in ("csi", "pod", "far", "bias"):
            assert ours[name][0] == pytest.approx(theirs[name.upper()], rel=1e-12)
    for scale in (1, 5, 11, 21):
        assert metrics.fss(pred[None], obs[None], 1.0, scale)[0] == pytest.approx(fss(pred, obs, 1.0, scale), rel=1e-9)


def test_probability_matching_equals_pysteps():
    from pysteps.postprocessing.probmatching import nonparam_match_empirical_cdf

    from convlstm.core.inference import probability_matched

    rng = np.random.default_rng(0)
    last = np.where(rng.random((40, 50)) < 0.3, rng.random((40, 50)), 0)  # 30 % wet
    for wet in (0.1, 0.3, 0.8):  # fewer, about as many and more wet pixels than the last frame
        frame = np.where(rng.random((40, 50)) < wet, rng.random((40, 50)) * 0.9 + 0.05, 0)
        ours = probability_matched(frame[None, None].astype(np.float32), last[None].astype(np.float32))[0, 0]
        np.testing.assert_allclose(ours, nonparam_match_empirical_cdf(frame, last), rtol=1e-6)


def test_pysteps_nowcasts_move_the_rain_with_its_motion():
    from convlstm.scoring.reference import pysteps_forecasts

    y, x = np.mgrid[:100, :100].astype(np.float32)

    def rain(t):  # two cells moving 2 px a step to the right, mm/h
        cells = 8 * np.exp(-((y - 50) ** 2 + (x - 30 - 2 * t) ** 2) / 60) + \
            4 * np.exp(-((y - 30) ** 2 + (x - 20 - 2 * t) ** 2) / 30)
        return np.where(cells > 0.2, cells, 0).astype(np.float32)

    made = pysteps_forecasts(np.stack([rain(t) for t in range(4)]), 3)
    assert list(made) == ["pysteps LK", "pysteps S-PROG"]
    for name, f in made.items():
        assert f.shape == (3, 100, 100) and f.dtype == np.float32 and np.isfinite(f).all() and f.min() >= 0, name
        for k in range(3):
            truth = rain(4 + k)
            assert (f[k] * x).sum() / f[k].sum() == pytest.approx((truth * x).sum() / truth.sum(), abs=0.5), name
            assert f[k].sum() == pytest.approx(truth.sum(), rel=0.05), name
