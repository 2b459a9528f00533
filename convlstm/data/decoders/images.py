"""The picture decoders (Pillow): an animation or one still picture, several stills, a ZIP of stills."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
from PIL import Image, ImageSequence

from ..limits import IMAGE_SUFFIXES, SequenceError, check_pixels, failures_as, open_zip
from .gray import luminance, unit
from .kinds import PIL_FORMATS, kind
from .protocol import Decoder, Start
from .zips import natural_key, read_member, zip_members

_ANIMATED_FORMATS = {"PNG", "GIF", "WEBP", "TIFF"}  # MPO's second picture is a preview, not a frame


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
    paths = sorted(paths, key=lambda p: (natural_key(p.name), str(p)))
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


@contextmanager
def _picture(name: str, data: bytes) -> Iterator[Image.Image]:
    Image.init()
    try:
        image = Image.open(io.BytesIO(data), formats=PIL_FORMATS)
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
            return luminance(unit(pixels), bgr=True)
    return _pil_gray(image)


def _pil_gray(image: Image.Image) -> np.ndarray:
    """One Pillow frame → 2-D float32: integer modes in [0, 1], 32-bit and float modes as stored."""
    mode = image.mode
    if mode in ("1", "L", "LA") or mode.startswith("I;16"):
        return luminance(unit(np.asarray(image)))
    if mode in ("I", "F"):
        return np.asarray(image, dtype=np.float32)
    if mode not in ("RGB", "RGBA"):
        # Palette (GIF), CMYK, YCbCr, ...: Pillow applies the palette and any transparency.
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    return luminance(unit(np.asarray(image)))
