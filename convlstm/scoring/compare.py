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
from datetime import datetime, timedelta

import numpy as np

from ..core.checks import whole_number
from ..core.inference import forecast, probability_matched
from ..core.model import EncoderForecaster
from ..core.values import RAIN, Scale, from_unit, to_unit
from . import baselines, metrics, reference

METHODS = ("ConvLSTM", "optical flow", "persistence")
BIAS = "bias ≈ 1"  # the frequency bias column: 1 is best (as much rain area as observed), not the highest or lowest
MAX_HORIZON = 20
MAX_CONTEXT = 50

Progress = Callable[[float, str], None]


def no_progress(fraction: float, text: str) -> None:
    pass


BASELINES = {"optical flow": baselines.optical_flow, "persistence": baselines.persistence}


def _pixel_scores(pred: np.ndarray, truth: np.ndarray, covered: np.ndarray | None = None) -> dict[str, np.ndarray]:
    # Gray frames have no coverage: every pixel was seen (``covered`` is for rain, see metrics.rain_scores).
    small = min(truth.shape[-2:]) < metrics.SSIM_WINDOW  # SSIM is undefined on tiny frames
    ssim = np.full(truth.shape[:-2], np.nan) if small else metrics.ssim(pred, truth)
    return {"mse": metrics.mse(pred, truth), "ssim": ssim}


@dataclass(frozen=True)
class Scoring:
    """How forecasts of one value scale are scored and which of those scores a comparison reports."""
    scores: Callable[..., dict[str, np.ndarray]]  # (forecast, truth, covered) → per-frame scores by key
    table: dict[str, str]  # the reported columns: header (↑, ↓ or ≈ 1 says which way is better) → key
    plot: tuple[str, str]  # the score shown by lead time: (key, axis title)


