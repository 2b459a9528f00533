"""The locator map: a composite's rain, its coverage and the window, shrunk to a small picture."""

import numpy as np
import pytest

from convlstm.viz import colors
from convlstm.viz.maps import BOX, locator_map


def test_the_locator_map_shows_rain_coverage_and_the_window():
    rain = np.zeros((900, 1200), np.float32)
    rain[:, 900:] = np.nan  # the right quarter outside coverage
    rain[100:104, 200:204] = 40.0  # one small heavy shower: a 4×4 block's maximum keeps it
    image = locator_map(rain, 300, 450, 100, max_side=300)
    assert image.shape == (225, 300, 3) and image.dtype == np.uint8  # shrunk 4×
    assert (image[:, 230:] == colors.UNCOVERED).all(-1).mean() > 0.9  # no radar: gray
    assert (image[25, 50] == colors.colorize(np.float32(40.0))).all()  # the shower survives shrinking
    assert (image[:, :200] == 0).all(-1).mean() > 0.9  # dry: black
    box = (image == BOX).all(-1)
    assert box[75, 112:137].all() and box[100, 112:137].all() and box[75:101, 112].all()  # the outline at /4
    assert not box[80:96, 116:133].any()  # inside it, the map
    with pytest.raises(ValueError, match="does not lie inside"):
        locator_map(rain, 850, 0, 100)


def test_a_small_composite_is_not_enlarged():
    rain = np.ones((150, 120), np.float32)
    assert locator_map(rain, 0, 0, 100).shape == (150, 120, 3)
