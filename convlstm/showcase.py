"""Everything behind the web app that isn't UI: run a forecast beside the baselines, score it,
draw it, and describe the loaded model. No gradio here; ``app.py`` only wires these to widgets.

    model = load_model()
    frames = moving_mnist_sequence(seed=7, digits=2, context=10, horizon=10)
    comparison = compare(model, frames, context=10, horizon=10)
    files = render(comparison, scratch_folder())   # video, grid PNG, .npy and GIF downloads
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from . import baselines, metrics
from . import render as draw
from .data import moving_mnist
from .inference import DEFAULT_CHECKPOINT, CheckpointError, forecast, load_model
from .model import EncoderForecaster

METHODS = ("ConvLSTM", "optical flow", "persistence")
MAX_HORIZON = 20
MAX_CONTEXT = 50
MAX_DIGITS = 3
MAX_SEED = 2**31 - 1
ANIMATION_SIDE = 128  # pixels a panel of the side-by-side animation aims for (about 1:1 on the page)
GRID_WIDTH = 1400  # pixels the lead-time grid aims for at most
SCRATCH_MAX_AGE_S = 3600  # render folders older than this are removed by the next scratch_folder()
EVALUATION_PREFIXES = ("evaluation", "eval", "test", "results")  # JSON from python -m convlstm.evaluate --out
DATASET_NAMES = {"moving-mnist": "Moving MNIST", "radar": "radar"}

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, text: str) -> None:
    pass


# --- the comparison ---------------------------------------------------------------------------


@dataclass
class Comparison:
    context: np.ndarray  # (C, H, W): the frames the forecasts start from
    forecasts: dict[str, np.ndarray]  # method → (horizon, H, W), in METHODS order
    truth: np.ndarray | None  # (K, H, W), 1 ≤ K ≤ horizon: the frames that followed, if there were any
    trained_horizon: int  # the model's training horizon: lead times past it are extrapolation
    scores: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # method → "mse"/"ssim" → (K,)
    notes: list[str] = field(default_factory=list)  # for the user, in plain words

    @property
    def horizon(self) -> int:
        return len(self.forecasts["ConvLSTM"])

    def lead_labels(self) -> list[str]:
        """"+1", "+2", ...; a star marks lead times past the training horizon."""
        return [f"+{k}" + ("*" if k > self.trained_horizon else "") for k in range(1, self.horizon + 1)]


def moving_mnist_sequence(seed: int, digits: int, context: int, horizon: int) -> np.ndarray:
    """One test-split Moving MNIST sequence of context + horizon frames, (T, 64, 64) in [0, 1]."""
    seed = whole_number("The seed", seed, 0, MAX_SEED)
    digits = whole_number("The number of digits", digits, 1, MAX_DIGITS)
    context = whole_number("The context length", context, 1, MAX_CONTEXT)
    horizon = whole_number("The horizon", horizon, 1, MAX_HORIZON)
    return moving_mnist(1, seed=seed, num_digits=digits, frames=context + horizon)[0]


def compare(
    model: EncoderForecaster,
    frames: np.ndarray,
    *,
    context: int,
    horizon: int,
    progress: Progress = _no_progress,
) -> Comparison:
    """Forecast the frames after the first ``context`` ones with the model and both baselines.

    Frames after the context (up to ``horizon`` of them) are the ground truth and get scored;
    with none, there are forecasts and no scores. A sequence shorter than ``context`` is used
    whole, with a note. Bad arguments raise ValueError with a message for the user.
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

    progress(0.1, "ConvLSTM forecast")
    forecasts = {"ConvLSTM": forecast(model, past, horizon)}
    progress(0.4, "optical-flow baseline")
    forecasts["optical flow"] = baselines.optical_flow(past, horizon)
    forecasts["persistence"] = baselines.persistence(past, horizon)
    if horizon > model.horizon:
        notes.append(f"The model was trained to forecast {model.horizon} frames; lead times past "
                     f"+{model.horizon} (marked *) are extrapolation.")
    if len(truth) == 0:
        notes.append("No frames follow the context, so the forecasts are shown without ground truth or scores. "
                     "Upload more frames than the context length to score them.")
    elif len(truth) < horizon:
        notes.append(f"Only {len(truth)} frame(s) follow the context: scores cover lead times +1 to +{len(truth)}.")
    comparison = Comparison(past, forecasts, truth if len(truth) else None, model.horizon, notes=notes)
    progress(0.6, "scores")
    comparison.scores = score(comparison)
    return comparison


