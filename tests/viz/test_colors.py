"""The reflectivity colour scale and its legend."""

import numpy as np
import pytest

from convlstm.core import values
from convlstm.viz import colors


def test_colorize_uses_the_band_colours():
    dbz = np.array([[[4.9, 40.0, 44.9, 75.0]]], np.float32)  # (T, H, W)
    rgb = colors.colorize(dbz, units="dBZ")
    assert rgb.shape == (1, 1, 4, 3) and rgb.dtype == np.uint8
    bands = dict(colors.REFLECTIVITY_COLORS)
    assert rgb[0, 0].tolist() == [[0, 0, 0], list(bands[40]), list(bands[40]), list(bands[70])]
    inside = np.array([2.0, 42.0, 44.0, 72.0], np.float32)  # away from band edges: float rounding
    np.testing.assert_array_equal(colors.colorize(values.dbz_to_rain(inside)), rgb[0, 0])  # mm/h, the default
    np.testing.assert_array_equal(colors.colorize(inside / 60, units="unit"), rgb[0, 0])
    assert colors.colorize(np.zeros((3, 8, 8)), background=(255, 255, 255)).min() == 255
    with pytest.raises(ValueError):
        colors.colorize(dbz, units="inches")


def test_legend_image():
    legend = colors.legend_image(swatch=40)
    assert legend.dtype == np.uint8 and legend.shape == (44, 40 * (len(colors.REFLECTIVITY_COLORS) + 1), 3)
    assert (legend == colors.REFLECTIVITY_COLORS[0][1]).all(-1).any()  # the 5 dBZ swatch is there
