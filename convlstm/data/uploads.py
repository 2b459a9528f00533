"""Reading a frame sequence someone uploads: whatever comes in becomes float32 (T, H, W).

Accepted: an animated GIF, PNG (APNG) or WebP, or a multi-page TIFF (Pillow, every frame
composited as a viewer shows it); a video, MP4 / MOV / AVI / WebM / MKV (OpenCV's FFmpeg);
several still pictures, PNG / JPEG / BMP / TIFF / WebP / PGM, or a ZIP of them; a NumPy
``.npy`` or ``.npz``. One still picture gives one frame (the caller decides that is too few).

Two parts: ``decoders`` holds one decoder per format, which only yields frames (and what it
knows up front, such as a frame count), decoding a frame only when asked for it; ``_Policy`` here
decides everything else: which frames are kept, their size, their values, and the notes.

Values (``FrameSequence.from_pixels`` says which kind came back)
- uint8 / 255, uint16 / 65535 (16-bit PNG and TIFF too, colour included), bool → 0 or 1.
- Colour → luminance by ITU-R BT.601, 0.299 R + 0.587 G + 0.114 B (what OpenCV's cvtColor
  uses). Transparent pixels are composited over black: black means "nothing here" (no echo,
  empty sky) and is what the model sees outside the frame.
- Any other numbers (float16/32/64, other integer types, 32-bit and float pictures), after
  colour became luminance: values already in [0, 1] are kept; otherwise the whole sequence is
  min–max scaled to [0, 1] and a note says so. Never a silent clip. NaN or ±inf is an error.
- ``raw=True``: an array's numbers come back as stored (as float32), not rescaled: rain in mm/h,
  reflectivity in dBZ. They must be one number per pixel, (T, H, W), (T, H, W, 1), (T, 1, H, W)
  or (H, W); a 3-D array is always (T, H, W). NaN and +inf are refused, -inf is kept (a dBZ file's
  "no echo"). Pictures and videos have no raw numbers: they give their usual luminance in [0, 1].

Shapes
- Arrays: (T, H, W), (T, H, W, C) or (T, C, H, W) with C = 1, 3 (RGB) or 4 (RGBA); a 2-D
  array is one frame; a 3-D array whose last axis is 3 or 4 is one colour picture (H, W, C).
  An .npz must hold one array, or one named ``frames`` or ``arr_0``.
- Several pictures are ordered by name, naturally (frame2 before frame10). Frames whose size
  differs from the first frame's are resized to it, with a note.
- Frames longer than ``max_side`` pixels on their long side are shrunk (``shrink``: area averaging;
  nearest neighbour for a raw frame holding -inf) as they are decoded, so memory stays bounded;
  with a note.
- More than ``max_frames`` frames: one in every k is kept, k as small as will do, so the time
  step stays uniform (a forecast needs evenly spaced frames); with a note.

Safety: sizes are checked before decoding (file bytes, frame pixels, video frame counts, ZIP
entry counts, sizes and compression ratios, array headers). Nothing is written to disk: ZIP
members are read in memory and their names are never used as paths; pickled arrays are never
loaded. Pillow's decompression-bomb guard stays on. Every failure raises SequenceError with a
message that names the file and says what would work instead.
"""

from __future__ import annotations

import math
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial

import cv2
import numpy as np

from . import decoders
from .decoders import Decoder
from .limits import (
    MAX_DECODED_FRAMES,
    MAX_DECODED_PIXELS,
    MAX_FRAMES,
    MAX_SIDE,
    SUPPORTED,
    SequenceError,
    checked_paths,
)


@dataclass
class FrameSequence:
    frames: np.ndarray  # float32 (T, H, W): in [0, 1], or an array's numbers as stored (raw=True)
    notes: list[str] = field(default_factory=list)  # what was changed on the way, in plain words
    from_pixels: bool = True  # True: pictures or video, luminance in [0, 1]; False: the numbers of an array


def read_sequence(
    source, *, raw: bool = False, max_frames: int = MAX_FRAMES, max_side: int = MAX_SIDE
) -> np.ndarray:
    """A path, or a list of paths, → float32 (T, H, W), in [0, 1] unless raw; raises SequenceError."""
    return load_sequence(source, raw=raw, max_frames=max_frames, max_side=max_side).frames


def load_sequence(
    source, *, raw: bool = False, max_frames: int = MAX_FRAMES, max_side: int = MAX_SIDE
) -> FrameSequence:
    """Like read_sequence, with notes for the user on what was changed (subsampled, shrunk, rescaled)."""
    if max_frames < 1 or max_side < 1:
        raise ValueError("max_frames and max_side must be at least 1")
    paths = checked_paths(source)
    if len(paths) > 1:
        name, kind, decoder = "the upload", "image", decoders.pictures(paths)
    else:
        name, kind = paths[0].name, decoders.kind(paths[0])
        decode = {
            "image": decoders.image, "video": decoders.video, "zip": decoders.zipped,
            "npy": partial(decoders.npy, raw=raw), "npz": partial(decoders.npz, raw=raw),
        }.get(kind, decoders.video)  # no telling suffix or content: a video is the last thing it can be
        decoder = decode(paths[0])
    from_pixels = kind not in ("npy", "npz")
    policy = _Policy(name, max_frames, max_side, raw=raw and not from_pixels, from_pixels=from_pixels)
    try:
        policy.read(decoder)
    except SequenceError:
        if kind != "unknown":
            raise
        raise SequenceError(f"{name}: not a format this app can read. Upload {SUPPORTED}.") from None
    return policy.finish()


