"""The scores in plain words: who is best at what, and how far ahead the ConvLSTM beats doing nothing."""

import numpy as np

from convlstm.core.values import GRAY, RAIN
from convlstm.scoring.compare import SCORING, Comparison
from convlstm.scoring.verdict import HOW_TO_READ, verdict


def comparison(scale, scores: dict[str, dict[str, list[float]]], step_minutes=None) -> Comparison:
    blank = np.zeros((3, 8, 8), np.float32)
    forecasts = {name: blank for name in scores if "amounts" not in name}
    keys = SCORING[scale.name].table.values()  # the scores not given: undefined (NaN), as a score can be
    return Comparison(blank, forecasts, blank, scale, 3, step_minutes=step_minutes,
                      scores={name: {k: np.array(s.get(k, [np.nan] * len(next(iter(s.values()))))) for k in keys}
                              for name, s in scores.items()})


def test_a_blurry_forecast_closest_and_a_sharp_one_most_alike_are_told_apart():
    c = comparison(GRAY, {"ConvLSTM": {"mse": [50, 80, 120], "ssim": [0.7, 0.6, 0.5]},
                          "optical flow": {"mse": [60, 100, 150], "ssim": [0.8, 0.7, 0.65]},
                          "persistence": {"mse": [70, 90, 110], "ssim": [0.6, 0.5, 0.4]}})
    said = verdict(c)
    assert said == ("**In plain words:** **ConvLSTM** is closest pixel by pixel; **optical flow** looks most like the "
                    "truth; the ConvLSTM beats doing nothing up to +2.")  # it loses to persistence at +3


def test_rain_words_and_minutes_and_the_rows_that_are_no_forecast():
    good = {"csi@0.5": [0.9, 0.8], "far@0.5": [0.1, 0.2]}
    c = comparison(RAIN, {"ConvLSTM": good, "persistence": {"csi@0.5": [0.8, 0.6], "far@0.5": [0.05, 0.2]},
                          "ConvLSTM at persistence's rain amounts": {"csi@0.5": [1, 1], "far@0.5": [0, 0]}},
                   step_minutes=5)
    said = verdict(c)
    assert "**ConvLSTM** puts rain where it fell best" in said  # not the re-valued row
    assert "**persistence** raises the fewest false alarms" in said  # 0.125 against 0.15: means over lead times
    assert said.endswith("the ConvLSTM beats doing nothing all the way to +10 min.")


def test_no_truth_no_verdict_and_every_scale_has_its_reading():
    c = comparison(GRAY, {})
    assert "can be looked at but not scored" in verdict(c)
    assert "blurriest forecast often has the lowest MSE" in HOW_TO_READ["unit"]
    assert "bias" in HOW_TO_READ["dbz60"]
