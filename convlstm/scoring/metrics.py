"""Scores of forecasts against the truth, one value per frame (lead time).

Every function takes a forecast and the truth of the same shape, (T, H, W) or (N, T, H, W),
and returns one value per frame: shape (T,) or (N, T). Frames are floats in [0, 1] except for
the rainfall scores, which take mm/h.

Units follow OpenSTL and the PredRNN code: MSE and MAE of a frame are the
squared / absolute errors SUMMED over its H×W pixels (a 64×64 frame sums 4096 of them), and
the figures quoted in papers are these per-frame values averaged over frames and sequences.
The cross-entropy of Shi et al. (2015) is the per-pixel binary cross-entropy summed over all
pixels of all predicted frames of a sequence: ``bce_per_sequence``.
"""

from __future__ import annotations

import cv2
import numpy as np

SSIM_WINDOW = 11  # Gaussian window of Wang et al. (2004): 11 taps, σ = 1.5
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
# OpenSTL's SSIM: scikit-image's structural_similarity on float frames with its defaults (see ssim_openstl).
OPENSTL_SSIM_WINDOW = 7  # uniform window
OPENSTL_SSIM_DATA_RANGE = 2.0  # a float image's range in scikit-image's dtype table, -1..1
PSNR_MIN_MSE = 1e-10  # a perfect frame scores 100 dB instead of infinity
BCE_EPS = 1e-7


def _pair(pred, truth) -> tuple[np.ndarray, np.ndarray]:
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    if pred.shape != truth.shape:
        raise ValueError(f"forecast and truth must have the same shape, got {pred.shape} and {truth.shape}")
    if pred.ndim not in (3, 4) or min(pred.shape) < 1:
        raise ValueError(f"expected frames of shape (T, H, W) or (N, T, H, W), got {pred.shape}")
    return pred, truth


# --- pixel errors ----------------------------------------------------------------------------

def mse(pred, truth) -> np.ndarray:
    """Squared error summed over the pixels of each frame: (T,) or (N, T)."""
    pred, truth = _pair(pred, truth)
    return ((pred - truth) ** 2).sum(axis=(-2, -1))


def mae(pred, truth) -> np.ndarray:
    """Absolute error summed over the pixels of each frame: (T,) or (N, T)."""
    pred, truth = _pair(pred, truth)
    return np.abs(pred - truth).sum(axis=(-2, -1))


def psnr(pred, truth) -> np.ndarray:
    """Peak signal-to-noise ratio of each frame in dB, data range 1: 10·log10(1 / mean squared
    error per pixel). The per-pixel error is floored at 1e-10, so a perfect frame scores 100 dB
    rather than infinity (which a table or an average can't show)."""
    pred, truth = _pair(pred, truth)
    per_pixel = ((pred - truth) ** 2).mean(axis=(-2, -1))
    return 10 * np.log10(1 / np.maximum(per_pixel, PSNR_MIN_MSE))


def ssim(pred, truth) -> np.ndarray:
    """Structural similarity of each frame (Wang et al. 2004), as scikit-image's
    ``structural_similarity(p, t, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=1.0)``: Gaussian window of 11 taps, σ = 1.5, K1 = 0.01, K2 = 0.03, averaged
    over the 'valid' region (5 pixels from each edge are left out). Frames must be ≥ 11×11."""
    pred, truth = _pair(pred, truth)
    *lead, H, W = pred.shape
    if min(H, W) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs frames of at least {SSIM_WINDOW}×{SSIM_WINDOW} pixels, got {H}×{W}")
    x, y = pred.reshape(-1, H, W), truth.reshape(-1, H, W)  # (M, H, W)
    # All five local statistics of all frames in one filtering call.
    kernel = cv2.getGaussianKernel(SSIM_WINDOW, SSIM_SIGMA, cv2.CV_64F)
    mu_x, mu_y, xx, yy, xy = _filter_valid(np.stack([x, y, x * x, y * y, x * y]), kernel)  # (M, H', W') each
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2  # data range 1
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.mean(axis=(-2, -1)).reshape(lead)


