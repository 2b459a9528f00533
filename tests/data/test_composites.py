"""Real radar composites cut into samples: the block average and the sample rules."""

import numpy as np
import pytest

from convlstm.data import composites
from tests.helpers import synthetic_composite

pysteps = pytest.importorskip("pysteps", reason="pysteps (requirements-dev.txt) is the reference implementation")


def test_block_average_keeps_only_fully_covered_blocks():
    rain = np.arange(2 * 6 * 7, dtype=np.float32).reshape(2, 6, 7)
    rain[0, 0, 0] = np.nan
    out = composites.block_average(rain, 3)
    assert out.shape == (2, 2, 2)
    assert np.isnan(out[0, 0, 0]) and not np.isnan(out[1, 0, 0])
    assert out[0, 1, 1] == pytest.approx(rain[0, 3:6, 3:6].mean())


def test_samples_follow_the_rules():
    rain, covered = synthetic_composite()
    found = composites.samples(rain, "synthetic")
    again = composites.samples(rain, "synthetic")
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
    assert not composites.samples(np.full((24, 260, 300), np.nan, np.float32))  # no coverage, no sample
