"""A comparison's scores in plain words, for people who don't read score tables: which forecast is closest to
the truth, which looks most like it, how far ahead the ConvLSTM beats doing nothing; and how to read the scores.

    verdict(comparison)   # "**In plain words:** optical flow looks most like the truth ..."
    HOW_TO_READ["unit"]   # why a blurry forecast can have the lowest squared error
"""

from __future__ import annotations

from ..core.values import Scale
from .compare import Comparison, scores_table

# By value scale name: (a header of the scale's score table, what the best in that column does, in words)
PLAIN = {
    "unit": [("MSE/frame ↓", "is closest pixel by pixel"), ("SSIM ↑", "looks most like the truth")],
    "dbz60": [("CSI ↑", "puts rain where it fell best"), ("FAR ↓", "raises the fewest false alarms")],
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
    """One sentence (markdown) on the forecasts: who is best in each of the scale's plain-words columns of the scores
    table (as the page colours it, among the forecasts themselves), and up to which lead time the ConvLSTM beats
    persistence (doing nothing) on the first."""
    c = comparison
    if not c.scores:
        return ("**In plain words:** no frames follow the input, so the forecasts can be looked at but not scored. "
                "Upload more frames than the context to see which is closest to what happened.")
    _, rows, best = scores_table(c, methods=c.forecasts)  # the forecasts' rows, not a re-valued one
    said = [f"**{rows[best[header]][0]}** {words}" for header, words in PLAIN[c.scale.name]]
    return f"**In plain words:** {'; '.join(said)}; {_ahead(c)}."


def _ahead(c: Comparison) -> str:
    """How far ahead the ConvLSTM beats persistence on the scale's first plain-words score."""
    header, _ = PLAIN[c.scale.name][0]
    key, higher = c.scoring.table[header], "↑" in header
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