def ssim_openstl(pred, truth) -> np.ndarray:
    """SSIM of each frame as OpenSTL reports it, (T,) or (N, T).

    OpenSTL (``openstl/core/metrics.py``) calls ``skimage.metrics.structural_similarity`` on float
    frames without ``data_range``; in the scikit-image versions it used that meant a 7×7 uniform
    window, sample covariance (N/(N−1), N = 49), K1 = 0.01, K2 = 0.03 and data range 2 (the float
    dtype's −1…1), averaged over the 'valid' region (3 pixels from each edge left out): today's
    ``structural_similarity(p, t, win_size=7, data_range=2.0)``. The constants C1, C2 are four
    times those of data range 1, which lifts SSIM where both frames are flat and dark, as the
    black background of Moving MNIST is: quote this one beside OpenSTL's tables, ``ssim`` (Wang et
    al.'s Gaussian window, data range 1) everywhere else. Frames must be ≥ 7×7."""
    pred, truth = _pair(pred, truth)
    *lead, H, W = pred.shape
    w = OPENSTL_SSIM_WINDOW
    if min(H, W) < w:
        raise ValueError(f"OpenSTL's SSIM needs frames of at least {w}×{w} pixels, got {H}×{W}")
    x, y = pred.reshape(-1, H, W), truth.reshape(-1, H, W)  # (M, H, W)
    mu_x, mu_y, xx, yy, xy = _filter_valid(np.stack([x, y, x * x, y * y, x * y]), np.full((w, 1), 1 / w))
    sample = w * w / (w * w - 1)
    var_x, var_y, cov = sample * (xx - mu_x**2), sample * (yy - mu_y**2), sample * (xy - mu_x * mu_y)
    c1, c2 = (SSIM_K1 * OPENSTL_SSIM_DATA_RANGE) ** 2, (SSIM_K2 * OPENSTL_SSIM_DATA_RANGE) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.mean(axis=(-2, -1)).reshape(lead)


def _filter_valid(maps: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Filter (..., H, W) images with the separable kernel k (an odd column of taps) in both
    directions, keeping only pixels whose window lies inside the frame."""
    *lead, H, W = maps.shape
    r = len(k) // 2
    # Frames are stacked into one tall image: the vertical filter mixes neighbouring frames only
    # in the r rows at each frame's top and bottom, and those rows are cropped away.
    tall = cv2.sepFilter2D(maps.reshape(-1, W), cv2.CV_64F, k, k, borderType=cv2.BORDER_REFLECT)
    return tall.reshape(*lead, H, W)[..., r:H - r, r:W - r]


# --- cross-entropy ---------------------------------------------------------------------------

def bce(prob, truth) -> np.ndarray:
    """Binary cross-entropy of predicted probabilities against the truth (which may be any value
    in [0, 1]), in nats, summed over the pixels of each frame: (T,) or (N, T). Probabilities are
    clamped to [1e-7, 1 − 1e-7] so a confident mistake costs ≈ 16 nats, not infinity."""
    prob, truth = _pair(prob, truth)
    p = np.clip(prob, BCE_EPS, 1 - BCE_EPS)
    return -(truth * np.log(p) + (1 - truth) * np.log1p(-p)).sum(axis=(-2, -1))


def bce_per_sequence(prob, truth) -> np.ndarray | float:
    """The paper's cross-entropy: per-pixel BCE summed over all pixels of all predicted frames
    of a sequence. (T, H, W) → a float; (N, T, H, W) → (N,); average it over sequences to
    compare with Shi et al.'s 3670.85 (10 frames × 4096 pixels)."""
    per_sequence = bce(prob, truth).sum(axis=-1)
    return float(per_sequence) if np.ndim(per_sequence) == 0 else per_sequence


# --- nowcasting skill ------------------------------------------------------------------------

def contingency(pred, truth, threshold: float) -> dict[str, np.ndarray]:
    """Counts per frame of hits (forecast > threshold and observed > threshold), misses (only
    observed), false alarms (only forecast) and correct negatives. Both comparisons are strict."""
    pred, truth = _pair(pred, truth)
    f, o = pred > threshold, truth > threshold
    cells = {"hits": f & o, "misses": ~f & o, "false_alarms": f & ~o, "correct_negatives": ~f & ~o}
    return {name: mask.sum(axis=(-2, -1)) for name, mask in cells.items()}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # NaN where the denominator is 0: the score is undefined there (e.g. nothing observed and
    # nothing forecast), and averaging it as 0 or 1 would be a made-up number.
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0)


