"""The format decoders of ``convlstm.data.uploads``: each turns one upload into frames and does nothing else.

A decoder is a generator. It first yields a ``Start``, what it knows before the first frame (the
frame count, if it has one, which may be wrong; the pixels of a frame), then one ``(name, decode)``
pair per frame, in order. ``decode()`` returns that frame as a 2-D float array and raises only
SequenceError; ``name`` is what a message about the frame should call it. The reader calls
``decode`` only for the frames it keeps, before it pulls the next pair, so a skipped frame costs no
conversion: a video's is grabbed, never retrieved; a picture in a list or a ZIP is not even read.

Values: pictures and videos give luminance in [0, 1]; arrays give uint8 / uint16 / bool in [0, 1]
and any other numbers as they are (the reader rescales them), or with ``raw`` every number as stored.
Which frames are kept, shrinking, sizes, the value rule and the notes belong to ``uploads``.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageSequence

from .limits import (
    ARCHIVE_SUFFIXES,
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    SequenceError,
    check_pixels,
    check_zip_sizes,
    failures_as,
    open_zip,
)

# Pillow guesses the format from the content; naming the formats keeps random bytes from
# being taken for a header-less format such as TGA.
# Image.init() must run first: open(formats=...) fails on a name whose plugin isn't loaded yet.
_PIL_FORMATS = ["PNG", "GIF", "WEBP", "JPEG", "BMP", "TIFF", "PPM"]  # JPEG includes MPO
_ANIMATED_FORMATS = {"PNG", "GIF", "WEBP", "TIFF"}  # MPO's second picture is a preview, not a frame
_BT601 = np.array([0.299, 0.587, 0.114], np.float32)  # R, G, B


class Start(NamedTuple):
    """What a decoder knows before its first frame."""

    count: int | None = None  # frames it holds, if known (some containers only estimate)
    pixels: int = 0  # pixels of one frame, if it matters: a long video of large frames stops sooner


Frame = tuple[str, Callable[[], np.ndarray]]
Decoder = Iterator[Start | Frame]


def kind(path: Path) -> str:
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
        return "image"  # image() says so in words
    except Exception:  # not a picture Pillow knows; any decoding error is reported later, by image()
        return "unknown"


# --- decoders -------------------------------------------------------------------------------------


def image(path: Path) -> Decoder:
    """An animated GIF, PNG or WebP, a multi-page TIFF (every frame composited), or one still picture."""
    name, data = path.name, path.read_bytes()
    decode = failures_as(_picture_message(name))
    with _picture(name, data) as picture:
        count = _frame_count(picture)
        yield Start(count, picture.width * picture.height)
        if count == 1:
            yield name, decode(lambda: _still_gray(picture, data))
            return

        @decode
        def frame() -> np.ndarray:
            check_pixels(name, *picture.size)
            return _pil_gray(picture)

        for _ in ImageSequence.Iterator(picture):  # seeks `picture` to each frame in turn
            yield name, frame


def pictures(paths: list[Path]) -> Decoder:
    """Several uploaded still pictures, ordered by name, naturally."""
    for path in paths:
        if kind(path) in ("video", "npy", "npz", "zip"):
            raise SequenceError(
                f"{path.name}: a video, array or ZIP must be uploaded on its own; "
                "several files are read as one still picture each (PNG, JPEG, BMP, TIFF)."
            )
    paths = sorted(paths, key=lambda p: (_natural_key(p.name), str(p)))
    yield from _stills([(p.name, p.read_bytes) for p in paths])


def zipped(path: Path) -> Decoder:
    """A ZIP of still pictures, in folders or not; what macOS and Windows add is skipped."""
    name = path.name
    with open_zip(name, path) as archive:
        members = zip_members(name, archive, "pictures")
        for base, _ in members:
            if PurePosixPath(base).suffix.lower() not in IMAGE_SUFFIXES:
                raise SequenceError(
                    f"{name}: contains {base}, which is not a picture. A ZIP should hold only "
                    "the frames, as PNG, JPEG, BMP or TIFF files."
                )
        yield from _stills([(f"{name} › {base}", partial(read_member, name, archive, info)) for base, info in members])


def zip_members(name: str, archive: zipfile.ZipFile, what: str) -> list[tuple[str, zipfile.ZipInfo]]:
    """The files of a ZIP as (base name, entry), in natural name order, within the size limits: folders and what
    macOS and Windows add skipped, another archive inside refused (``what`` names what belongs there instead)."""
    members = []
    for info in archive.infolist():
        member = info.filename.replace("\\", "/")
        base = PurePosixPath(member).name
        if info.is_dir() or _is_junk(member):
            continue
        if PurePosixPath(base).suffix.lower() in ARCHIVE_SUFFIXES and not base.lower().endswith(".pgm.gz"):
            raise SequenceError(f"{name}: contains another archive ({base}). Put the {what} directly in one ZIP.")
        members.append((base, info))
    check_zip_sizes(name, [info for _, info in members])
    # Folders inside the ZIP are fine: order by file name, naturally; names are never paths.
    return sorted(members, key=lambda m: (_natural_key(m[0]), m[1].filename))


def _stills(items: list[tuple[str, Callable[[], bytes]]]) -> Decoder:
    """Still pictures, in order: (name, load the bytes). A picture is read only if its frame is kept."""
    yield Start(len(items))
    for name, load in items:
        yield name, partial(_still, name, load)


def _still(name: str, load: Callable[[], bytes]) -> np.ndarray:
    with failures_as(f"{name}: could not be read. Try uploading it again."):
        data = load()
    with _picture(name, data) as picture:
        count = _frame_count(picture)
        if count > 1:
            raise SequenceError(
                f"{name} has {count} frames. Upload an animation on its own, or only still pictures together."
            )
        return _still_gray(picture, data)


def video(path: Path) -> Decoder:
    """A video (OpenCV's FFmpeg). Every frame is grabbed; only the kept ones are retrieved (converted)."""
    name = path.name
    message = (
        f"{name}: this video has no frames that OpenCV can decode. "
        "Try an MP4 (H.264/MPEG-4), WebM or an animated GIF."
    )

    @failures_as(message)
    def frame() -> np.ndarray:
        ok, pixels = capture.retrieve()
        if not ok:
            raise SequenceError(message)
        check_pixels(name, pixels.shape[1], pixels.shape[0])
        return _luminance(_unit(pixels), bgr=True)

    with failures_as(message):
        # Naming FFmpeg keeps OpenCV from reading a name like "img%03d.png" as an image pattern.
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        try:
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            if not capture.isOpened() or width <= 0 or height <= 0:
                raise SequenceError(message)
            check_pixels(name, width, height)
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))  # an estimate for some containers
            yield Start(count if count > 0 else None, width * height)
            grabbed = False
            while capture.grab():
                grabbed = True
                yield name, frame
            if not grabbed:
                raise SequenceError(message)
        finally:
            capture.release()


