"""Reading a frame sequence someone uploads: whatever comes in becomes float32 (T, H, W) in [0, 1].

Accepted: an animated GIF, PNG (APNG) or WebP, or a multi-page TIFF (Pillow, every frame
composited as a viewer shows it); a video, MP4 / MOV / AVI / WebM / MKV (OpenCV's FFmpeg);
several still pictures, PNG / JPEG / BMP / TIFF / WebP / PGM, or a ZIP of them; a NumPy
``.npy`` or ``.npz``. One still picture gives one frame (the caller decides that is too few).

Values
- uint8 / 255, uint16 / 65535 (16-bit PNG and TIFF too, colour included), bool → 0 or 1.
- Colour → luminance by ITU-R BT.601, 0.299 R + 0.587 G + 0.114 B (what OpenCV's cvtColor
  uses). Transparent pixels are composited over black: black means "nothing here" (no echo,
  empty sky) and is what the model sees outside the frame.
- Any other numbers (float16/32/64, other integer types, 32-bit and float pictures): values
  already in [0, 1] are kept; otherwise the whole sequence is min–max scaled to [0, 1] and a
  note says so. Never a silent clip. NaN or ±inf is an error: no honest value can replace it.

Shapes
- Arrays: (T, H, W), (T, H, W, C) or (T, C, H, W) with C = 1, 3 (RGB) or 4 (RGBA); a 2-D
  array is one frame; a 3-D array whose last axis is 3 or 4 is one colour picture (H, W, C).
  An .npz must hold one array, or one named ``frames`` or ``arr_0``.
- Several pictures are ordered by name, naturally (frame2 before frame10). Frames whose size
  differs from the first frame's are resized to it, with a note.
- Frames longer than ``max_side`` pixels on their long side are shrunk (area averaging) as
  they are decoded, so memory stays bounded; with a note.
- More than ``max_frames`` frames: one in every k is kept, k as small as will do, so the time
  step stays uniform (a forecast needs evenly spaced frames); with a note.

Safety: sizes are checked before decoding (file bytes, frame pixels, video frame counts, ZIP
entry counts, sizes and compression ratios, array headers). Nothing is written to disk: ZIP
members are read in memory and their names are never used as paths; pickled arrays are never
loaded. Pillow's decompression-bomb guard stays on. Every failure raises SequenceError with a
message that names the file and says what would work instead.
"""

from __future__ import annotations

import io
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
from PIL import Image, ImageSequence

MB = 1024 * 1024
MAX_FILE_BYTES = 50 * MB  # any one file, and any one member of a ZIP once uncompressed
MAX_UPLOAD_BYTES = 200 * MB  # all files of one upload together
MAX_FILES = 2000  # files in one upload, or entries in one ZIP
MAX_FRAMES = 100  # frames kept (default of max_frames)
MAX_SIDE = 512  # long side of a kept frame, in pixels (default of max_side)
MAX_PIXELS = 4096 * 4096  # pixels of one frame as stored; larger is refused before decoding
MAX_DECODED_FRAMES = 3000  # frames walked through in one video or animation; the rest is ignored
MAX_DECODED_PIXELS = 3_000_000_000  # same, counted in pixels, so a 4K video stops sooner
MAX_ZIP_UNCOMPRESSED = 200 * MB  # all members of one ZIP together, uncompressed
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for a ZIP that expands to more than ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 8 * MB

IMAGE_SUFFIXES = (".png", ".apng", ".gif", ".webp", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".webm", ".mkv")
ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz")
SUPPORTED = (
    "an animated GIF, PNG or WebP; a video (MP4, MOV, AVI, WebM, MKV); several pictures "
    "(PNG, JPEG, BMP, TIFF) or a ZIP of them; a NumPy .npy or .npz file"
)

# Pillow guesses the format from the content; naming the formats keeps random bytes from
# being taken for a header-less format such as TGA.
# Image.init() must run first: open(formats=...) fails on a name whose plugin isn't loaded yet.
_PIL_FORMATS = ["PNG", "GIF", "WEBP", "JPEG", "BMP", "TIFF", "PPM"]  # JPEG includes MPO
_ANIMATED_FORMATS = {"PNG", "GIF", "WEBP", "TIFF"}  # MPO's second picture is a preview, not a frame
_BT601 = np.array([0.299, 0.587, 0.114], np.float32)  # R, G, B


class SequenceError(ValueError):
    """An upload that cannot become frames; the message is written for the person who uploaded it."""