def score(comparison: Comparison) -> dict[str, dict[str, np.ndarray]]:
    """Per-lead-time MSE (summed over a frame's pixels, as in the papers) and SSIM of each method.
    SSIM needs frames of at least 11×11 pixels; smaller frames get NaN."""
    truth = comparison.truth
    if truth is None:
        return {}
    small = min(truth.shape[1:]) < metrics.SSIM_WINDOW
    out = {}
    for name, predicted in comparison.forecasts.items():
        predicted = predicted[:len(truth)]
        ssim = np.full(len(truth), np.nan) if small else metrics.ssim(predicted, truth)
        out[name] = {"mse": metrics.mse(predicted, truth), "ssim": ssim}
    return out


def scores_table(comparison: Comparison) -> tuple[list[str], list[list], dict[str, int]]:
    """Headers, one row per method (name, mean MSE/frame, mean SSIM), and the row index of the
    best method in each score column (lowest MSE, highest SSIM). No truth → no rows."""
    headers = ["method", "MSE/frame ↓", "SSIM ↑"]
    if not comparison.scores:
        return headers, [], {}
    rows = [[name, metrics.average(s["mse"]), metrics.average(s["ssim"])] for name, s in comparison.scores.items()]
    best = {}
    for column, better in ((1, np.nanargmin), (2, np.nanargmax)):
        values = np.array([row[column] for row in rows], np.float64)
        if not np.isnan(values).all():
            best[headers[column]] = int(better(values))
    return headers, rows, best


def lead_time_errors(comparison: Comparison) -> list[dict]:
    """Long-format rows {"lead time", "method", "MSE/frame"} for a per-lead-time plot."""
    return [{"lead time": k + 1, "method": name, "MSE/frame": float(value)}
            for name, s in comparison.scores.items() for k, value in enumerate(s["mse"])]


# --- pictures and files -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    animation: Path  # .webm (VP9/VP8) or, where no WebM encoder works, .gif
    grid: Path  # PNG: rows truth / methods / error, columns lead time
    forecast_npy: Path  # the ConvLSTM forecast, float32 (horizon, H, W) in [0, 1]
    forecast_gif: Path  # the same, as an animated GIF

    @property
    def downloads(self) -> list[Path]:
        return [self.forecast_npy, self.forecast_gif]


def render(comparison: Comparison, folder: str | Path, *, progress: Progress = _no_progress) -> Rendered:
    """Write the animation, the lead-time grid and the downloads into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    c = comparison
    predicted = c.forecasts["ConvLSTM"]
    npy = folder / "convlstm_forecast.npy"
    np.save(npy, predicted.astype(np.float32))

    progress(0.7, "frame grid")
    grid = draw.save_png(lead_time_grid(c), folder / "frames_by_lead_time.png")

    progress(0.8, "animation")
    side, scale = _display_size(c.context.shape[1:], ANIMATION_SIDE)
    panels = [(name, np.concatenate([c.context, c.forecasts[name]])) for name in METHODS]
    if c.truth is not None:
        panels.append(("ground truth", np.concatenate([c.context, c.truth])))
    panels = [(label, _shrink(frames, side)) for label, frames in panels]
    labels = [f"input {t + 1}/{len(c.context)}" for t in range(len(c.context))]
    labels += [f"forecast {lead}" for lead in c.lead_labels()]
    pages = draw.side_by_side(panels, scale=scale, length=len(c.context) + c.horizon, frame_labels=labels)
    animation = draw.write_video(_gray_if_possible(pages), folder / "comparison.webm", fps=4)
    gif = draw.write_gif(_shrink(predicted, side), folder / "convlstm_forecast.gif", fps=4, scale=scale)
    progress(1.0, "done")
    return Rendered(animation, grid, npy, gif)


def lead_time_grid(comparison: Comparison) -> np.ndarray:
    """uint8 RGB picture: rows truth, each method, |ConvLSTM − truth|; one column per lead time."""
    c = comparison
    columns = c.horizon
    height, width = c.context.shape[1:]
    side = min(128, max(height, width))
    scale = max(1, min(3, GRID_WIDTH // (columns * side + 1)))
    rows = []
    if c.truth is not None:
        rows.append(draw.Row("truth", _shrink(c.truth, side)))
    rows += [draw.Row(name, _shrink(c.forecasts[name], side)) for name in METHODS]
    if c.truth is not None:
        error = np.abs(c.forecasts["ConvLSTM"][:len(c.truth)] - c.truth)
        rows.append(draw.Row("|ConvLSTM - truth|", _shrink(error, side), cmap=cv2.COLORMAP_INFERNO))
    title = "Forecast frames by lead time"
    if columns > c.trained_horizon:
        title += f" (* past the training horizon of {c.trained_horizon}: extrapolation)"
    return draw.frame_grid(rows, column_labels=c.lead_labels(), scale=scale, title=title)


def _display_size(shape: tuple[int, int], target: int) -> tuple[int, int]:
    """(long side to shrink frames to, whole enlargement factor) so a panel is about ``target`` px."""
    side = min(max(shape), target)
    return side, max(1, target // side)


def _shrink(frames: np.ndarray, side: int) -> np.ndarray:
    """Frames whose long side exceeds ``side`` pixels, shrunk to it (area averaging)."""
    height, width = frames.shape[1:3]
    if max(height, width) <= side:
        return frames
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def _gray_if_possible(pages: np.ndarray) -> np.ndarray:
    # The side-by-side page is black ink on white around gray frames: one channel is enough, and
    # a gray GIF (the fallback) skips Pillow's slow colour quantization.
    gray = pages[..., 0]
    return gray if (pages == gray[..., None]).all() else pages


def scratch_folder(root: str | Path | None = None) -> Path:
    """A fresh folder for one request's files, under the system temp folder; folders older than an
    hour are removed first, so a long-running app doesn't fill the disk."""
    root = Path(root) if root else Path(tempfile.gettempdir()) / "convlstm-app"
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in root.iterdir():
        try:
            if old.is_dir() and now - old.stat().st_mtime > SCRATCH_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # another request removed it first
            pass
    return Path(tempfile.mkdtemp(dir=root))


