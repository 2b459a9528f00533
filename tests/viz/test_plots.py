"""CSI by lead time and the performance diagram, drawn with OpenCV."""

import numpy as np

from convlstm.viz.plots import COLORS, csi_plot, lead_minutes, method_colors, performance_diagram

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


def test_performance_diagram_puts_each_method_at_its_success_ratio_and_pod():
    results = {"methods": {
        "ConvLSTM": {"mean": {"pod@0.5": 0.8, "far@0.5": 0.2, "csi@0.5": 0.67, "bias@0.5": 1.0},
                     "per_lead": {"pod@0.5": [0.9, 0.7], "far@0.5": [0.1, 0.3]}},
        "pysteps S-PROG": {"mean": {"pod@0.5": 0.4, "far@0.5": 0.5, "csi@0.5": 0.29, "bias@0.5": 0.8},
                           "per_lead": {"pod@0.5": [0.5, float("nan")], "far@0.5": [0.4, 0.6]}},
    }}
    image = performance_diagram(results, size=500)
    colours = method_colors(results["methods"])
    assert colours["ConvLSTM"] == COLORS["ConvLSTM"] and colours["pysteps S-PROG"] == (0, 150, 0)
    assert image.dtype == np.uint8 and image.shape == (500 + 20 * 2 + 16, 500, 3)
    side = 500 - 60 - 24  # the plot's square, from x = 60 and y = 40 + side at (0, 0)

    def at(success, pod):  # the 5×5 pixels around a point of the diagram
        x, y = round(60 + success * side), round(40 + side - pod * side)
        return image[y - 2:y + 3, x - 2:x + 3]
    for name, (success, pod) in (("ConvLSTM", (0.8, 0.8)), ("pysteps S-PROG", (0.5, 0.4))):
        assert (at(success, pod) == colours[name]).all(-1).sum() >= 20, name  # the dot at the mean
    assert not (at(0.3, 0.3) == colours["ConvLSTM"]).all(-1).any()
    moved = results | {"methods": results["methods"] | {
        "ConvLSTM": results["methods"]["ConvLSTM"] | {"mean": {"pod@0.5": 0.3, "far@0.5": 0.7}}}}
    assert (at(0.3, 0.3)[None] == np.array(colours["ConvLSTM"])).all(-1).sum() == 0
    assert (performance_diagram(moved, size=500) != image).any()  # the dot follows the scores