@dataclass
class FrameSequence:
    frames: np.ndarray  # float32 (T, H, W) in [0, 1]
    notes: list[str] = field(default_factory=list)  # what was changed on the way, in plain words


def read_sequence(source, *, max_frames: int = MAX_FRAMES, max_side: int = MAX_SIDE) -> np.ndarray:
    """A path, or a list of paths, → float32 (T, H, W) in [0, 1]; raises SequenceError."""
    return load_sequence(source, max_frames=max_frames, max_side=max_side).frames


def load_sequence(source, *, max_frames: int = MAX_FRAMES, max_side: int = MAX_SIDE) -> FrameSequence:
    """Like read_sequence, with notes for the user on what was changed (subsampled, shrunk, rescaled)."""
    if max_frames < 1 or max_side < 1:
        raise ValueError("max_frames and max_side must be at least 1")
    paths = _checked_paths(source)
    if len(paths) > 1:
        return _read_stills(paths, max_frames, max_side)
    path = paths[0]
    reader = _Reader(path.name, max_frames, max_side)
    kind = _kind(path)
    read = {
        "image": reader.read_image, "video": reader.read_video,
        "npy": reader.read_npy, "npz": reader.read_npz, "zip": reader.read_zip,
    }.get(kind, reader.read_video)  # no telling suffix or content: a video is the last thing it can be
    try:
        read(path)
    except SequenceError:
        if kind != "unknown":
            raise
        raise SequenceError(f"{path.name}: not a format this app can read. Upload {SUPPORTED}.") from None
    return reader.finish()


def _checked_paths(source) -> list[Path]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not items:
        raise SequenceError("No file was uploaded.")
    if len(items) > MAX_FILES:
        raise SequenceError(f"{len(items)} files were uploaded; at most {MAX_FILES} can be read at once.")
    paths, total = [], 0
    for item in items:
        path = Path(item)
        try:
            is_dir, size = path.is_dir(), path.stat().st_size
        except (OSError, ValueError) as error:  # ValueError: a NUL byte in the name
            raise SequenceError(f"{path.name}: the file could not be found or opened.") from error
        if is_dir:
            raise SequenceError(f"{path.name}: is a folder. Upload the files in it, or a ZIP of it.")
        if size == 0:
            raise SequenceError(f"{path.name}: the file is empty. Try uploading it again.")
        if size > MAX_FILE_BYTES:
            raise SequenceError(
                f"{path.name}: the file is {size / MB:.0f} MB; at most {MAX_FILE_BYTES // MB} MB per file "
                "can be read. Try a shorter or smaller clip."
            )
        total += size
        paths.append(path)
    if total > MAX_UPLOAD_BYTES:
        raise SequenceError(f"The upload is {total / MB:.0f} MB; at most {MAX_UPLOAD_BYTES // MB} MB can be read.")
    return paths


