"""Persistence and optical-flow extrapolation: shapes, exactness, and motion that is really followed."""

import cv2
import numpy as np
import pytest

from convlstm.scoring import baselines, metrics

VELOCITY = (2, 1)  # (x, y) pixels per frame


def translating_texture(frames=14, size=(64, 64), velocity=VELOCITY, seed=0):
    """A smooth random texture moving by ``velocity`` each frame: (frames, H, W) float32 in [0, 1]."""
    H, W = size
    vx, vy = velocity
    margin = max(abs(vx), abs(vy)) * frames + 8
    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.random((H + 2 * margin, W + 2 * margin)), (0, 0), 3)
    big = (big - big.min()) / np.ptp(big)
    return np.stack([big[margin - vy * t:margin - vy * t + H, margin - vx * t:margin - vx * t + W]
                     for t in range(frames)]).astype(np.float32)


def interior(frames, border=12):
    return frames[:, border:-border, border:-border]


def test_persistence_repeats_the_last_frame_exactly():
    frames = np.random.default_rng(0).random((4, 9, 13)).astype(np.float32)
    out = baselines.persistence(frames, 3)
    assert out.shape == (3, 9, 13) and out.dtype == np.float32
    for frame in out:
        np.testing.assert_array_equal(frame, frames[-1])


@pytest.mark.parametrize("settings", [{}, {"method": "dis"}, {"method": "dis", "preset": "medium"},
                                      {"method": "farneback", "window": 9}, {"flow_frames": 3, "smoothing": 2}])
def test_optical_flow_follows_a_translation(settings):
    sequence = translating_texture()
    inputs, truth = sequence[:8], sequence[8:]
    predicted = baselines.optical_flow(inputs, len(truth), **settings)
    persisted = baselines.persistence(inputs, len(truth))
    flow_error = metrics.mse(interior(predicted), interior(truth)).mean()
    persistence_error = metrics.mse(interior(persisted), interior(truth)).mean()
    assert flow_error < 0.2 * persistence_error, (flow_error, persistence_error)


def test_optical_flow_on_frames_that_are_not_square():
    sequence = translating_texture(size=(48, 80))
    predicted = baselines.optical_flow(sequence[:8], 4)
    assert predicted.shape == (4, 48, 80)
    flow_error = metrics.mse(interior(predicted), interior(sequence[8:12])).mean()
    persistence_error = metrics.mse(interior(baselines.persistence(sequence[:8], 4)),
                                    interior(sequence[8:12])).mean()
    assert flow_error < 0.2 * persistence_error


def test_optical_flow_output_shape_dtype_and_range():
    frames = np.random.default_rng(1).random((10, 64, 64))  # float64, unstructured
    out = baselines.optical_flow(frames, 10)
    assert out.shape == (10, 64, 64) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


def test_optical_flow_with_one_frame_is_persistence():
    frame = translating_texture(frames=1)
    np.testing.assert_array_equal(baselines.optical_flow(frame, 5), baselines.persistence(frame, 5))


def test_backtracking_follows_the_flow_step_by_step():
    # u(x) = α·x: tracing back one step at a time gives departure x·(1 − α)^k, which differs
    # from the single jump x − k·u(x) = x·(1 − kα). The image encodes x, so the forecast
    # shows where each pixel came from.
    H, W, alpha = 8, 64, 0.1
    x = np.arange(W, dtype=np.float32)
    velocity = np.zeros((H, W, 2), np.float32)
    velocity[..., 0] = alpha * x
    image = np.tile(x / W, (H, 1)).astype(np.float32)
    out = baselines._advect(image, velocity, 5)
    for k in range(1, 6):
        np.testing.assert_allclose(out[k - 1, 4, 1:], (x[1:] * (1 - alpha) ** k) / W, atol=2e-3)


@pytest.mark.parametrize("forecaster", [baselines.persistence, baselines.optical_flow])
def test_bad_input_raises_value_error(forecaster):
    good = np.zeros((3, 16, 16), np.float32)
    for bad, horizon in [(np.zeros((16, 16)), 2), (np.zeros((3, 1, 16, 16)), 2), (good, 0), (good, 1.5),
                         (good + 2, 2), (np.zeros((3, 16, 16), np.uint8), 2)]:
        with pytest.raises(ValueError):
            forecaster(bad, horizon)


def test_optical_flow_rejects_unknown_settings():
    frames = np.zeros((3, 16, 16), np.float32)
    for settings in [{"method": "rover"}, {"method": "dis", "preset": "slow"}, {"flow_frames": 1},
                     {"smoothing": -1}, {"method": "farneback", "window": 1}]:
        with pytest.raises(ValueError):
            baselines.optical_flow(frames, 2, **settings)