SCORING = {  # by value scale name
    "unit": Scoring(_pixel_scores, {"MSE/frame ↓": "mse", "SSIM ↑": "ssim"}, ("mse", "MSE/frame")),
    "dbz60": Scoring(metrics.rain_scores,
                     {"CSI ↑": "csi@0.5", "POD ↑": "pod@0.5", "FAR ↓": "far@0.5", BIAS: "bias@0.5",
                      "CSI 2 mm/h ↑": "csi@2",
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
    now: datetime | None = None  # when the last context frame was taken (UTC), where the frames say
    covered: np.ndarray | None = None  # (H, W) bool: where a radar saw (elsewhere zero, drawn apart, not scored)
    credit: str | None = None  # whose data it is and on what terms, to go wherever the frames are shown
    reference: str | None = None  # the method whose rain amounts the ConvLSTM is also scored with (``at_amounts``)

    @property
    def horizon(self) -> int:
        return len(self.forecasts["ConvLSTM"])

    @property
    def scoring(self) -> Scoring:
        return SCORING[self.scale.name]

    def lead_labels(self) -> list[str]:
        """"+1", "+2", ... (or "+6 min", "+12 min", ..., or "+5 min, 10:35 UTC", ...); a star marks lead times
        past the training horizon."""
        return [self.lead_label(k) + ("*" if k > self.trained_horizon else "") for k in range(1, self.horizon + 1)]

    def lead_label(self, k: int) -> str:
        return lead_label(k, self.step_minutes, self.now)

    def input_labels(self) -> list[str]:
        """"input 1/5", ... ("input 1/5, 10:15 UTC", ... where the frames have times)."""
        count = len(self.context)
        return [f"input {t + 1}/{count}" + _clock(self.now, (t + 1 - count) * (self.step_minutes or 0))
                for t in range(count)]

    def now_label(self) -> str:
        return "now" + _clock(self.now, 0)


def lead_label(k: int, step_minutes: float | None = None, now: datetime | None = None) -> str:
    """Lead time k as people read it: "+k" frames, "+30 min" where frames are ``step_minutes`` apart, and
    "+30 min, 10:35 UTC" where the last input frame was taken at ``now`` (UTC)."""
    return (f"+{k * step_minutes:g} min" + _clock(now, k * step_minutes)) if step_minutes else f"+{k}"


def _clock(now: datetime | None, minutes: float) -> str:
    return f", {now + timedelta(minutes=minutes):%H:%M} UTC" if now is not None else ""


def at_amounts(method: str, reference_name: str) -> str:
    """The name of ``method`` scored ``with_amounts_of`` the reference, as tables show it."""
    return f"{method} at {reference_name}'s rain amounts"


def with_amounts_of(forecast_mm_h: np.ndarray, reference_mm_h: np.ndarray) -> np.ndarray:
    """``forecast_mm_h`` (K, H, W) given, frame by frame, the values of ``reference_mm_h`` by rank: where the
    forecast puts rain, with exactly as much of it as the reference has (less only where the forecast is
    dry). Scored beside the reference, it compares placement at the same rain area in every frame, since
    CSI and FAR alone reward a larger or a smaller area. Not a forecast anyone could issue alone."""
    placed = probability_matched(to_unit(forecast_mm_h)[None], to_unit(reference_mm_h)[None])[0]
    return from_unit(placed).astype(np.float32)


def compare(model: EncoderForecaster, frames: np.ndarray, *, context: int, horizon: int,
            others: Mapping[str, EncoderForecaster] | None = None, step_minutes: float | None = None,
            now: datetime | None = None, covered: np.ndarray | None = None, credit: str | None = None,
            with_reference: bool = False, progress: Progress = no_progress) -> Comparison:
    """Forecast the frames after the first ``context`` ones with the model, ``others`` (models shown
    beside it, by name) and both baselines.

    ``frames`` (T, H, W) are in the units of the model's value scale. Frames after the context
    (up to ``horizon`` of them) are the ground truth and get scored; with none, there are
    forecasts and no scores. A sequence shorter than ``context`` is used whole, with a note.
    ``step_minutes`` is the time between these frames (default: the model's own time step).

    Radar only: ``now`` is when the last context frame was taken (UTC), so lead times read as clock
    times; ``covered`` (H, W) bool is where the radar saw (every frame and forecast is zeroed elsewhere,
    and scored only there); ``credit`` names the data's source. ``with_reference`` adds pysteps' S-PROG,
    the field's reference nowcast, and scores the ConvLSTM again with its rain amounts (``at_amounts``),
    so that placement is compared at equal rain area; without pysteps (``requirements-radar.txt``), or
    with too few frames for S-PROG, optical flow's amounts stand in, with a note.
    Bad arguments raise ValueError with a message for the user.
    """
    context = whole_number("The context length", context, 1, MAX_CONTEXT)
    horizon = whole_number("The horizon", horizon, 1, MAX_HORIZON)
    frames = np.asarray(frames, np.float32)
    if frames.ndim != 3 or min(frames.shape) < 1:
        raise ValueError(f"Expected frames of shape (T, H, W), got {frames.shape}.")
    if (covered is not None or with_reference) and model.scale != RAIN:
        raise ValueError("coverage and the reference nowcast are for radar models, which forecast rain")
    if covered is not None:
        covered = np.asarray(covered, bool)
        if covered.shape != frames.shape[1:]:
            raise ValueError(f"the coverage mask must be {frames.shape[1:]}, got {covered.shape}")
        frames = np.where(covered, frames, 0).astype(np.float32)
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
    reference_name = None
    if with_reference:
        progress(0.5, "reference nowcast")
        reference_name = _add_reference(forecasts, past, horizon, notes)
    if covered is not None:
        forecasts = {name: np.where(covered, f, 0).astype(np.float32) for name, f in forecasts.items()}
    comparison = Comparison(past, forecasts, truth if len(truth) else None, model.scale,
                            model.horizon, step_minutes or model.step_minutes, notes=notes, now=now,
                            covered=covered, credit=credit, reference=reference_name)
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


def _add_reference(forecasts: dict[str, np.ndarray], past: np.ndarray, horizon: int, notes: list[str]) -> str:
    """Add S-PROG to ``forecasts`` and return its name; or, where it can't run, say why and return optical flow's."""
    fallback = "optical flow"
    if len(past) < reference.MIN_FRAMES:
        notes.append(f"S-PROG needs {reference.MIN_FRAMES} input frames, and there are {len(past)}: the ConvLSTM is "
                     f"scored again at {fallback}'s rain amounts instead of S-PROG's.")
        return fallback
    try:
        forecasts[reference.SPROG] = reference.pysteps_forecasts(past, horizon)[reference.SPROG]
    except ImportError:
        notes.append("pysteps is not installed (pip install -r requirements-radar.txt), so S-PROG, the field's "
                     f"reference nowcast, is not shown, and the ConvLSTM is scored again at {fallback}'s rain "
                     "amounts instead of S-PROG's.")
        return fallback
    return reference.SPROG


def score(comparison: Comparison) -> dict[str, dict[str, np.ndarray]]:
    """Per-lead-time scores of each method against the truth ({} without truth), by the scale's keys; with a
    reference, the ConvLSTM ``with_amounts_of`` it too, under ``at_amounts``'s name."""
    c, truth = comparison, comparison.truth
    if truth is None:
        return {}
    k = len(truth)
    out = {name: c.scoring.scores(f[:k], truth, c.covered) for name, f in c.forecasts.items()}
    if c.reference:
        placed = with_amounts_of(c.forecasts["ConvLSTM"][:k], c.forecasts[c.reference][:k])
        out[at_amounts("ConvLSTM", c.reference)] = c.scoring.scores(placed, truth, c.covered)
    return out


def scores_table(comparison: Comparison, methods=None) -> tuple[list[str], list[list], dict[str, int]]:
    """Headers, one row per scored method (name, then the mean of each of the scale's table scores; only the
    ``methods`` named, if given), and the row index of the best method in each column (↓: lowest, ↑: highest,
    ≈ 1: closest to 1). No truth → no rows."""
    columns = comparison.scoring.table
    headers = ["method", *columns]
    if not comparison.scores:
        return headers, [], {}
    rows = [[name, *(metrics.average(s[key]) for key in columns.values())] for name, s in comparison.scores.items()
            if methods is None or name in methods]
    best = {}
    for j, header in enumerate(columns, start=1):
        values = np.array([row[j] for row in rows], np.float64)
        if not np.isnan(values).all():
            best[header] = int(np.nanargmax(values) if "↑" in header else np.nanargmin(np.abs(values - 1))
                               if "≈ 1" in header else np.nanargmin(values))
    return headers, rows, best


def lead_time_scores(comparison: Comparison) -> list[dict]:
    """Long-format rows {"lead time", "method", <the scale's plot title>} for a per-lead-time plot;
    lead time in minutes where frames have a time step, else in frames."""
    key, title = comparison.scoring.plot
    step = comparison.step_minutes or 1
    return [{"lead time": (k + 1) * step, "method": name, title: float(value)}
            for name, s in comparison.scores.items() for k, value in enumerate(s[key])]