def _kind(path: Path) -> str:
    """What the file is, by its suffix, else by its first bytes: image, video, npy, npz, zip or unknown."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in (".npy", ".npz", ".zip"):
        return suffix[1:]
    with open(path, "rb") as file:
        head = file.read(8)
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK"):
        return "zip"
    Image.init()
    try:
        with Image.open(path, formats=_PIL_FORMATS):  # reads the header only
            return "image"
    except Image.DecompressionBombError:
        return "image"  # read_image says so in words
    except Exception:  # not a picture Pillow knows; any decoding error is reported later, by read_image
        return "unknown"


def _read_stills(paths: list[Path], max_frames: int, max_side: int) -> FrameSequence:
    for path in paths:
        if _kind(path) in ("video", "npy", "npz", "zip"):
            raise SequenceError(
                f"{path.name}: a video, array or ZIP must be uploaded on its own; "
                "several files are read as one still picture each (PNG, JPEG, BMP, TIFF)."
            )
    paths = sorted(paths, key=lambda p: (_natural_key(p.name), str(p)))
    reader = _Reader("the upload", max_frames, max_side)
    reader.read_pictures([(p.name, p.read_bytes) for p in paths])
    return reader.finish()


class _Reader:
    """Collects the frames of one upload: subsampling, shrinking, and the notes that go with them."""

    def __init__(self, name: str, max_frames: int, max_side: int):
        self.name, self.max_frames, self.max_side = name, max_frames, max_side
        self.frames: list[np.ndarray] = []
        self.notes: list[str] = []
        self.stride, self.seen = 1, 0
        self.shrunk_from: tuple[int, int] | None = None

    # --- keeping frames ---------------------------------------------------------------------

    def expect(self, count: int) -> None:
        """Set the stride for a source of known length (it can still grow, see keep)."""
        self.stride = max(1, math.ceil(count / self.max_frames))

    def wants(self, index: int) -> bool:
        self.seen = max(self.seen, index + 1)
        return index % self.stride == 0

    def keep(self, frame: np.ndarray, name: str) -> None:
        """Keep a 2-D float32 frame (values in [0, 1], or raw numbers for float sources)."""
        if not np.isfinite(frame).all():
            raise SequenceError(f"{name}: contains NaN or infinite values. Replace them with numbers first.")
        height, width = frame.shape
        if max(height, width) > self.max_side:
            factor = self.max_side / max(height, width)
            size = (max(1, round(width * factor)), max(1, round(height * factor)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            self.shrunk_from = self.shrunk_from or (width, height)
        self.frames.append(frame)
        if len(self.frames) > self.max_frames:
            # The length was unknown or wrong: halve what is kept; the spacing stays even.
            self.frames = self.frames[::2]
            self.stride *= 2

    def finish(self) -> FrameSequence:
        if not self.frames:
            raise SequenceError(f"{self.name}: no frames were found in it. Upload {SUPPORTED}.")
        if self.stride > 1:
            self.notes.append(
                f"{self.name} had {self.seen} frames; one in every {self.stride} was kept "
                f"({len(self.frames)} frames; at most {self.max_frames} are used)."
            )
        if self.shrunk_from:
            width, height = self.shrunk_from
            new_height, new_width = self.frames[0].shape
            self.notes.append(
                f"Frames of {width}×{height} pixels were shrunk to {new_width}×{new_height} "
                f"(at most {self.max_side} pixels a side are used)."
            )
        frames = self._same_size(self.frames)
        self._to_unit_range(frames)
        return FrameSequence(frames, self.notes)

    def _same_size(self, frames: list[np.ndarray]) -> np.ndarray:
        height, width = frames[0].shape
        resized = 0
        for i, frame in enumerate(frames):
            if frame.shape != (height, width):
                shrinking = frame.shape[0] * frame.shape[1] > height * width
                interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
                frames[i] = cv2.resize(frame, (width, height), interpolation=interpolation)
                resized += 1
        if resized:
            self.notes.append(f"{resized} frame(s) had a different size from the first; resized to {width}×{height}.")
        return np.stack(frames).astype(np.float32, copy=False)

    def _to_unit_range(self, frames: np.ndarray) -> None:
        low, high = float(frames.min()), float(frames.max())
        if low >= 0 and high <= 1:
            return
        for frame in frames:
            frame[:] = _rescale(frame, low, high)
        self.notes.append(
            f"{self.name}: values ran from {low:.4g} to {high:.4g}, not 0 to 1; "
            "they were rescaled so the lowest is 0 and the highest 1."
        )

    # --- sources ------------------------------------------------------------------------------

    def read_image(self, path: Path) -> None:
        data = path.read_bytes()
        with _picture(path.name, data) as image:
            count = _frame_count(image)
            if count == 1:
                self.keep(_still_gray(image, data), path.name)
                return
            with _failures_as(_picture_message(path.name)):
                self.expect(min(count, MAX_DECODED_FRAMES))
                for i, frame in enumerate(ImageSequence.Iterator(image)):
                    if i == MAX_DECODED_FRAMES:
                        self.notes.append(f"{path.name} is long; only its first {i} frames were read.")
                        break
                    if self.wants(i):
                        _check_pixels(path.name, *frame.size)
                        self.keep(_pil_gray(frame), path.name)

    def read_pictures(self, items: list[tuple[str, Callable[[], bytes]]]) -> None:
        """Several still pictures, already in order; only the ones kept are decoded."""
        self.expect(len(items))
        for i, (name, load) in enumerate(items):
            if not self.wants(i):
                continue
            with _failures_as(f"{name}: could not be read. Try uploading it again."):
                data = load()
            with _picture(name, data) as image:
                count = _frame_count(image)
                if count > 1:
                    raise SequenceError(
                        f"{name} has {count} frames. Upload an animation on its own, "
                        "or only still pictures together."
                    )
                self.keep(_still_gray(image, data), name)

    def read_video(self, path: Path) -> None:
        name = path.name
        message = (
            f"{name}: this video has no frames that OpenCV can decode. "
            "Try an MP4 (H.264/MPEG-4), WebM or an animated GIF."
        )
        with _failures_as(message):
            # Naming FFmpeg keeps OpenCV from reading a name like "img%03d.png" as an image pattern.
            capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
            try:
                if not capture.isOpened():
                    raise SequenceError(message)
                width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
                height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
                if width <= 0 or height <= 0:
                    raise SequenceError(message)
                _check_pixels(name, width, height)
                budget = min(MAX_DECODED_FRAMES, MAX_DECODED_PIXELS // (width * height))
                count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))  # an estimate for some containers
                if count > 0:
                    self.expect(min(count, budget))
                for i in range(budget):
                    if self.wants(i):
                        ok, frame = capture.read()
                        if ok:
                            _check_pixels(name, frame.shape[1], frame.shape[0])
                            self.keep(_luminance(_unit(frame), bgr=True), name)
                    else:
                        ok = capture.grab()  # decodes without converting: the cheap way to skip
                    if not ok:
                        self.seen = i
                        break
                else:
                    if capture.grab():
                        self.notes.append(f"{name} is long; only its first {budget} frames were read.")
            finally:
                capture.release()
        if not self.frames:
            raise SequenceError(message)

    def read_npy(self, path: Path) -> None:
        self._read_array(path.name, path.read_bytes())

    def read_npz(self, path: Path) -> None:
        name = path.name
        with _zip(name, path) as archive:
            infos = {PurePosixPath(i.filename).name.removesuffix(".npy"): i for i in archive.infolist()}
            _check_zip_sizes(name, list(infos.values()))
            if not infos:
                raise SequenceError(f"{name}: holds no arrays. Save the frames with numpy.savez.")
            if len(infos) == 1:
                (member,) = infos
            else:
                member = next((key for key in ("frames", "arr_0") if key in infos), None)
                if member is None:
                    listed = ", ".join(sorted(infos))
                    raise SequenceError(
                        f"{name}: holds several arrays ({listed}); name the one to use 'frames', "
                        "or save only one array."
                    )
            data = _read_member(name, archive, infos[member])
        self._read_array(f"{name} › {member}", data)

    def read_zip(self, path: Path) -> None:
        name = path.name
        with _zip(name, path) as archive:
            members = []
            for info in archive.infolist():
                member = info.filename.replace("\\", "/")
                base = PurePosixPath(member).name
                if info.is_dir() or _is_junk(member):
                    continue
                suffix = PurePosixPath(base).suffix.lower()
                if suffix in ARCHIVE_SUFFIXES:
                    raise SequenceError(
                        f"{name}: contains another archive ({base}). Put the pictures directly in one ZIP."
                    )
                if suffix not in IMAGE_SUFFIXES:
                    raise SequenceError(
                        f"{name}: contains {base}, which is not a picture. A ZIP should hold only "
                        "the frames, as PNG, JPEG, BMP or TIFF files."
                    )
                members.append((base, info))
            _check_zip_sizes(name, [info for _, info in members])
            # Folders inside the ZIP are fine: order by file name, naturally; names are never paths.
            members.sort(key=lambda m: (_natural_key(m[0]), m[1].filename))
            self.read_pictures(
                [(f"{name} › {base}", lambda info=info: _read_member(name, archive, info)) for base, info in members]
            )

    def _read_array(self, name: str, data: bytes) -> None:
        array = _load_npy(name, data)
        frames = _as_frames(name, array)  # (T, H, W, C)
        _check_pixels(name, frames.shape[2], frames.shape[1])
        self.expect(min(len(frames), MAX_DECODED_FRAMES))
        kept = frames[: MAX_DECODED_FRAMES : self.stride]
        self.seen = min(len(frames), MAX_DECODED_FRAMES)
        if len(frames) > MAX_DECODED_FRAMES:
            self.notes.append(f"{name} is long; only its first {MAX_DECODED_FRAMES} frames were read.")
        scale = None
        pixel_values = array.dtype.kind == "b" or (array.dtype.kind == "u" and array.dtype.itemsize <= 2)
        if not pixel_values:  # the float rule: see the module docstring
            if array.dtype.kind == "f" and not np.isfinite(kept).all():
                raise SequenceError(f"{name}: contains NaN or infinite values. Replace them with numbers first.")
            low, high = float(kept.min()), float(kept.max())
            if not (math.isfinite(low) and math.isfinite(high)):
                raise SequenceError(f"{name}: its values are too large to work with. Scale them down first.")
            if low < 0 or high > 1:
                scale = (low, high)
                self.notes.append(
                    f"{name}: values ran from {low:.4g} to {high:.4g}, not 0 to 1; "
                    "they were rescaled so the lowest is 0 and the highest 1."
                )
        for frame in kept:
            unit = _rescale(frame, *scale) if scale else _unit(frame)
            self.keep(_luminance(unit), name)


# --- pictures -------------------------------------------------------------------------------


@contextmanager
def _picture(name: str, data: bytes) -> Iterator[Image.Image]:
    Image.init()
    try:
        image = Image.open(io.BytesIO(data), formats=_PIL_FORMATS)
    except Image.DecompressionBombError as error:
        raise SequenceError(f"{name}: the picture is far too large to read safely.") from error
    except Exception as error:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError, ...
        raise SequenceError(_picture_message(name)) from error
    with image:
        _check_pixels(name, *image.size)
        with _failures_as(_picture_message(name)):
            yield image


def _picture_message(name: str) -> str:
    return (
        f"{name}: this is not a picture that can be read (it may be damaged or cut short). "
        "Try PNG, JPEG, or an animated GIF."
    )


def _frame_count(image: Image.Image) -> int:
    return getattr(image, "n_frames", 1) if image.format in _ANIMATED_FORMATS else 1


def _still_gray(image: Image.Image, data: bytes) -> np.ndarray:
    # Pillow keeps only 8 bits of a 16-bit colour picture; OpenCV keeps all 16. (Not for TIFF
    # with alpha: OpenCV's TIFF reader premultiplies it.)
    if image.mode in ("RGB", "RGBA") and (image.format == "PNG" or image.mode == "RGB" and image.format == "TIFF"):
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        usable = pixels is not None and pixels.dtype == np.uint16 and pixels.ndim == 3
        if usable and pixels.shape[:2] == image.size[::-1]:
            return _luminance(_unit(pixels), bgr=True)
    return _pil_gray(image)


def _pil_gray(image: Image.Image) -> np.ndarray:
    """One Pillow frame → 2-D float32: integer modes in [0, 1], 32-bit and float modes as stored."""
    mode = image.mode
    if mode in ("1", "L", "LA") or mode.startswith("I;16"):
        return _luminance(_unit(np.asarray(image)))
    if mode in ("I", "F"):
        return np.asarray(image, dtype=np.float32)
    if mode not in ("RGB", "RGBA"):
        # Palette (GIF), CMYK, YCbCr, ...: Pillow applies the palette and any transparency.
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    return _luminance(_unit(np.asarray(image)))


def _check_pixels(name: str, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise SequenceError(
            f"{name}: frames of {width}×{height} pixels are too large; at most {MAX_PIXELS // 10**6} "
            "megapixels per frame can be read. Shrink the frames first."
        )


# --- values ---------------------------------------------------------------------------------


def _unit(pixels: np.ndarray) -> np.ndarray:
    """uint8, uint16 or bool pixels → float32 in [0, 1]."""
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255
    if pixels.dtype.kind == "u" and pixels.dtype.itemsize == 2:
        return pixels.astype(np.float32) / 65535
    return pixels.astype(np.float32)


def _rescale(frame: np.ndarray, low: float, high: float) -> np.ndarray:
    if high == low:
        return np.zeros(frame.shape, np.float32)
    # Halves first: high - low can overflow float64 when values near ±1e308 come in.
    scaled = (frame.astype(np.float64) / 2 - low / 2) / (high / 2 - low / 2)
    return np.clip(scaled, 0, 1).astype(np.float32)  # the clip only removes rounding error


def _luminance(pixels: np.ndarray, *, bgr: bool = False) -> np.ndarray:
    """(H, W) or (H, W, C) in [0, 1], C = 1, 2 (gray, alpha), 3 or 4 (colour, alpha) → (H, W)."""
    if pixels.ndim == 2:
        return pixels
    channels = pixels.shape[2]
    if channels in (1, 2):
        gray = pixels[..., 0]
    else:
        weights = _BT601[::-1] if bgr else _BT601
        gray = pixels[..., :3] @ weights
    if channels in (2, 4):
        gray = gray * pixels[..., -1]  # over black
    return np.ascontiguousarray(gray, dtype=np.float32)


# --- arrays ---------------------------------------------------------------------------------


def _load_npy(name: str, data: bytes) -> np.ndarray:
    stream = io.BytesIO(data)
    with _failures_as(f"{name}: this is not a NumPy array file that can be read (it may be damaged)."):
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(stream)
        if dtype.hasobject:
            raise SequenceError(
                f"{name}: holds Python objects (pickled data), which are never loaded, for safety. "
                "Save a plain number array instead."
            )
        # The header alone could promise terabytes; the data must actually be in the file.
        if math.prod(shape) * dtype.itemsize > len(data):
            raise SequenceError(f"{name}: the file is cut short; it holds less data than its header says.")
        stream.seek(0)
        return np.load(stream, allow_pickle=False)


def _as_frames(name: str, array: np.ndarray) -> np.ndarray:
    """Any accepted layout → (T, H, W, C) with C in 1, 3, 4."""
    if array.dtype.kind not in "buif":
        raise SequenceError(f"{name}: holds {array.dtype} values; frames must be numbers (integers or floats).")
    layouts = "(T, H, W), (T, H, W, C) or (T, C, H, W) with C = 1, 3 or 4"
    shape = array.shape
    if array.ndim == 2:
        frames = array[None, ..., None]
    elif array.ndim == 3 and shape[2] in (3, 4):
        frames = array[None]  # one colour picture, (H, W, C)
    elif array.ndim == 3:
        frames = array[..., None]
    elif array.ndim == 4 and shape[3] in (1, 3, 4):
        frames = array
    elif array.ndim == 4 and shape[1] in (1, 3, 4):
        frames = array.transpose(0, 2, 3, 1)
    else:
        raise SequenceError(f"{name}: an array of shape {shape} is not a frame sequence. Use {layouts}.")
    if frames.size == 0:
        raise SequenceError(f"{name}: the array is empty (shape {shape}).")
    return frames


# --- ZIP ------------------------------------------------------------------------------------


@contextmanager
def _zip(name: str, path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except Exception as error:  # BadZipFile, OSError, ValueError, ...
        raise SequenceError(f"{name}: this ZIP file is damaged or not a ZIP. Try making it again.") from error
    with archive:
        if len(archive.infolist()) > MAX_FILES:
            raise SequenceError(f"{name}: holds more than {MAX_FILES} files; at most {MAX_FILES} can be read.")
        with _failures_as(f"{name}: this ZIP file is damaged or uses a compression that can't be read."):
            yield archive


def _check_zip_sizes(name: str, infos: Iterable[zipfile.ZipInfo]) -> None:
    infos = list(infos)
    for info in infos:
        if info.flag_bits & 0x1:
            raise SequenceError(f"{name}: is password-protected. Upload a ZIP without a password.")
        if info.file_size > MAX_FILE_BYTES:
            raise SequenceError(
                f"{name}: {PurePosixPath(info.filename).name} is {info.file_size / MB:.0f} MB uncompressed; "
                f"at most {MAX_FILE_BYTES // MB} MB per file can be read."
            )
    expanded = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if expanded > MAX_ZIP_UNCOMPRESSED:
        raise SequenceError(
            f"{name}: expands to {expanded / MB:.0f} MB; at most {MAX_ZIP_UNCOMPRESSED // MB} MB can be read."
        )
    if expanded > ZIP_RATIO_FLOOR and expanded > MAX_ZIP_RATIO * max(packed, 1):
        raise SequenceError(
            f"{name}: expands more than {MAX_ZIP_RATIO} times its size, which is how harmful ZIP files look; "
            "it was not opened. Zip PNG pictures instead."
        )


def _read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with _failures_as(f"{name}: this ZIP file is damaged or uses a compression that can't be read."):
        with archive.open(info) as member:
            # ZipExtFile stops at the declared size and checks the CRC, so a lying header can't expand further.
            return member.read(info.file_size)


def _is_junk(member: str) -> bool:
    # What macOS and Windows add to a ZIP: __MACOSX/ copies, ._ and .DS_Store files, thumbnails.
    base = PurePosixPath(member).name
    return "__MACOSX/" in f"/{member}" or base.startswith(".") or base in ("Thumbs.db", "desktop.ini")


# --- helpers ----------------------------------------------------------------------------------


@contextmanager
def _failures_as(message: str) -> Iterator[None]:
    try:
        yield
    except SequenceError:
        raise
    except Exception as error:  # decoders of untrusted bytes raise anything: OSError, zlib.error, MemoryError...
        raise SequenceError(message) from error


def _natural_key(name: str) -> list:
    # "frame2" before "frame10": re.split with a group puts the digit runs at the odd places.
    return [int(part) if i % 2 else part.lower() for i, part in enumerate(re.split(r"(\d+)", name))]
