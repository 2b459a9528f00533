"""Frames unlike what the bundled models learned from are told apart, in words, from frames like it."""

import numpy as np

from convlstm.data import composites, familiar, rain, synthetic_radar
from convlstm.data.mnist import moving_mnist
from convlstm.serve.requests import RADAR_EXAMPLES


def test_moving_mnist_is_familiar_and_foreign_frames_are_told_why():
    for count in (1, 2, 3):
        for frames in moving_mnist(20, seed=3, split="train", num_digits=count, frames=20):
            assert familiar.unlike_moving_mnist(frames) is None
    digits = moving_mnist(1, seed=5, num_digits=2, frames=20)[0]
    noise = np.random.default_rng(0).random((20, 64, 64)).astype(np.float32)
    assert "the background is not black" in familiar.unlike_moving_mnist(1 - digits)
    assert "of the picture is bright" in familiar.unlike_moving_mnist(noise)
    assert "hardly anything moves" in familiar.unlike_moving_mnist(np.repeat(digits[:1], 20, 0))
    assert "almost nothing bright" in familiar.unlike_moving_mnist(np.zeros((10, 64, 64), np.float32))


def test_the_speed_is_measured_at_64_px_whatever_the_frame_size():
    digits = moving_mnist(1, seed=5, num_digits=1, frames=10)[0]
    big = np.stack([np.kron(f, np.ones((4, 4), np.float32)) for f in digits])  # 256 px: 4× the pixels moved
    small, large = familiar.moving_mnist_stats(digits)["speed"], familiar.moving_mnist_stats(big)["speed"]
    assert abs(large - small) < 0.25 * small


def test_radar_rain_is_familiar_and_pictures_or_noise_are_not():
    for rates in synthetic_radar.radar(20, seed=7, frames=5):
        assert rates.max() <= 0.5 or familiar.unlike_rain(rates) is None
    for path in RADAR_EXAMPLES:
        window, _, _ = composites.load_window(path)
        assert familiar.unlike_rain(window.frames[:5]) is None
    digits = rain.rain_from_upload(moving_mnist(1, seed=5, num_digits=2, frames=5)[0], "mm/h", from_pixels=True)
    said = familiar.unlike_rain(digits)
    assert "do not vary smoothly" in said and "heavier than 50 mm/h" in said
    assert "nothing to move" in familiar.unlike_rain(np.zeros((5, 50, 50), np.float32))
