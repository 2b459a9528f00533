"""CSI by lead time, drawn with OpenCV."""

import numpy as np

from convlstm.viz.plots import COLORS, csi_plot, lead_minutes

RESULTS = {"step_minutes": 6, "horizon": 5, "sequences": 3, "methods": {
    "ConvLSTM": {"per_lead": {"csi@0.5": [0.8, 0.7, 0.6, 0.5, 0.4]}},
    "optical flow": {"per_lead": {"csi@0.5": [0.7, 0.6, 0.5, 0.4, 0.3]}},
    "persistence": {"per_lead": {"csi@0.5": [0.6, 0.5, float("nan"), 0.3, 0.2]}},  # undefined at one lead time
    "another model": {"per_lead": {"csi@0.5": [0.5, 0.4, 0.3, 0.2, 0.1]}},
}}


def test_lead_times_are_in_minutes():
    assert lead_minutes(RESULTS) == [6, 12, 18, 24, 30]


def test_csi_plot_is_an_rgb_image_with_a_curve_in_each_methods_colour():
    image = csi_plot(RESULTS)
    assert image.shape == (440, 720, 3) and image.dtype == np.uint8
    for colour in [*COLORS.values(), (0, 150, 0)]:  # the three methods, and green for any other model
        assert (image == colour).all(-1).sum() > 100, colour
    assert csi_plot(RESULTS, size=(400, 300)).shape == (300, 400, 3)
    worse = RESULTS | {"methods": RESULTS["methods"] | {"ConvLSTM": {"per_lead": {"csi@0.5": [0.1] * 5}}}}
    assert (csi_plot(worse) != image).any()  # the curve follows the scores
