"""Decoded pixels to gray: integers scaled to [0, 1], other numbers kept, colour to BT.601 luminance over black."""

import numpy as np
import pytest

from convlstm.data.decoders.gray import luminance, unit


def test_integers_are_scaled_to_one_and_other_numbers_kept_as_they_are():
    np.testing.assert_array_equal(unit(np.array([0, 51, 255], np.uint8)), np.array([0, 0.2, 1], np.float32))
    np.testing.assert_array_equal(unit(np.array([0, 65535], ">u2")), [0, 1])  # big-endian, as some instruments store
    assert unit(np.array([True, False])).tolist() == [1, 0] and unit(np.array([True])).dtype == np.float32
    huge = unit(np.array([-3.0, 1e300]))
    assert huge.dtype == np.float64 and huge.tolist() == [-3.0, 1e300]  # float32 would make 1e300 infinite


def test_colour_is_bt601_luminance_in_either_channel_order_and_alpha_is_over_black():
    rgb = np.array([[[1.0, 0.5, 0.25]]], np.float32)  # (H, W, C) = (1, 1, 3)
    expected = 0.299 * 1.0 + 0.587 * 0.5 + 0.114 * 0.25
    assert luminance(rgb)[0, 0] == pytest.approx(expected)
    assert luminance(rgb[..., ::-1], bgr=True)[0, 0] == pytest.approx(expected)
    rgba = np.concatenate([rgb, np.full((1, 1, 1), 0.5, np.float32)], -1)
    assert luminance(rgba)[0, 0] == pytest.approx(expected / 2)
    gray_alpha = np.array([[[0.8, 0.25]]], np.float32)
    assert luminance(gray_alpha)[0, 0] == pytest.approx(0.2)
    plain = np.ones((2, 3), np.float32)
    assert luminance(plain) is plain  # already gray: as it is
