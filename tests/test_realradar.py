"""Real-radar evaluation: the sample rules, our scores against pysteps' verification, and the full run."""

import json
from pathlib import Path

import numpy as np
import pytest

from convlstm import metrics, realradar

pysteps = pytest.importorskip("pysteps", reason="pysteps (requirements-dev.txt) is the reference implementation")
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "radar"


def test_categorical_scores_and_fss_equal_pysteps_verification():
    from pysteps.verification import det_cat_fct, fss

    rng = np.random.default_rng(0)
    pred, obs = (rng.gamma(0.6, 1.5, (64, 80)) for _ in range(2))  # continuous: no value sits on a threshold
    for threshold in (0.5, 2.0, 5.0):
        ours = metrics.categorical_scores(pred[None], obs[None], threshold)  # one frame, (T, H, W)
        theirs = det_cat_fct(pred, obs, threshold, scores=["CSI", "POD", "FAR"])
        for name in ("csi", "pod", "far"):
            assert ours[name][0] == pytest.approx(theirs[name.upper()], rel=1e-12)
    for scale in (1, 5, 11, 21):
        assert metrics.fss(pred[None], obs[None], 1.0, scale)[0] == pytest.approx(fss(pred, obs, 1.0, scale), rel=1e-9)


def test_probability_matching_equals_pysteps():
    from pysteps.postprocessing.probmatching import nonparam_match_empirical_cdf

    from convlstm.inference import probability_matched

    rng = np.random.default_rng(0)
    last = np.where(rng.random((40, 50)) < 0.3, rng.random((40, 50)), 0)  # 30 % wet
    for wet in (0.1, 0.3, 0.8):  # fewer, about as many and more wet pixels than the last frame
        frame = np.where(rng.random((40, 50)) < wet, rng.random((40, 50)) * 0.9 + 0.05, 0)
        ours = probability_matched(frame[None, None].astype(np.float32), last[None].astype(np.float32))[0, 0]
        np.testing.assert_allclose(ours, nonparam_match_empirical_cdf(frame, last), rtol=1e-6)


def test_block_average_keeps_only_fully_covered_blocks():
    rain = np.arange(2 * 6 * 7, dtype=np.float32).reshape(2, 6, 7)
    rain[0, 0, 0] = np.nan
    out = realradar.block_average(rain, 3)
    assert out.shape == (2, 2, 2)
    assert np.isnan(out[0, 0, 0]) and not np.isnan(out[1, 0, 0])
    assert out[0, 1, 1] == pytest.approx(rain[0, 3:6, 3:6].mean())


def synthetic_composite():
    """24 frames of 260×300 rain: a disk of radar coverage, a rain band drifting east inside it."""
    y, x = np.mgrid[:260, :300]
    covered = (y - 130) ** 2 + (x - 150) ** 2 < 120**2
    rain = np.zeros((24, 260, 300), np.float32)
    for t in range(24):
        rain[t] = np.where(np.abs(x - 60 - 3 * t) < 40, 2.0, 0.0) + 0.01 * ((x + y) % 7)
    return np.where(covered, rain, np.nan), covered


def test_samples_follow_the_rules():
    rain, covered = synthetic_composite()
    found = realradar.samples(rain, "synthetic")
    again = realradar.samples(rain, "synthetic")
    assert found and [(s.start, s.top, s.left) for s in found] == [(s.start, s.top, s.left) for s in again]
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(found, again, strict=True))  # deterministic
    starts = {}
    for s in found:
        window = (slice(s.top, s.top + 100), slice(s.left, s.left + 100))
        assert s.frames.shape == (20, 100, 100) and s.start % 4 == 0
        assert s.mask.mean() >= 0.9 and np.array_equal(s.mask, covered[window])  # the radar's own coverage
        assert (s.frames[:, ~s.mask] == 0).all()  # nothing outside coverage, in inputs and truth
        assert (s.frames[4] > 0.5).mean() >= 0.05  # rain in the last input frame
        starts.setdefault(s.start, []).append(s)
    for same_start in starts.values():
        assert len(same_start) <= 4
        for i, a in enumerate(same_start):
            for b in same_start[i + 1:]:
                assert abs(a.top - b.top) >= 50 or abs(a.left - b.left) >= 50  # at most half shared
    assert not realradar.samples(np.full((24, 260, 300), np.nan, np.float32))  # no coverage, no sample


