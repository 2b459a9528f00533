"""Radar rain on the model's grid: block averaging by the measured motion, the qualifying windows, the samples."""

import numpy as np
import pytest

from convlstm.data import radar_windows
from tests.helpers import moving_band, rain_of, synthetic_composite


def test_block_average_keeps_only_fully_covered_blocks():
    rain = np.arange(2 * 6 * 7, dtype=np.float32).reshape(2, 6, 7)
    rain[0, 0, 0] = np.nan
    out = radar_windows.block_average(rain, 3)
    assert out.shape == (2, 2, 2)
    assert np.isnan(out[0, 0, 0]) and not np.isnan(out[1, 0, 0])
    assert out[0, 1, 1] == pytest.approx(rain[0, 3:6, 3:6].mean())
    np.testing.assert_allclose(radar_windows.block_average(rain[1], 2),
                               rain[1, :6, :6].reshape(3, 2, 3, 2).mean((1, 3)))


@pytest.mark.parametrize("speed, block", [(2, 1), (4, 2), (6, 3), (8, 4)])
def test_the_block_factor_brings_the_measured_motion_to_about_two_pixels_a_step(speed, block):
    dbz, _ = moving_band(4, (420, 460), speed)
    rain = rain_of(dbz)
    measured = radar_windows.measure_speed(list(rain[1:]))
    assert measured == pytest.approx(speed, rel=0.15)  # Farnebäck's flow on the shrunk field, in the files' pixels
    assert radar_windows.block_for(measured, (420, 460)) == block
    assert radar_windows.block_for(measured * 10, (420, 460)) == 4  # never below a window's 100 px a side
    assert radar_windows.measure_speed([np.zeros((200, 200))] * 3) is None  # no rain, no motion: no averaging
    assert radar_windows.block_for(None, (420, 460)) == 1


def test_samples_follow_the_rules():
    rain, covered = synthetic_composite()
    found = radar_windows.samples(rain, "synthetic")
    again = radar_windows.samples(rain, "synthetic")
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
    assert not radar_windows.samples(np.full((24, 260, 300), np.nan, np.float32))  # no coverage, no sample


def test_windows_are_the_ones_a_window_by_window_count_finds():
    rain, _ = synthetic_composite()
    clip = rain[:20]
    covered, wet = np.isfinite(clip).all(0), np.nan_to_num(clip[4]) > 0.5
    expected = sorted((-wet[t:t + 100, c:c + 100].mean(), t, c) for t in range(0, 161, 10) for c in range(0, 201, 10)
                      if covered[t:t + 100, c:c + 100].mean() >= 0.9 and wet[t:t + 100, c:c + 100].mean() >= 0.05)
    assert radar_windows.windows(clip, 4) == [(-f, t, c) for f, t, c in expected]
