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


def test_outside_radar_coverage_is_gray_and_the_legend_can_say_so():
    rain = np.array([[np.nan, 0.0, 30.0]], np.float32)
    rgb = colors.colorize(rain)
    assert rgb[0, 0].tolist() == list(colors.UNCOVERED) and rgb[0, 1].tolist() == [0, 0, 0]
    assert rgb[0, 2].tolist() not in (list(colors.UNCOVERED), [0, 0, 0])
    assert colors.UNCOVERED not in [rgb for _, rgb in colors.REFLECTIVITY_COLORS]  # never taken for rain
    plain, marked = colors.legend_image(swatch=40), colors.legend_image(swatch=40, uncovered=True)
    gray = [(legend == colors.UNCOVERED).all(-1).sum() for legend in (plain, marked)]
    assert marked.shape[1] == plain.shape[1] + 40 and gray[1] >= gray[0] + 40 * 22 - 60  # a swatch, less its text


def test_the_legend_folds_into_strips_of_about_equal_length_to_fit():
    whole = colors.legend_image()
    folded = colors.legend_image(width=400)
    assert folded.shape == (2 * whole.shape[0], 8 * 40, 3)  # 15 bands: 8 and 7, not 10 and 5
    assert colors.legend_image(width=10_000).shape == whole.shape