def npy(path: Path, raw: bool = False) -> Decoder:
    yield from array(path.name, path.read_bytes(), raw)


def npz(path: Path, raw: bool = False) -> Decoder:
    """The one array in an .npz, or the one named ``frames`` or ``arr_0``."""
    name = path.name
    with open_zip(name, path) as archive:
        infos = {PurePosixPath(i.filename).name.removesuffix(".npy"): i for i in archive.infolist()}
        check_zip_sizes(name, list(infos.values()))
        if not infos:
            raise SequenceError(f"{name}: holds no arrays. Save the frames with numpy.savez.")
        if len(infos) == 1:
            (member,) = infos
        else:
            member = next((key for key in ("frames", "arr_0") if key in infos), None)
            if member is None:
                raise SequenceError(
                    f"{name}: holds several arrays ({', '.join(sorted(infos))}); name the one to use 'frames', "
                    "or save only one array."
                )
        data = read_member(name, archive, infos[member])
    yield from array(f"{name} › {member}", data, raw)


def array(name: str, data: bytes, raw: bool = False) -> Decoder:
    """The bytes of a .npy; with raw, one number per pixel, as stored."""
    frames = _as_frames(name, _load_npy(name, data), raw)  # (T, H, W, C)
    check_pixels(name, frames.shape[2], frames.shape[1])
    yield Start(len(frames))
    for frame in frames:
        yield name, partial(_array_frame, frame, raw)


