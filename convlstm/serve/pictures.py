"""A comparison drawn for people: the side-by-side animation, the lead-time grid and the downloads,
written into a scratch folder of its own; for rain, the performance diagram too, and for a window of a radar
composite its locator map.

    comparison = compare(model, frames, context=10, horizon=10)   # convlstm.scoring.compare
    files = render(comparison, scratch_folder())   # video, grid PNG; downloads: side-by-side GIF, .npy, GIF
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.values import Scale
from ..data.uploads import shrink
from ..scoring import metrics
from ..scoring.compare import SCORING, Comparison, Progress, no_progress
from ..viz import colors
from ..viz import render as draw
from ..viz.plots import performance_diagram

# Pixels the side-by-side animation's panels share (shown 1:1): beside a score table of up to WIDE_TABLE
# columns (the video tab), or in the wider column the app gives it when the scores go under it (radar's
# seven; its 100-px windows are enlarged 2×).
ANIMATION_WIDTH, WIDE_ANIMATION_WIDTH, WIDE_TABLE = 512, 620, 3
# Pixels the lead-time grid takes at most: its box's width on a 1400-px screen, so that no lead time is cut off there
# (a phone scrolls it sideways); frames are shrunk to fit, beside a column of row labels up to GRID_LABELS wide.
GRID_WIDTH, GRID_LABELS = 860, 150
NARROW_GRID_WIDTH = 320  # the same for the narrow grid: a 390-px phone's column
GRID_COLUMNS = 10  # lead times the grid shows at most (evenly spaced, the last always among them)
NOT_DRAWN = ("persistence",)  # the last input held: the grid's "now" column and the animation's input show it
COMPARISON_GIF = "forecast_comparison.gif"  # the side-by-side animation as a GIF, among the downloads
GIF_COLOURS = 64  # gray levels (or palette colours) of that GIF: a third of the size of 256, looks the same
# Scales drawn in colour, with (frames → uint8 RGB, legend picture); the others are drawn as gray levels.
COLOURED = {"dbz60": (colors.colorize, colors.legend_image)}
THUMBNAIL = 64  # px: an example's picture on its button
SCRATCH_MAX_AGE_S = 3600  # render folders older than this are removed by the next scratch_folder()


# --- pictures and files -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    animation: Path  # .webm (VP9/VP8); the comparison GIF for a colour scale or where no WebM encoder works
    grid: Path  # PNG: rows truth / methods, columns "now" and the lead times
    narrow_grid: Path  # PNG: the same transposed to fit a phone, rows "now" and the lead times
    forecast_npy: Path  # the ConvLSTM forecast, float32 (horizon, H, W) in the data's units
    forecast_gif: Path  # the same, as an animated GIF
    comparison_gif: Path | None = None  # the animation's pages as a small GIF, to send to people
    diagram: Path | None = None  # rain with truth: the performance diagram (POD, success ratio, CSI, bias), PNG
    locator: Path | None = None  # a window of a radar composite: where it lies on the composite, PNG

    @property
    def downloads(self) -> list[Path]:
        """The side-by-side GIF first (the file to share), then the ConvLSTM forecast's own files."""
        return [p for p in (self.comparison_gif, self.forecast_npy, self.forecast_gif) if p is not None]