# --- the model --------------------------------------------------------------------------------


def model_info(model: EncoderForecaster, source: str, *, revision: str | None = None,
               folder: str | Path | None = None) -> dict:
    """What a person wants to know about a checkpoint. ``folder`` holds its files (config,
    card README.md, training.json, evaluation*.json from ``python -m convlstm.evaluate --out``);
    what is there is read, what is missing is left out."""
    config = dict(getattr(model, "_hub_mixin_config", {}) or {})
    info = {
        "source": source + (f" @ {revision}" if revision else ""),
        "parameters": model.num_parameters(),
        "layers": list(model.hidden_channels),
        "kernel_size": config.get("kernel_size"),
        "patch_size": model.patch_size,
        "frame_size": model.frame_size,
        "context_frames": model.context_frames,
        "horizon": model.horizon,
        "device": str(next(model.parameters()).device),
    }
    folder = Path(folder) if folder else None
    if folder is None:
        return info
    training = _read_json(folder / "training.json")
    if training:
        # train.py's checkpoint record is {"config", step, val_mse, ...}; a run summary nests the
        # best record under "best" and adds totals and the device.
        cfg, best = training.get("config", {}), training.get("best", training)
        info["training"] = {k: v for k, v in {
            "dataset": cfg.get("dataset"), "digits": cfg.get("num_digits"),
            "steps": training.get("steps", best.get("step")), "sequences": training.get("sequences"),
            "minutes": training.get("minutes"), "device": training.get("device"),
            "val_mse": best.get("val_mse")}.items() if v is not None}
    tests = []
    for path in sorted(folder.glob("*.json")):
        results = _read_json(path) if path.name.startswith(EVALUATION_PREFIXES) else {}
        mean = results.get("methods", {}).get("ConvLSTM", {}).get("mean")
        if mean and mean.get("mse") is not None:
            tests.append({"sequences": results.get("sequences"), "digits": results.get("digits"),
                          "mse": mean["mse"], "ssim": mean.get("ssim"), "file": path.name})
    if tests:  # fewest digits first: the standard 2-digit test, then the generalization tests
        info["tests"] = sorted(tests, key=lambda t: (t["digits"] or 0, t["file"]))
    card = _front_matter(folder / "README.md")
    if card.get("datasets"):
        info["datasets"] = card["datasets"]
    return info


