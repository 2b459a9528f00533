"""Pictures and animations of frame sequences: GIF and WebM writers, labelled grids, side-by-side panels.

Frames come in as (T, H, W) gray or (T, H, W, 3) RGB, float in [0, 1] or uint8. Enlarging is
nearest-neighbour by a whole factor, so the model's small frames stay crisp, pixel for pixel.
Text is drawn with OpenCV's built-in Hershey font (no font files; ASCII only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

BACKGROUND = 255  # white page: the frames' black backgrounds stand out from it
INK = (0, 0, 0)
BLANK = 225  # a panel with nothing to show at this time step
GAP = 2  # pixels between cells: the separators
PAD = 6  # around text
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.45
TITLE_SCALE = 0.6

# Browsers play VP8 and VP9 WebM; OpenCV's PyPI wheel writes both (it can't write H.264, and its
# 'mp4v' MP4 doesn't play in browsers). VP8 first: it encodes 3-4x faster on a CPU here.
_WEBM_CODECS = ("VP80", "VP90")


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Float frames in [0, 1] → uint8 (rounded); uint8 frames unchanged."""
    frames = np.asarray(frames)
    if frames.dtype == np.uint8:
        return frames
    return (np.clip(np.nan_to_num(frames), 0, 1) * 255 + 0.5).astype(np.uint8)


def to_rgb(frames: np.ndarray) -> np.ndarray:
    """(T, H, W) gray or (T, H, W, 3) RGB, float or uint8 → uint8 RGB (T, H, W, 3)."""
    frames = to_uint8(frames)
    return frames if frames.ndim == 4 else np.repeat(frames[..., None], 3, axis=-1)


def _upscale(frames: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement: (T, H, W[, 3]) → (T, scale·H, scale·W[, 3])."""
    return frames if scale == 1 else frames.repeat(scale, axis=1).repeat(scale, axis=2)


def _sequence(frames: np.ndarray, scale: int) -> np.ndarray:
    """Writer input → uint8 (T, H, W) or (T, H, W, 3), enlarged."""
    frames = to_uint8(frames)
    if frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[-1] != 3) or len(frames) == 0:
        raise ValueError(f"expected frames (T, H, W) or (T, H, W, 3) with T >= 1, got shape {frames.shape}")
    if scale < 1:
        raise ValueError("scale must be a whole number >= 1")
    return _upscale(frames, scale)


def write_gif(frames: np.ndarray, path: str | Path, *, fps: float = 4, scale: int = 1,
              colors: int | None = None) -> Path:
    """Looping animated GIF of frames (T, H, W) gray or (T, H, W, 3) RGB. Every gray level exact, or,
    with ``colors``, kept small for chat apps and slides: gray frames keep ``colors`` evenly spaced
    levels, colour frames one shared palette of at most ``colors`` colours (no dithering, so flat areas
    stay flat and compress well). Pillow merges identical consecutive frames into one longer frame."""
    frames = _sequence(frames, scale)
    if colors is None or frames.ndim == 3:
        if colors is not None:
            step = 256 / colors
            frames = (np.floor(frames / step) * step + step / 2).clip(0, 255).astype(np.uint8)
        images = [Image.fromarray(frame) for frame in frames]  # "L" for gray, "RGB" for colour
    else:  # one palette for every frame, from a sample of all of them: no flicker between frames
        sample = Image.fromarray(np.concatenate(list(frames[:: max(1, len(frames) // 8)]), axis=0))
        palette = sample.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        images = [Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    path = Path(path)
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0,
                   optimize=colors is not None)
    return path


def write_video(frames: np.ndarray, path: str | Path, *, fps: float = 4, scale: int = 1) -> Path:
    """A video browsers can play: WebM (VP8, else VP9), read back to check; else an animated GIF.

    Returns the path actually written; its suffix (.webm or .gif) says which.
    """
    frames = _sequence(frames, scale)
    webm = Path(path).with_suffix(".webm")
    for codec in _WEBM_CODECS:
        if _write_cv2(frames, webm, codec, fps) and _plays(webm, codec, len(frames)):
            return webm
    webm.unlink(missing_ok=True)
    return write_gif(frames, Path(path).with_suffix(".gif"), fps=fps)


def write_mp4(frames: np.ndarray, path: str | Path, *, fps: float = 4, scale: int = 1) -> Path:
    """MPEG-4 Part 2 ('mp4v') MP4: fine for test fixtures and downloads, but browsers won't play it."""
    frames = _sequence(frames, scale)
    path = Path(path)
    if not _write_cv2(frames, path, "mp4v", fps):
        raise RuntimeError(f"OpenCV could not write {path}")
    return path


def _write_cv2(frames: np.ndarray, path: Path, codec: str, fps: float) -> bool:
    rgb = to_rgb(frames)
    # 4:2:0 video halves the colour resolution, so encoders want even sizes: pad with black.
    height, width = rgb.shape[1:3]
    even = np.zeros((len(rgb), height + height % 2, width + width % 2, 3), np.uint8)
    even[:, :height, :width] = rgb
    writer = cv2.VideoWriter(
        str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*codec), fps, (even.shape[2], even.shape[1]), True
    )
    try:
        if not writer.isOpened():
            return False
        for frame in even:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path.is_file() and path.stat().st_size > 0