def render(comparison: Comparison, folder: str | Path, *, width: int | None = None, locator: np.ndarray | None = None,
           progress: Progress = no_progress) -> Rendered:
    """Write the animation, the lead-time grid and the downloads into ``folder``. The animation's panels
    share about ``width`` pixels (default: what the app's page gives it for the comparison's scale):
    small frames are enlarged a whole number of times, large ones shrunk. Rain with truth also gets its
    performance diagram; a ``locator`` map (RGB) is saved beside them. The comparison's credit is written under
    the animation's pages and the grid, where the pictures travel."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    c = comparison
    predicted = c.forecasts["ConvLSTM"]
    npy = folder / "convlstm_forecast.npy"
    np.save(npy, predicted.astype(np.float32))

    progress(0.7, "frame grid")
    grid = draw.save_png(_with_legend(lead_time_grid(c), c), folder / "frames_by_lead_time.png")
    narrow_grid = draw.save_png(_with_legend(lead_time_grid(c, narrow=True), c, NARROW_GRID_WIDTH),
                                folder / "frames_by_lead_time_narrow.png")

    progress(0.8, "animation")
    panels = [(name, np.concatenate([c.context, f])) for name, f in c.forecasts.items() if name not in NOT_DRAWN]
    if c.truth is not None:
        panels.append(("ground truth", np.concatenate([c.context, c.truth])))
    width = width or (WIDE_ANIMATION_WIDTH if scores_under_animation(c.scale) else ANIMATION_WIDTH)
    side, scale = _display_size(c.context.shape[1:], width // len(panels))
    panels = [(label, _picture(frames, c, side)) for label, frames in panels]
    labels = c.input_labels() + [f"forecast {lead}" for lead in c.lead_labels()]
    pages = draw.side_by_side(panels, scale=scale, length=len(c.context) + c.horizon, frame_labels=labels)
    pages = _gray_if_possible(_with_legend(pages, c, pages.shape[2]))  # the legend no wider than the panels
    shared = draw.write_gif(pages, folder / COMPARISON_GIF, fps=4, colors=GIF_COLOURS)
    if c.scale.name in COLOURED:
        # A colour scale is a palette the GIF keeps exactly, where WebM's 4:2:0 video would halve the colour
        # resolution of one-pixel cells (and VP9 takes four times as long to write).
        animation = shared
    else:
        animation = draw.write_video(pages, folder / "comparison.webm", fps=4)
        if animation.suffix == ".gif":  # no WebM encoder: the small GIF is the animation too
            animation.unlink(missing_ok=True)
            animation = shared
    gif = draw.write_gif(_picture(predicted, c, side), folder / "convlstm_forecast.gif", fps=4, scale=scale)
    diagram = None
    if c.scale.name in COLOURED and c.scores:
        results = {"methods": {name: metrics.summarize(s) for name, s in c.scores.items()}}
        title = f"At 0.5 mm/h over {len(c.truth)} lead times: CSI (curves), bias (dashed)"
        diagram = draw.save_png(performance_diagram(results, title=title), folder / "performance_diagram.png")
    place = draw.save_png(locator, folder / "locator.png") if locator is not None else None
    progress(1.0, "done")
    return Rendered(animation, grid, narrow_grid, npy, gif, shared, diagram, place)


def scores_under_animation(scale: Scale) -> bool:
    """Whether the page puts this scale's scores under the animation (more columns than fit beside it at
    1280 px), which gives the animation the wider column."""
    return len(SCORING[scale.name].table) > WIDE_TABLE


def lead_time_grid(comparison: Comparison, *, narrow: bool = False) -> np.ndarray:
    """uint8 RGB picture of the truth and each method but NOT_DRAWN at the last input ("now") and at up to
    GRID_COLUMNS lead times: one row per method, one column per time, GRID_WIDTH wide at most; or ``narrow``, one
    row per time and one column per method, NARROW_GRID_WIDTH wide at most, for a phone (where the wide one
    would scroll sideways, away from its row labels)."""
    c = comparison
    every = -(-c.horizon // GRID_COLUMNS)  # ceil: 20 lead times → every 2nd
    leads = list(range(c.horizon - 1, -1, -every))[::-1]  # indices, the last lead time always shown
    # A clock time goes under its lead time: "+30 min" over "10:35 UTC" fits a 100-px cell, the two side by side don't.
    times = [label.replace(", ", "\n") for label in [c.now_label(), *(c.lead_labels()[k] for k in leads)]]
    drawn = ({"truth": c.truth} if c.truth is not None else {}) | {
        name: f for name, f in c.forecasts.items() if name not in NOT_DRAWN}
    now = c.context[-1]

    def at_times(frames: np.ndarray) -> np.ndarray:  # "now", then the chosen lead times (blank past the truth)
        return np.stack([now, *(frames[k] if k < len(frames) else np.zeros_like(now) for k in leads)])

    room = (NARROW_GRID_WIDTH - draw.label_width(times)) if narrow else GRID_WIDTH - GRID_LABELS
    columns = len(drawn) if narrow else len(times)
    side = min(128, max(now.shape), room // columns - draw.GAP)
    scale = max(1, min(3, room // (columns * (side + draw.GAP))))
    pictures = {name: _picture(at_times(frames), c, side) for name, frames in drawn.items()}
    title = "Forecast frames by lead time"
    if c.horizon > c.trained_horizon:
        title += f" (* past the training horizon of {c.lead_label(c.trained_horizon)}: extrapolation)"
    if not narrow:
        return draw.frame_grid([draw.Row(name, p) for name, p in pictures.items()], column_labels=times,
                               scale=scale, title=title)
    rows = [draw.Row(time, np.stack([p[t] for p in pictures.values()])) for t, time in enumerate(times)]
    names = [draw.wrapped(name, side * scale) for name in pictures]
    return draw.frame_grid(rows, column_labels=names, scale=scale, title=title)


def _picture(frames: np.ndarray, comparison: Comparison, side: int) -> np.ndarray:
    """Frames in the data's units → what a person sees: gray levels, or the scale's colours (gray where no radar
    saw); shrunk to ``side``."""
    colorize, _ = COLOURED.get(comparison.scale.name, (None, None))
    if comparison.covered is not None:
        frames = np.where(comparison.covered, frames, np.nan)
    return shrink(colorize(frames) if colorize else frames, side)


def _with_legend(image: np.ndarray, comparison: Comparison, fit: int | None = None) -> np.ndarray:
    """The scale's colour legend, then the data's credit, under a picture (H, W, 3) or under every page of an
    animation (T, H, W, 3); the legend folded to fit ``fit`` pixels where that is wider than the picture."""
    parts = []
    if comparison.scale.name in COLOURED:
        fold = max(fit, image.shape[-2]) if fit else None  # image.shape[-2]: its width
        parts.append(COLOURED[comparison.scale.name][1](uncovered=comparison.covered is not None, width=fold))
    pages = image if image.ndim == 4 else image[None]
    width = max([pages.shape[2], *(part.shape[1] for part in parts)])
    if comparison.credit:
        parts.append(draw.text_block(comparison.credit, width))
    if not parts:
        return image
    height = pages.shape[1] + sum(draw.PAD + part.shape[0] for part in parts)
    out = np.full((len(pages), height, width, 3), draw.BACKGROUND, np.uint8)
    out[:, :pages.shape[1], :pages.shape[2]] = pages
    top = pages.shape[1]
    for part in parts:
        left = (width - part.shape[1]) // 2
        out[:, top + draw.PAD:top + draw.PAD + part.shape[0], left:left + part.shape[1]] = part
        top += draw.PAD + part.shape[0]
    return out if image.ndim == 4 else out[0]


def _display_size(shape: tuple[int, int], target: int) -> tuple[int, int]:
    """(long side to shrink frames to, whole enlargement factor) so a panel is about ``target`` px."""
    side = min(max(shape), target)
    return side, max(1, target // side)


def _gray_if_possible(pages: np.ndarray) -> np.ndarray:
    # The side-by-side page is black ink on white around gray frames: one channel is enough, and
    # a gray GIF (the fallback) skips Pillow's slow colour quantization.
    gray = pages[..., 0]
    return gray if (pages == gray[..., None]).all() else pages


def thumbnail(frame: np.ndarray, scale: Scale, path: str | Path) -> Path:
    """A frame (H, W) in the scale's units as people see it (gray levels, or the scale's colours), shrunk to
    THUMBNAIL px: an example's picture, saved as a PNG."""
    colorize, _ = COLOURED.get(scale.name, (None, None))
    return draw.save_png(shrink(colorize(frame[None]) if colorize else frame[None], THUMBNAIL)[0], path)


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