def _array_frame(frame: np.ndarray, raw: bool) -> np.ndarray:
    if raw:
        return frame[..., 0].astype(np.result_type(frame.dtype, np.float32))
    return _luminance(_unit(frame))


# --- pictures -------------------------------------------------------------------------------------


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
        check_pixels(name, *image.size)
        with failures_as(_picture_message(name)):
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


def _unit(pixels: np.ndarray) -> np.ndarray:
    """uint8, uint16 or bool pixels → float32 in [0, 1]; other numbers → float32 or float64, as they are."""
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255
    if pixels.dtype.kind == "u" and pixels.dtype.itemsize == 2:
        return pixels.astype(np.float32) / 65535
    return pixels.astype(np.result_type(pixels.dtype, np.float32))  # float64 keeps values near ±1e308


def _luminance(pixels: np.ndarray, *, bgr: bool = False) -> np.ndarray:
    """(H, W) or (H, W, C), C = 1, 2 (gray, alpha), 3 or 4 (colour, alpha) → (H, W) of the same float type."""
    if pixels.ndim == 2:
        return pixels
    channels = pixels.shape[2]
    gray = pixels[..., 0] if channels < 3 else pixels[..., :3] @ (_BT601[::-1] if bgr else _BT601)
    if channels in (2, 4):
        gray = gray * pixels[..., -1]  # over black
    return np.ascontiguousarray(gray)


# --- arrays ---------------------------------------------------------------------------------------


def _load_npy(name: str, data: bytes) -> np.ndarray:
    stream = io.BytesIO(data)
    with failures_as(f"{name}: this is not a NumPy array file that can be read (it may be damaged)."):
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


def _as_frames(name: str, array: np.ndarray, raw: bool) -> np.ndarray:
    """Any accepted layout → (T, H, W, C) with C in 1, 3, 4; with raw, C = 1 and 3-D is always (T, H, W)."""
    if array.dtype.kind not in "buif":
        raise SequenceError(f"{name}: holds {array.dtype} values; frames must be numbers (integers or floats).")
    if raw:
        channels, layouts = (1,), "(T, H, W), (T, H, W, 1) or (T, 1, H, W)"
    else:
        channels, layouts = (1, 3, 4), "(T, H, W), (T, H, W, C) or (T, C, H, W) with C = 1, 3 or 4"
    shape = array.shape
    if array.ndim == 2:
        frames = array[None, ..., None]
    elif array.ndim == 3 and shape[2] in (3, 4) and not raw:
        frames = array[None]  # one colour picture, (H, W, C)
    elif array.ndim == 3:
        frames = array[..., None]
    elif array.ndim == 4 and shape[3] in channels:
        frames = array
    elif array.ndim == 4 and shape[1] in channels:
        frames = array.transpose(0, 2, 3, 1)
    elif array.ndim == 4 and raw and (shape[3] in (3, 4) or shape[1] in (3, 4)):
        raise SequenceError(f"{name}: raw values need one number per pixel: {layouts}; shape {shape} is colour.")
    else:
        raise SequenceError(f"{name}: an array of shape {shape} is not a frame sequence. Use {layouts}.")
    if frames.size == 0:
        raise SequenceError(f"{name}: the array is empty (shape {shape}).")
    return frames


# --- ZIP members ----------------------------------------------------------------------------------


def read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with failures_as(f"{name}: this ZIP file is damaged or uses a compression that can't be read."):
        with archive.open(info) as member:
            # ZipExtFile stops at the declared size and checks the CRC, so a lying header can't expand further.
            return member.read(info.file_size)


def _is_junk(member: str) -> bool:
    # What macOS and Windows add to a ZIP: __MACOSX/ copies, ._ and .DS_Store files, thumbnails.
    base = PurePosixPath(member).name
    return "__MACOSX/" in f"/{member}" or base.startswith(".") or base in ("Thumbs.db", "desktop.ini")


def _natural_key(name: str) -> list:
    # "frame2" before "frame10": re.split with a group puts the digit runs at the odd places.
    return [int(part) if i % 2 else part.lower() for i, part in enumerate(re.split(r"(\d+)", name))]