class _Policy:
    """Everything about one upload's frames but decoding them: which are kept, the frame cap,
    shrinking, one size for all, the value rule, and the notes that tell the user."""

    def __init__(self, name: str, max_frames: int, max_side: int, *, raw: bool = False, from_pixels: bool = True):
        self.name, self.max_frames, self.max_side = name, max_frames, max_side
        self.raw, self.from_pixels = raw, from_pixels  # raw: the numbers as stored, not rescaled
        self.frames: list[np.ndarray] = []
        self.notes: list[str] = []
        self.stride, self.seen = 1, 0
        self.low, self.high = math.inf, -math.inf  # of the kept frames' values, before shrinking
        self.shrunk_from: tuple[int, int] | None = None

    def read(self, decoder: Decoder) -> None:
        """Pull every frame from a decoder (see ``decoders``); only the kept ones are decoded."""
        with closing(decoder):
            start = next(decoder)
            limit = MAX_DECODED_FRAMES
            if start.pixels:
                limit = max(1, min(limit, MAX_DECODED_PIXELS // start.pixels))
            # One in every k, k as small as will do for the length the decoder expects ...
            self.stride = max(1, math.ceil(min(start.count or 0, limit) / self.max_frames))
            for index, (name, decode) in enumerate(decoder):
                if index == limit:
                    self.notes.append(f"{self.name} is long; only its first {limit} frames were read.")
                    break
                self.seen = index + 1
                if index % self.stride == 0:
                    self._keep(decode(), name)
                if len(self.frames) > self.max_frames:
                    # ... and when that length was unknown or wrong, halve what is kept: the spacing stays even.
                    self.frames, self.stride = self.frames[::2], self.stride * 2

    def _keep(self, frame: np.ndarray, name: str) -> None:
        low, high = float(frame.min()), float(frame.max())  # NaN anywhere makes both NaN
        if math.isnan(low) or high == math.inf or (low == -math.inf and not self.raw):
            raise SequenceError(f"{name}: contains NaN or infinite values. Replace them with numbers first.")
        self.low, self.high = min(self.low, low), max(self.high, high)
        if max(frame.shape) > self.max_side:
            self.shrunk_from = self.shrunk_from or frame.shape[::-1]
            frame = shrink(frame[None], self.max_side)[0]
        self.frames.append(frame)

    def finish(self) -> FrameSequence:
        if not self.frames:
            raise SequenceError(f"{self.name}: no frames were found in it. Upload {SUPPORTED}.")
        if self.stride > 1:
            self.notes.append(
                f"{self.name} had {self.seen} frames; one in every {self.stride} was kept "
                f"({len(self.frames)} frames; at most {self.max_frames} are used)."
            )
        if self.shrunk_from:
            (width, height), (new_height, new_width) = self.shrunk_from, self.frames[0].shape
            self.notes.append(
                f"Frames of {width}×{height} pixels were shrunk to {new_width}×{new_height} "
                f"(at most {self.max_side} pixels a side are used)."
            )
        self._same_size()
        return FrameSequence(self._values(), self.notes, self.from_pixels)

    def _same_size(self) -> None:
        height, width = self.frames[0].shape
        resized = 0
        for i, frame in enumerate(self.frames):
            if frame.shape != (height, width):
                interpolation = cv2.INTER_AREA if frame.size > height * width else cv2.INTER_LINEAR
                self.frames[i] = cv2.resize(frame, (width, height), interpolation=interpolation)
                resized += 1
        if resized:
            self.notes.append(f"{resized} frame(s) had a different size from the first; resized to {width}×{height}.")

    def _values(self) -> np.ndarray:
        """The value rule of the module docstring: the kept frames → float32 (T, H, W)."""
        low, high = self.low, self.high
        rescale = not self.raw and (low < 0 or high > 1)
        if rescale:
            self.notes.append(
                f"{self.name}: values ran from {low:.4g} to {high:.4g}, not 0 to 1; "
                "they were rescaled so the lowest is 0 and the highest 1."
            )
        out = np.empty((len(self.frames), *self.frames[0].shape), np.float32)
        try:
            for i, frame in enumerate(self.frames):
                if not rescale:
                    with np.errstate(over="raise"):  # raw float64 beyond float32's range
                        out[i] = frame
                elif high == low:
                    out[i] = 0
                else:
                    # Halves first: high - low can overflow float64 when values near ±1e308 come in.
                    scaled = (frame.astype(np.float64) / 2 - low / 2) / (high / 2 - low / 2)
                    out[i] = np.clip(scaled, 0, 1)  # the clip only removes rounding error
        except FloatingPointError:
            raise SequenceError(f"{self.name}: its values are too large to work with. Scale them down first.") from None
        return out


def shrink(frames: np.ndarray, max_side: int) -> np.ndarray:
    """(T, H, W) or (T, H, W, 3) frames, float or uint8, whose long side is over max_side → shrunk by area
    averaging to a long side of max_side, aspect kept, each side at least 1 pixel; other frames as they are.

    A frame holding -inf (a raw dBZ frame's "no echo") is shrunk by nearest neighbour instead: area
    averaging would make every block touching one -inf pixel -inf (or NaN), wiping out the echoes
    beside it, where nearest neighbour keeps each value as stored.
    """
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    height, width = frames.shape[1:3]
    longest = max(height, width)
    if longest <= max_side:
        return frames
    size = (max(1, round(width * max_side / longest)), max(1, round(height * max_side / longest)))  # cv2: (W, H)
    out = np.empty((len(frames), size[1], size[0], *frames.shape[3:]), frames.dtype)
    for i, frame in enumerate(frames):
        nearest = frame.dtype.kind == "f" and bool(np.isneginf(frame).any())
        interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
        out[i] = cv2.resize(np.ascontiguousarray(frame), size, interpolation=interpolation).reshape(out.shape[1:])
    return out
