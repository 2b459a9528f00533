"""A comparison's scores in plain words, for people who don't read score tables: which forecast is closest to
the truth, which looks most like it, how far ahead the ConvLSTM beats doing nothing; and how to read the scores.

    verdict(comparison)   # "**In plain words:** optical flow looks most like the truth ..."
    HOW_TO_READ["unit"]   # why a blurry forecast can have the lowest squared error
"""

from __future__ import annotations

from ..core.values import Scale
from . import metrics
from .compare import Comparison

# By value scale name: (score key, higher is better, what the best at it does, in words)
PLAIN = {
    "unit": [("mse", False, "is closest pixel by pixel"), ("ssim", True, "looks most like the truth")],
    "dbz60": [("csi@0.5", True, "puts rain where it fell best"), ("far@0.5", False, "raises the fewest false alarms")],
}
HOW_TO_READ = {
    "unit": ("**How to read the scores.** *Doing nothing* is persistence: the last input held. *MSE/frame*: the "
             "squared difference from the truth, summed over a "
             "frame's pixels; lower is better. It rewards a blurry forecast, which is never far wrong, over a sharp "
             "one a few pixels off, so the blurriest forecast often has the lowest MSE. *SSIM*: how alike the "
             "shapes and edges are, 1 for identical; higher is better, and it follows what the eye sees. Green: "
             "the best of each column."),
    "dbz60": ("**How to read the scores** (rain = more than 0.5 mm/h unless named). *Doing nothing* is "
              "persistence: the last input held. *CSI*: of the places where rain "
              "was forecast or fell, the share where both happened; 1 is perfect. *POD*: the share of the rain that "
              "fell that was forecast. *FAR*: the share of the rain forecast that did not fall. *bias*: the rain "
              "area forecast over the area that fell, 1 is right, above 1 too much. *FSS*: CSI's kinder cousin, "
              "which forgives rain a few pixels off. *rain MSE*, *corr.*: how close the amounts are. Green: the "
              "best of each column."),
}


def verdict(comparison: Comparison) -> str:
    """One sentence (markdown) on the forecasts: who is best at each of the scale's plain-words scores (its mean
    over the lead times), and up to which lead time the ConvLSTM beats persistence (doing nothing) on the first."""
    c = comparison
    if not c.scores:
        return ("**In plain words:** no frames follow the input, so the forecasts can be looked at but not scored. "
                "Upload more frames than the context to see which is closest to what happened.")
    said = []
    for key, higher, words in PLAIN[c.scale.name]:
        means = {name: metrics.average(s[key]) for name, s in c.scores.items() if name in c.forecasts}
        best = max(means, key=means.get) if higher else min(means, key=means.get)
        said.append(f"**{best}** {words}")
    return f"**In plain words:** {'; '.join(said)}; {_ahead(c)}."


def _ahead(c: Comparison) -> str:
    """How far ahead the ConvLSTM beats persistence on the scale's first plain-words score."""
    key, higher, _ = PLAIN[c.scale.name][0]
    ours, still = c.scores["ConvLSTM"][key], c.scores["persistence"][key]
    better = [(o > s) if higher else (o < s) for o, s in zip(ours, still, strict=True)]
    if all(better):
        return f"the ConvLSTM beats doing nothing all the way to {_lead(c, len(better))}"
    if not better[0]:
        return "the ConvLSTM does not beat doing nothing"
    return f"the ConvLSTM beats doing nothing up to {_lead(c, better.index(False))}"  # the lead time before it loses


def _lead(c: Comparison, k: int) -> str:
    return c.lead_label(k).split(",")[0]  # "+30 min", not its clock time


def how_to_read(scale: Scale) -> str:
    return HOW_TO_READ[scale.name]