def summary_markdown(info: dict) -> str:
    layers = "-".join(str(c) for c in info["layers"])
    kernel = f", {info['kernel_size']}×{info['kernel_size']} kernels" if info.get("kernel_size") else ""
    lines = [
        f"**Model:** `{info['source']}` on {info['device']}",
        f"**Network:** ConvLSTM encoder–forecaster, {len(info['layers'])} layers {layers}{kernel}, "
        f"{info['parameters'] / 1e6:.2f} M parameters; {info['frame_size']}×{info['frame_size']} frames "
        f"in {info['patch_size']}×{info['patch_size']} patches",
        f"**Trained for:** {info['context_frames']} frames in → {info['horizon']} out",
    ]
    t = info.get("training")
    if t:
        data = DATASET_NAMES.get(t.get("dataset"), t.get("dataset") or "unknown")
        if t.get("digits"):
            data += f", {t['digits']} digits"
        parts = [f"{t['sequences']:,} sequences" if t.get("sequences") else None,
                 f"{t['steps']:,} steps" if t.get("steps") else None,
                 f"{t['minutes']:.0f} min" if t.get("minutes") else None]
        extra = ", ".join(p for p in parts if p) + (f" on {t['device']}" if t.get("device") else "")
        lines.append(f"**Training data:** {data}" + (f" ({extra})" if extra else "")
                     + (f"; best validation MSE/frame {t['val_mse']:.1f}" if t.get("val_mse") else ""))
    elif info.get("datasets"):
        lines.append(f"**Training data:** {', '.join(map(str, info['datasets']))}")
    scores = []
    for test in info.get("tests", []):
        where = f"{test['sequences']:,} test sequences" if test.get("sequences") else "the test set"
        where += f" of {test['digits']} digits" if test.get("digits") else ""
        ssim = f", SSIM {test['ssim']:.3f}" if test.get("ssim") is not None else ""
        scores.append(f"MSE/frame {test['mse']:.1f}{ssim} on {where}")
    if scores:
        lines.append("**Test score:** " + "; ".join(scores))
    return "  \n".join(lines)


def checkpoint_folder(source: str, revision: str | None = None, cache_dir: str | Path | None = None) -> Path | None:
    """The folder of a checkpoint's small files: the folder itself, or the Hub snapshot (only the
    JSON files and the card are fetched; the weights are already there). None if unreachable."""
    local = Path(source).expanduser()
    if local.is_dir():
        return local
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(source, revision=revision, cache_dir=cache_dir,
                                      allow_patterns=["*.json", "README.md"]))
    except Exception:  # offline, gone, private: the summary goes without these extras
        return None


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _front_matter(card: Path) -> dict:
    """The simple YAML header of a model card: `key: value` and `key:` followed by `- item` lists."""
    try:
        text = card.read_text()
    except OSError:
        return {}
    if not text.startswith("---"):
        return {}
    out, key = {}, None
    for line in text.split("\n")[1:]:
        if line.strip() == "---":
            break
        if line.startswith("- ") and key:
            out.setdefault(key, []).append(line[2:].strip())
        elif ":" in line and not line.startswith(" "):
            key, value = (part.strip() for part in line.split(":", 1))
            if value:
                out[key] = value
    return out


@dataclass(frozen=True)
class LoadedModel:
    key: str
    model: EncoderForecaster
    info: dict

    @property
    def summary(self) -> str:
        return summary_markdown(self.info)


class ModelRegistry:
    """Models loaded so far, shared by every session of the app, by key ("source@revision").

    Each session keeps only a key, so switching models costs no copies; the first model loaded
    is always kept and at most ``capacity`` others (least recently used go first; a session
    whose model went is given it again on its next request). Models are only read once loaded
    (eval mode, no gradients), so concurrent requests can share one.
    """

    def __init__(self, capacity: int = 3, device=None, cache_dir: str | Path | None = None):
        self.capacity, self.device, self.cache_dir = capacity, device, cache_dir
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self.default: LoadedModel | None = None

    def load(self, source: str | None, revision: str | None = None) -> LoadedModel:
        """Load (or find) a model; raises CheckpointError with a message for the user."""
        source = (str(source).strip() if source is not None else "") or None
        revision = (revision or "").strip() or None
        key = f"{source or 'bundled default'}@{revision or ''}"
        with self._lock:  # one load at a time: two sessions asking for the same repo load it once
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            model = load_model(source, revision=revision, device=self.device, cache_dir=self.cache_dir)
            shown = source or _relative(DEFAULT_CHECKPOINT)
            folder = checkpoint_folder(source or str(DEFAULT_CHECKPOINT), revision, self.cache_dir)
            loaded = LoadedModel(key, model, model_info(model, shown, revision=revision, folder=folder))
            self._models[key] = loaded
            if self.default is None:
                self.default = loaded
            others = [k for k in self._models if k != self.default.key]
            for old in others[:max(0, len(others) - self.capacity)]:
                del self._models[old]
            return loaded

    def get(self, key: str | None) -> LoadedModel:
        """The model a session chose (None: the default)."""
        if key is None or self.default is None or key == self.default.key:
            if self.default is None:
                raise CheckpointError("no model has been loaded yet")
            return self.default
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        source, _, revision = key.rpartition("@")
        return self.load(source, revision or None)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def whole_number(name: str, value, low: int, high: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}.") from None
    if not number.is_integer() or not low <= number <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}.")
    return int(number)
