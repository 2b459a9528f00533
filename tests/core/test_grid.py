"""Fitting frames of any size to the model's square grid, and back."""

import numpy as np
import pytest

from convlstm.core.grid import fit_to_grid


def test_a_wide_upload_is_padded_centred_and_restored_with_every_pixel():
    frames = np.random.default_rng(0).random((3, 10, 30)).astype(np.float32)
    fitted, fit = fit_to_grid(frames, 30)  # already 30 wide: padded to a square, not resized
    assert fitted.shape == (3, 30, 30) and fitted.dtype == np.float32
    assert (fit.top, fit.left) == (10, 0)
    np.testing.assert_array_equal(fitted[:, 10:20], frames)  # the upload, centred
    assert not fitted[:, :10].any() and not fitted[:, 20:].any()  # zeros above and below
    np.testing.assert_array_equal(fit.restore(fitted), frames)


def test_shrinking_averages_and_the_round_trip_keeps_the_shape():
    frames = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    fitted, fit = fit_to_grid(frames, 2)
    np.testing.assert_allclose(fitted[0], [[2.5, 4.5], [10.5, 12.5]])  # the mean of each 2×2 block
    tall = np.full((2, 12, 6), 0.7, np.float32)
    fitted, fit = fit_to_grid(tall, 24)  # padded to 12×12, then enlarged
    assert fitted.shape == (2, 24, 24) and (fit.top, fit.left) == (0, 3)
    assert fitted[:, :, :4].max() == 0 and fitted[:, :, 8:16].min() == pytest.approx(0.7)  # padding, then the upload
    restored = fit.restore(fitted)
    assert restored.shape == (2, 12, 6)
    np.testing.assert_allclose(restored[:, :, 1:5], 0.7, atol=1e-6)  # away from the edge the padding blurred into