def categorical_scores(pred, truth, threshold: float) -> dict[str, np.ndarray]:
    """CSI, POD, FAR and the frequency bias per frame from one contingency table (value > threshold):
    CSI = hits / (hits + misses + false alarms), NaN when the event is neither forecast nor observed;
    POD = hits / (hits + misses), NaN when nothing is observed;
    FAR = false alarms / (hits + false alarms), NaN when nothing is forecast;
    bias = (hits + false alarms) / (hits + misses) = POD / (1 − FAR), the forecast's event area over the
    observed one (1: as much as observed), NaN when nothing is observed. CSI and FAR alone reward a
    forecast for a larger or a smaller area; the bias says which one it is."""
    t = contingency(pred, truth, threshold)
    hits, misses, false_alarms = t["hits"], t["misses"], t["false_alarms"]
    return {"csi": _ratio(hits, hits + misses + false_alarms), "pod": _ratio(hits, hits + misses),
            "far": _ratio(false_alarms, hits + false_alarms), "bias": _ratio(hits + false_alarms, hits + misses)}


def csi(pred, truth, threshold: float) -> np.ndarray:
    """Critical success index per frame (see categorical_scores)."""
    return categorical_scores(pred, truth, threshold)["csi"]


def pod(pred, truth, threshold: float) -> np.ndarray:
    """Probability of detection per frame (see categorical_scores)."""
    return categorical_scores(pred, truth, threshold)["pod"]


def far(pred, truth, threshold: float) -> np.ndarray:
    """False alarm ratio per frame (see categorical_scores)."""
    return categorical_scores(pred, truth, threshold)["far"]


def fss(pred, truth, threshold: float, scale: int) -> np.ndarray:
    """Fractions skill score per frame (Roberts & Lean 2008) of the event value > threshold in
    square neighbourhoods of ``scale`` × ``scale`` pixels:
    1 − Σ(F − O)² / (ΣF² + ΣO²), where F and O are the fractions of event pixels in the window
    around each pixel. Outside the frame counts as no event (zero padding; the fraction is
    always over scale² pixels). 1 is perfect, 0 no skill; NaN when neither field has an event."""
    pred, truth = _pair(pred, truth)
    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a whole number of pixels ≥ 1, got {scale}")
    *lead, H, W = pred.shape
    events = np.stack([pred > threshold, truth > threshold]).astype(np.float64).reshape(-1, H, W)
    # Box filtering each frame on its own: frames are small and few, and this keeps the
    # zero border exact (a tall stacked image would leak events across frame edges).
    frac = np.stack([cv2.boxFilter(e, cv2.CV_64F, (int(scale),) * 2, normalize=True,
                                   borderType=cv2.BORDER_CONSTANT) for e in events])
    f, o = frac.reshape(2, *lead, H, W)
    num = ((f - o) ** 2).sum(axis=(-2, -1))
    den = (f**2).sum(axis=(-2, -1)) + (o**2).sum(axis=(-2, -1))
    return 1 - _ratio(num, den)


def rainfall_mse(pred, truth, covered=None) -> np.ndarray:
    """Mean (over pixels, not summed) squared error of rain rates in (mm/h)² per frame; with ``covered``
    (H, W) bool, over the covered pixels only (NaN if none is)."""
    pred, truth = _pair(pred, truth)
    weights = _weights(covered, pred.shape)
    return _ratio((((pred - truth) ** 2) * weights).sum(axis=(-2, -1)), np.full(pred.shape[:-2], weights.sum()))


def correlation(pred, truth, covered=None) -> np.ndarray:
    """Pearson correlation of forecast and observed values over the pixels of each frame (the covered
    ones only, given ``covered`` (H, W) bool); NaN when either frame is constant there (undefined)."""
    pred, truth = _pair(pred, truth)
    weights = _weights(covered, pred.shape)
    n = weights.sum()

    def centred(x):
        return (x - (x * weights).sum(axis=(-2, -1), keepdims=True) / max(n, 1)) * weights
    p, t = centred(pred), centred(truth)
    den = np.sqrt((p**2).sum(axis=(-2, -1)) * (t**2).sum(axis=(-2, -1)))
    return _ratio((p * t).sum(axis=(-2, -1)), den)


