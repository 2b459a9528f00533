"""The model beside the classical baselines: one forecast path for every kind of sequence.

Every comparison, in the app, the evaluation commands and the benchmarks, starts here:
``method_forecasts`` makes the ConvLSTM, optical-flow and persistence forecasts of a batch of
sequences (and those of other models beside the ConvLSTM), and ``compare`` does it for one
sequence and scores it. What the numbers mean (gray levels or rain rates) comes from the model's
value scale (``model.scale``), and how each scale is scored from ``SCORING`` here, so Moving
MNIST and radar differ in parameters, not in code.

The baselines run on the model's [0, 1] scale (``Scale.encode``) and come back in the data's
units (``Scale.decode``), as the model's forecast does: for radar that is dBZ / 60, and tracking
a log-scaled field is what pysteps does too (it works in dBR); it keeps the motion estimate
from being dominated by the few heaviest cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core.checks import whole_number
from ..core.inference import forecast
from ..core.model import EncoderForecaster
from ..core.values import Scale
from . import baselines, metrics

METHODS = ("ConvLSTM", "optical flow", "persistence")
MAX_HORIZON = 20
MAX_CONTEXT = 50

Progress = Callable[[float, str], None]


def no_progress(fraction: float, text: str) -> None:
    pass


BASELINES = {"optical flow": baselines.optical_flow, "persistence": baselines.persistence}


def _pixel_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    small = min(truth.shape[-2:]) < metrics.SSIM_WINDOW  # SSIM is undefined on tiny frames
    ssim = np.full(truth.shape[:-2], np.nan) if small else metrics.ssim(pred, truth)
    return {"mse": metrics.mse(pred, truth), "ssim": ssim}


@dataclass(frozen=True)
class Scoring:
    """How forecasts of one value scale are scored and which of those scores a comparison reports."""
    scores: Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]  # per-frame scores by key
    table: dict[str, str]  # the reported columns: header (↑ or ↓ says which way is better) → key
    plot: tuple[str, str]  # the score shown by lead time: (key, axis title)


SCORING = {  # by value scale name
    "unit": Scoring(_pixel_scores, {"MSE/frame ↓": "mse", "SSIM ↑": "ssim"}, ("mse", "MSE/frame")),
    "dbz60": Scoring(metrics.rain_scores,
                     {"CSI ↑": "csi@0.5", "POD ↑": "pod@0.5", "FAR ↓": "far@0.5", "CSI 2 mm/h ↑": "csi@2",
                      "FSS 11 px ↑": "fss11@1", "rain MSE ↓": "rainfall_mse", "corr. ↑": "correlation"},
                     ("csi@0.5", "CSI")),
}


def method_forecasts(model: EncoderForecaster, context: np.ndarray, horizon: int, *,
                     others: Mapping[str, EncoderForecaster] | None = None, with_baselines: bool = True,
                     precision: str = "auto", progress: Progress = no_progress,
                     seconds: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """Forecasts {method: (N, horizon, H, W)} of sequences ``context`` (N, T, H, W), in the units
    of the model's value scale (in and out): "ConvLSTM" (``model``), then each of ``others`` under
    its name (models of the same value scale, shown beside it), then the baselines in METHODS
    order; ``precision`` as convlstm.forecast's. ``seconds``, if given, gathers each method's CPU time."""
    scale = model.scale
    context = scale.check(context, "the frames")
    others = others or {}
    for name, other in others.items():
        if name in METHODS:
            raise ValueError(f"a model beside the ConvLSTM can't be named {name!r}: that is one of {METHODS}")
        if other.scale != scale:
            raise ValueError(f"{name} forecasts {other.scale.units}, not {scale.units} as the ConvLSTM does")
    seconds = {} if seconds is None else seconds

    def timed(name: str, make):
        begin = time.process_time()
        out[name] = make()
        seconds[name] = seconds.get(name, 0.0) + time.process_time() - begin

    out: dict[str, np.ndarray] = {}
    progress(0.1, "ConvLSTM forecast")
    timed("ConvLSTM", lambda: forecast(model, context, horizon, precision=precision))
    for name, other in others.items():
        timed(name, lambda m=other: forecast(m, context, horizon, precision=precision))
    if with_baselines:
        progress(0.4, "optical-flow baseline")
        unit = scale.encode(context)
        for name, method in BASELINES.items():
            timed(name, lambda m=method: scale.decode(np.stack([m(s, horizon) for s in unit])).astype(np.float32))
    return out


@dataclass
class Comparison:
    context: np.ndarray  # (C, H, W): the frames the forecasts start from, in the scale's units
    forecasts: dict[str, np.ndarray]  # method → (horizon, H, W): "ConvLSTM", the models beside it, the baselines
    truth: np.ndarray | None  # (K, H, W), 1 ≤ K ≤ horizon: the frames that followed, if there were any
    scale: Scale  # what the values mean (their scoring is SCORING[scale.name])
    trained_horizon: int  # the model's training horizon: lead times past it are extrapolation
    step_minutes: float | None = None  # time between frames; None: lead times are counted in frames
    scores: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # method → score key → (K,)
    notes: list[str] = field(default_factory=list)  # for the user, in plain words

    @property
    def horizon(self) -> int:
        return len(self.forecasts["ConvLSTM"])

    @property
    def scoring(self) -> Scoring:
        return SCORING[self.scale.name]

    def lead_labels(self) -> list[str]:
        """"+1", "+2", ... (or "+6 min", "+12 min", ...); a star marks lead times past the training horizon."""
        return [self.lead_label(k) + ("*" if k > self.trained_horizon else "") for k in range(1, self.horizon + 1)]

    def lead_label(self, k: int) -> str:
        return lead_label(k, self.step_minutes)


def lead_label(k: int, step_minutes: float | None = None) -> str:
    """Lead time k as people read it: "+k" frames, or "+30 min" where frames are ``step_minutes`` apart."""
    return f"+{k * step_minutes:g} min" if step_minutes else f"+{k}"


def compare(model: EncoderForecaster, frames: np.ndarray, *, context: int, horizon: int,
            others: Mapping[str, EncoderForecaster] | None = None, step_minutes: float | None = None,
            progress: Progress = no_progress) -> Comparison:
    """Forecast the frames after the first ``context`` ones with the model, ``others`` (models shown
    beside it, by name) and both baselines.

    ``frames`` (T, H, W) are in the units of the model's value scale. Frames after the context
    (up to ``horizon`` of them) are the ground truth and get scored; with none, there are
    forecasts and no scores. A sequence shorter than ``context`` is used whole, with a note.
    ``step_minutes`` is the time between these frames (default: the model's own time step).
    Bad arguments raise ValueError with a message for the user.
    """
    context = whole_number("The context length", context, 1, MAX_CONTEXT)
    horizon = whole_number("The horizon", horizon, 1, MAX_HORIZON)
    frames = np.asarray(frames, np.float32)
    if frames.ndim != 3 or min(frames.shape) < 1:
        raise ValueError(f"Expected frames of shape (T, H, W), got {frames.shape}.")
    notes = []
    if len(frames) < context:
        notes.append(f"The sequence has {len(frames)} frame(s), fewer than the context length {context}: "
                     f"all {len(frames)} are used as context, and there is no ground truth to score against.")
        context = len(frames)
    past, truth = frames[:context], frames[context:context + horizon]
    if len(frames) > context + horizon:
        notes.append(f"{len(frames) - context - horizon} frame(s) after the forecast horizon were not used.")

    forecasts = {name: f[0] for name, f in method_forecasts(model, past[None], horizon, others=others,
                                                                   progress=progress).items()}
    comparison = Comparison(past, forecasts, truth if len(truth) else None, model.scale,
                            model.horizon, step_minutes or model.step_minutes, notes=notes)
    if horizon > model.horizon:
        notes.append(f"The model was trained to forecast {model.horizon} frames; lead times past "
                     f"{comparison.lead_label(model.horizon)} (marked *) are extrapolation.")
    if len(truth) == 0:
        notes.append("No frames follow the context, so the forecasts are shown without ground truth or scores. "
                     "Give more frames than the context length to score them.")
    elif len(truth) < horizon:
        notes.append(f"Only {len(truth)} frame(s) follow the context: scores cover lead times "
                     f"{comparison.lead_label(1)} to {comparison.lead_label(len(truth))}.")
    progress(0.6, "scores")
    comparison.scores = score(comparison)
    return comparison


def score(comparison: Comparison) -> dict[str, dict[str, np.ndarray]]:
    """Per-lead-time scores of each method against the truth ({} without truth), by the scale's keys."""
    truth = comparison.truth
    if truth is None:
        return {}
    return {name: comparison.scoring.scores(f[:len(truth)], truth) for name, f in comparison.forecasts.items()}


def scores_table(comparison: Comparison) -> tuple[list[str], list[list], dict[str, int]]:
    """Headers, one row per method (name, then the mean of each of the scale's table scores), and the
    row index of the best method in each column (↓: lowest, ↑: highest). No truth → no rows."""
    columns = comparison.scoring.table
    headers = ["method", *columns]
    if not comparison.scores:
        return headers, [], {}
    rows = [[name, *(metrics.average(s[key]) for key in columns.values())] for name, s in comparison.scores.items()]
    best = {}
    for j, header in enumerate(columns, start=1):
        values = np.array([row[j] for row in rows], np.float64)
        if not np.isnan(values).all():
            best[header] = int(np.nanargmax(values) if "↑" in header else np.nanargmin(values))
    return headers, rows, best


def lead_time_scores(comparison: Comparison) -> list[dict]:
    """Long-format rows {"lead time", "method", <the scale's plot title>} for a per-lead-time plot;
    lead time in minutes where frames have a time step, else in frames."""
    key, title = comparison.scoring.plot
    step = comparison.step_minutes or 1
    return [{"lead time": (k + 1) * step, "method": name, title: float(value)}
            for name, s in comparison.scores.items() for k, value in enumerate(s[key])]