def _plays(path: Path, codec: str, count: int) -> bool:
    """Reopen the file: is it the codec we asked for, with every frame decodable?"""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            return False
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("latin-1")
        decoded = 0
        while capture.grab():
            decoded += 1
        return fourcc.upper() == codec and decoded == count
    finally:
        capture.release()


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Save an (H, W, 3) RGB or (H, W) gray picture, uint8 or float in [0, 1]."""
    path = Path(path)
    Image.fromarray(to_uint8(image)).save(path, format="PNG")
    return path


# --- labelled pictures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    frames: np.ndarray  # (K, H, W) in [0, 1], or (K, H, W, 3) RGB


def frame_grid(
    rows: Sequence[Row | tuple[str, np.ndarray]],
    *,
    column_labels: Sequence[str] = (),
    scale: int = 2,
    title: str | None = None,
) -> np.ndarray:
    """A labelled table of frames → uint8 RGB (H, W, 3): one row per sequence, one column per time step.

    Row labels on the left, column labels (e.g. lead times "+1", "+2") on top, a title above (in
    lines that fit the table's width). A label may take several lines ("\\n"); a row is at least
    as tall as its label, so that frames of any aspect ratio keep their labels legible.
    Rows with fewer frames than columns leave their last cells blank.
    """
    rows = [row if isinstance(row, Row) else Row(*row) for row in rows]
    if not rows:
        raise ValueError("frame_grid needs at least one row")
    cells = [_cells(row, scale) for row in rows]
    cell_h = max(c.shape[1] for c in cells)
    cell_w = max(c.shape[2] for c in cells)
    columns = max(len(column_labels), max(len(c) for c in cells))
    line_h = _line_height(FONT_SCALE)

    label_w = label_width([row.label for row in rows])
    row_h = max(cell_h, max(len(row.label.split("\n")) for row in rows) * line_h)
    width = label_w + columns * (cell_w + GAP)
    title_lines = _lines(title, width, TITLE_SCALE) if title else []
    lines = max((len(text.split("\n")) for text in column_labels), default=1)  # a label may take several lines
    header_h = lines * line_h + 2 * PAD if column_labels else GAP
    title_h = len(title_lines) * _line_height(TITLE_SCALE) + 2 * PAD if title else 0
    height = title_h + header_h + len(rows) * (row_h + GAP)
    image = np.full((height, width, 3), BACKGROUND, np.uint8)

    for i, line in enumerate(title_lines):
        _put_text(image, line, (PAD, PAD + i * _line_height(TITLE_SCALE)), TITLE_SCALE)
    for j, text in enumerate(column_labels):
        x = label_w + j * (cell_w + GAP)
        for i, line in enumerate(text.split("\n")):
            _put_centred(image, line, x, title_h + PAD + i * line_h, cell_w, FONT_SCALE)
    for i, (row, row_cells) in enumerate(zip(rows, cells, strict=True)):
        y = title_h + header_h + i * (row_h + GAP)
        label = row.label.split("\n")
        for k, line in enumerate(label):
            _put_text(image, line, (PAD, y + (row_h - len(label) * line_h) // 2 + k * line_h), FONT_SCALE)
        top = y + (row_h - cell_h) // 2
        for j, cell in enumerate(row_cells):
            x = label_w + j * (cell_w + GAP)
            image[top:top + cell.shape[0], x:x + cell.shape[1]] = cell
    return image


def side_by_side(
    panels: Sequence[tuple[str, np.ndarray]],
    *,
    scale: int = 2,
    length: int | None = None,
    frame_labels: Sequence[str] | None = None,
) -> np.ndarray:
    """Labelled panels next to each other, as animation frames → uint8 (T, H', W', 3).

    Each panel is a sequence (T_i, H, W[, 3]), e.g. ConvLSTM | optical flow | persistence |
    ground truth, each the input frames followed by its forecast. T is ``length`` or the
    longest panel; a panel with no frame at some step shows a blank cell marked "n/a".
    ``frame_labels[t]`` (e.g. "input 3", "+2") is written under frame t.
    """
    if not panels:
        raise ValueError("side_by_side needs at least one panel")
    sequences = [to_rgb(_upscale(to_uint8(frames), scale)) for _, frames in panels]
    steps = length if length is not None else max(len(s) for s in sequences)
    cell_h = max(s.shape[1] for s in sequences)
    header_h = _line_height(FONT_SCALE) + 2 * PAD
    footer_h = _line_height(FONT_SCALE) + 2 * PAD if frame_labels else 0
    lefts = np.cumsum([0] + [s.shape[2] + GAP for s in sequences])
    width = int(lefts[-1]) - GAP

    page = np.full((header_h + cell_h + footer_h, width, 3), BACKGROUND, np.uint8)
    for (label, _), left, sequence in zip(panels, lefts, sequences, strict=False):
        _put_centred(page, label, int(left), PAD, sequence.shape[2], FONT_SCALE)
    out = np.repeat(page[None], steps, axis=0)
    for t in range(steps):
        for left, sequence in zip(lefts, sequences, strict=False):
            h, w = sequence.shape[1:3]
            cell = out[t, header_h:header_h + h, left:left + w]
            if t < len(sequence):
                cell[:] = sequence[t]
            else:
                cell[:] = BLANK
                _put_centred(cell, "n/a", 0, (h - _line_height(FONT_SCALE)) // 2, w, FONT_SCALE)
        if frame_labels and t < len(frame_labels):
            _put_centred(out[t], frame_labels[t], 0, header_h + cell_h + PAD, width, FONT_SCALE)
    return out


def text_block(text: str, width: int, *, font_scale: float = FONT_SCALE) -> np.ndarray:
    """``text`` set in lines that fit ``width`` pixels, black on the page's white: uint8 RGB (h, width, 3)."""
    lines = _lines(text, width, font_scale)
    height = _line_height(font_scale)
    image = np.full((len(lines) * height + 2 * PAD, width, 3), BACKGROUND, np.uint8)
    for i, line in enumerate(lines):
        _put_text(image, line, (PAD, PAD + i * height), font_scale)
    return image


def label_width(labels: Sequence[str]) -> int:
    """Pixels a column of these row labels takes in ``frame_grid`` (a label may take several lines)."""
    return max(_text_size(line, FONT_SCALE)[0] for label in labels for line in label.split("\n")) + 2 * PAD


def wrapped(label: str, width: int) -> str:
    """``label`` in lines (joined by "\\n") that fit ``width`` pixels where it can, broken at spaces and after
    "+" ("ConvLSTM+advection" over a 64-px cell: "ConvLSTM+" over "advection")."""
    return "\n".join(_lines(label.replace("+", "+ "), width + 2 * PAD, FONT_SCALE)).replace("+ ", "+")


def _lines(text: str, width: int, font_scale: float) -> list[str]:
    """``text``'s words in lines that fit ``width`` pixels with the padding (a single longer word keeps its line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and _text_size(f"{lines[-1]} {word}", font_scale)[0] <= width - 2 * PAD:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _cells(row: Row, scale: int) -> np.ndarray:
    return to_rgb(_upscale(to_uint8(row.frames), scale))


def _line_height(font_scale: float) -> int:
    (_, height), baseline = cv2.getTextSize("Ag", FONT, font_scale, 1)
    return height + baseline


def _text_size(text: str, font_scale: float) -> tuple[int, int]:
    (width, height), baseline = cv2.getTextSize(text, FONT, font_scale, 1)
    return width, height + baseline


def _put_text(image: np.ndarray, text: str, top_left: tuple[int, int], font_scale: float) -> None:
    (_, height), _ = cv2.getTextSize(text, FONT, font_scale, 1)
    x, y = top_left
    cv2.putText(image, text, (x, y + height), FONT, font_scale, INK, 1, cv2.LINE_AA)


def _put_centred(image: np.ndarray, text: str, left: int, top: int, width: int, font_scale: float) -> None:
    # Long labels over a narrow panel get a smaller font rather than spilling into the next one.
    while font_scale > 0.3 and _text_size(text, font_scale)[0] > width - 2:
        font_scale -= 0.05
    text_w = _text_size(text, font_scale)[0]
    _put_text(image, text, (left + max(0, (width - text_w) // 2), top), font_scale)
