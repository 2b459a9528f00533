"""Synthetic radar: deterministic by seed, rain-like statistics, motion as imposed, the fixed sets."""

import cv2
import numpy as np
import pytest
import torch

from convlstm.core import values
from convlstm.data import synthetic_radar

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _make(n=16, seed=0, **kwargs):
    return synthetic_radar.generate_radar(n, generator=torch.Generator().manual_seed(seed), **kwargs).numpy()


def test_radar_is_deterministic_by_seed():
    a, b, c = synthetic_radar.radar(3, seed=5), synthetic_radar.radar(3, seed=5), synthetic_radar.radar(3, seed=6)
    assert a.shape == (3, 20, 100, 100) and a.dtype == np.float32
    g = torch.Generator().manual_seed(5)
    assert not torch.equal(synthetic_radar.generate_radar(2, generator=g),
                           synthetic_radar.generate_radar(2, generator=g))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_shapes_and_non_negative_rain():
    rain = synthetic_radar.radar(2, seed=0, frames=7, size=48, motion="rotation")
    assert rain.shape == (2, 7, 48, 48)
    assert rain.min() >= 0 and np.isfinite(rain).all()


def test_statistics_look_like_rain():
    rain = synthetic_radar.radar(16, seed=0)
    wet = (rain > 0).mean()
    assert 0.05 < wet < 0.7
    assert (rain[rain > 0] < 1).mean() > 0.3  # most wet pixels light...
    assert (rain > 10).any()  # ...a few convective cores heavy
    # A steady field that only moves: neighbouring frames are alike, distant ones less so.
    near = np.corrcoef(rain[:, 0].ravel(), rain[:, 1].ravel())[0, 1]
    far = np.corrcoef(rain[:, 0].ravel(), rain[:, -1].ravel())[0, 1]
    assert near > 0.8 and far < near


def test_intensity_scales_rain_rates():
    np.testing.assert_allclose(synthetic_radar.radar(2, seed=1, intensity=2.0), 2 * synthetic_radar.radar(2, seed=1),
                               rtol=1e-6)


@pytest.mark.parametrize("velocity", [(1.5, -2.0), (0.0, 1.0)])
def test_rain_moves_with_the_imposed_velocity(velocity):
    rain = _make(8, motion="translation", growth_decay=False, velocity=velocity)
    window = cv2.createHanningWindow((100, 100), cv2.CV_32F)
    steps, shifts = 6, []
    for seq in values.to_unit(rain):
        if (seq[0] > 0).mean() > 0.05:
            (dx, dy), _ = cv2.phaseCorrelate(seq[0], seq[steps], window)
            shifts.append((dy / steps, dx / steps))
    assert len(shifts) >= 3
    np.testing.assert_allclose(np.median(shifts, 0), velocity, atol=0.5)


def test_rain_flows_in_from_outside_the_view():
    # Moving right at 3 px/step, the left 50 columns of the last frame were outside the view at
    # the start: they should be as rainy as the rest, not an empty wake.
    rain = _make(32, seed=2, motion="translation", growth_decay=False, velocity=(0.0, 3.0))
    assert (rain[:, -1, :, :50] > 0).mean() > 0.5 * (rain[:, 0] > 0).mean()


def test_mass_is_steady_without_growth_and_decay():
    mass = _make(64, seed=3, motion="translation", growth_decay=False, velocity=(2.0, 1.0)).sum((2, 3))
    # Over many sequences inflow balances outflow: no systematic loss or gain of rain.
    np.testing.assert_allclose(mass.mean(0) / mass[:, 0].mean(), 1, atol=0.15)
    # Moving slowly (little inflow), a sequence keeps its rain unless growth and decay are on.
    change = []
    for growth_decay in (False, True):
        slow = _make(32, seed=3, motion="translation", growth_decay=growth_decay, velocity=(0.3, 0.3)).sum((2, 3))
        change.append(np.median(np.abs(slow[:, -1] / slow[:, 0] - 1)))
    assert change[0] < 0.3 and change[1] > 1.5 * change[0]


@pytest.mark.parametrize("motion", synthetic_radar.MOTIONS)
def test_every_motion_moves_rain(motion):
    rain = _make(4, motion=motion, growth_decay=False)
    assert (rain > 0).mean() > 0.02
    assert not np.allclose(rain[:, 0], rain[:, -1])


def test_stream_yields_fresh_unit_batches():
    a, b = (iter(synthetic_radar.RadarStream(2, seed=4, frames=6, size=32)),
            synthetic_radar.RadarStream(2, seed=4, frames=6, size=32))
    first, second = next(a), next(a)
    assert first.shape == (2, 6, 32, 32) and first.dtype == torch.float32
    assert 0 <= first.min() and first.max() <= 1
    assert not torch.equal(first, second)
    torch.testing.assert_close(next(b), first)


def test_evaluation_set_is_prefix_stable():
    middle = synthetic_radar.radar_evaluation_set("val", n=5, first=6)  # across a chunk boundary
    np.testing.assert_array_equal(middle, synthetic_radar.radar_evaluation_set("val", n=11)[6:])
    some = synthetic_radar.radar_evaluation_set("val", n=3)
    more = synthetic_radar.radar_evaluation_set("val", n=synthetic_radar.CHUNK + 2)  # spans two chunks
    np.testing.assert_array_equal(some, more[:3])
    np.testing.assert_array_equal(synthetic_radar.radar(synthetic_radar.CHUNK + 1, seed=synthetic_radar.VAL_SEED)[-1],
                                  more[synthetic_radar.CHUNK])
    assert not np.allclose(some, synthetic_radar.radar_evaluation_set("test", n=3))
    with pytest.raises(ValueError):
        synthetic_radar.radar_evaluation_set("val", n=501)
    with pytest.raises(ValueError):
        synthetic_radar.radar_evaluation_set("train")


@pytest.mark.parametrize("kwargs", [dict(n=0), dict(frames=1), dict(size=8), dict(intensity=-1.0),
                                    dict(motion="spiral")])
def test_bad_arguments_raise(kwargs):
    args = dict(n=1, seed=0) | kwargs
    with pytest.raises(ValueError):
        synthetic_radar.radar(args.pop("n"), **args)