def _weights(covered, shape) -> np.ndarray:
    """1 where a pixel counts, 0 where not: (H, W) float64 from a coverage mask, or all ones."""
    if covered is None:
        return np.ones(shape[-2:])
    covered = np.asarray(covered, bool)
    if covered.shape != tuple(shape[-2:]):
        raise ValueError(f"the coverage mask must be (H, W) = {tuple(shape[-2:])}, got {covered.shape}")
    return covered.astype(np.float64)


# The nowcasting scores, by name: 'csi@0.5', 'pod@2', 'far@5', 'fss5@1' (5 px at 1 mm/h), ...
RAIN_THRESHOLDS = (0.5, 2.0, 5.0)  # mm/h: light rain, moderate, heavy (Shi et al. report 0.5)
FSS_THRESHOLD = 1.0  # mm/h
FSS_SCALES = (1, 5, 11, 21)  # px: 3.5-75 km at the paper's ≈ 3.5 km pixels


def rain_score_names() -> list[str]:
    names = [f"{score}@{t:g}" for t in RAIN_THRESHOLDS for score in ("csi", "pod", "far", "bias")]
    names += [f"fss{s}@{FSS_THRESHOLD:g}" for s in FSS_SCALES]
    return names + ["rainfall_mse", "correlation"]


def rain_scores(pred_mm_h, truth_mm_h, covered=None) -> dict[str, np.ndarray]:
    """Every score of ``rain_score_names()`` per frame, each (T,) or (N, T), on rain rates in mm/h.

    ``covered`` (H, W) bool marks the pixels the radar saw. Both fields must be zero elsewhere (the
    callers zero them), so they count nowhere in CSI, POD, FAR and bias, and as no event in FSS; the
    rainfall MSE and the correlation are taken over the covered pixels only."""
    out = {}
    pred_mm_h, truth_mm_h = _pair(pred_mm_h, truth_mm_h)
    if covered is not None:
        outside = ~_weights(covered, pred_mm_h.shape).astype(bool)
        if (pred_mm_h[..., outside] != 0).any() or (truth_mm_h[..., outside] != 0).any():
            raise ValueError("forecast and truth must be zero outside the covered pixels")
    for t in RAIN_THRESHOLDS:
        for name, values in categorical_scores(pred_mm_h, truth_mm_h, t).items():
            out[f"{name}@{t:g}"] = values  # one contingency pass per threshold, not four
    for s in FSS_SCALES:
        out[f"fss{s}@{FSS_THRESHOLD:g}"] = fss(pred_mm_h, truth_mm_h, FSS_THRESHOLD, s)
    out["rainfall_mse"] = rainfall_mse(pred_mm_h, truth_mm_h, covered)
    out["correlation"] = correlation(pred_mm_h, truth_mm_h, covered)
    return {name: out[name] for name in rain_score_names()}


# --- summaries -------------------------------------------------------------------------------

def average(values) -> float:
    """Mean over frames and sequences, leaving out NaN (undefined) entries; NaN if all are.
    ``average(mse(p, t))`` is the "MSE/frame" of OpenSTL and the papers."""
    values = np.asarray(values, np.float64)
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")


def summarize(per_frame: dict[str, np.ndarray]) -> dict:
    """Per-frame scores {name: (T,) or (N, T)} → {'per_lead': {name: [mean per lead time]},
    'mean': {name: mean}}, NaN (undefined) entries left out of every mean."""
    per_lead, mean = {}, {}
    for name, values in per_frame.items():
        by_lead = np.asarray(values, np.float64).reshape(-1, np.shape(values)[-1])  # (N, T)
        per_lead[name] = [average(by_lead[:, k]) for k in range(by_lead.shape[1])]
        mean[name] = average(by_lead)
    return {"per_lead": per_lead, "mean": mean}


def scores(pred, truth) -> dict[str, np.ndarray]:
    """Per-frame 'mse', 'mae', 'ssim' and 'psnr' of a forecast, each (T,) or (N, T)."""
    pred, truth = _pair(pred, truth)
    return {"mse": mse(pred, truth), "mae": mae(pred, truth), "ssim": ssim(pred, truth),
            "psnr": psnr(pred, truth)}