def test_masked_forecasts_are_zero_outside_coverage():
    from convlstm import load_model
    from convlstm.inference import RADAR_CHECKPOINT

    rain, _ = synthetic_composite()
    sample = realradar.samples(rain, "synthetic")[0]
    model = load_model(RADAR_CHECKPOINT, device="cpu")
    seconds = {}
    made = realradar.forecasts({"ConvLSTM": model}, sample, seconds)
    assert set(made) == {"ConvLSTM", "optical flow", "persistence", "pysteps LK", "pysteps S-PROG"}
    for f in made.values():
        assert f.shape == (15, 100, 100) and (f[:, ~sample.mask] == 0).all() and f.min() >= 0
    assert set(seconds) >= {"ConvLSTM", "optical flow", "persistence"}


def test_with_amounts_of_keeps_the_placement_and_takes_the_reference_amounts():
    rng = np.random.default_rng(1)

    def rain(wet, scale):  # mm/h, 0.1 and more where wet: the dBZ scale has nothing below 0 dBZ (0.04 mm/h)
        return np.where(rng.random((3, 30, 40)) < wet, 0.1 + rng.gamma(0.6, scale, (3, 30, 40)), 0).astype(np.float32)
    forecast, reference = rain(0.6, 2.0), rain(0.4, 4.0)
    placed = realradar.with_amounts_of(forecast, reference)
    for k in range(3):  # each frame on its own
        np.testing.assert_allclose(np.sort(placed[k].ravel()), np.sort(reference[k].ravel()), rtol=1e-5, atol=1e-6)
        for threshold in (0.5, 2.0, 5.0):  # the same rain area at every threshold
            assert (placed[k] > threshold).sum() == (reference[k] > threshold).sum()
        wetter = forecast[k].ravel().argsort(kind="stable")
        assert (np.diff(placed[k].ravel()[wetter]) >= -1e-6).all()  # the forecast's order of its pixels kept
    sparse = rain(0.2, 2.0)  # fewer wet pixels than the reference: they take its heaviest values, the rest stays dry
    placed = realradar.with_amounts_of(sparse, reference)
    assert (placed[sparse == 0] == 0).all() and ((placed > 0).sum((1, 2)) == (sparse > 0).sum((1, 2))).all()
    np.testing.assert_allclose(placed.max((1, 2)), reference.max((1, 2)), rtol=1e-5)


def test_the_evaluation_scores_the_model_at_the_references_amounts():
    from convlstm import load_model
    from convlstm.inference import RADAR_CHECKPOINT

    rain, _ = synthetic_composite()
    found = realradar.samples(rain, "synthetic")[:2]
    results = realradar.evaluate({"ConvLSTM": load_model(RADAR_CHECKPOINT, device="cpu")}, found)
    same = results["at_reference_amounts"]
    assert (same["model"], same["reference"]) == ("ConvLSTM", realradar.REFERENCE)
    placed = f"ConvLSTM at {realradar.REFERENCE}'s rain amounts"
    assert list(same["methods"]) == [realradar.REFERENCE, placed] and list(same["by_source"]) == ["synthetic"]
    assert same["methods"][realradar.REFERENCE] == results["methods"][realradar.REFERENCE]  # the reference as it is
    row = f"| all 2 | {placed} | {same['methods'][placed]['mean']['csi@0.5']:.3f} |"
    assert row in realradar.summary_table(results)


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason="the real radar composites (shared/radar beside the repo) are absent")
def test_the_evaluation_command_on_the_real_composites(tmp_path):
    from convlstm import load_model
    from convlstm.inference import RADAR_CHECKPOINT

    out = tmp_path / "real.json"
    realradar.main(["--data", str(DATA), "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["samples"] == 67
    assert {part["samples"] for part in results["by_source"].values()} == {24, 19}
    means = {name: r["mean"]["csi@0.5"] for name, r in results["methods"].items()}
    assert [name for name in means if name.startswith("ConvLSTM")] == \
        ["ConvLSTM", f"ConvLSTM {'without' if load_model(RADAR_CHECKPOINT).probability_matching else 'with'} "
                     "probability matching"]  # the bundled model, and switched the other way
    assert means["pysteps S-PROG"] > means["persistence"]  # the reference beats the trivial forecast
    assert set(results["at_reference_amounts"]["by_source"]) == set(results["by_source"])
    assert out.with_suffix(".md").is_file() and out.with_suffix(".png").is_file()
    assert len(list(tmp_path.glob("real_*.png"))) == 3  # one picture per source
