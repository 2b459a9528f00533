"""Which kind of file an upload is, and so which decoder reads it: by its suffix, else by its first bytes."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ..limits import IMAGE_SUFFIXES, VIDEO_SUFFIXES

# Pillow guesses the format from the content; naming the formats keeps random bytes from
# being taken for a header-less format such as TGA.
# Image.init() must run first: open(formats=...) fails on a name whose plugin isn't loaded yet.
PIL_FORMATS = ["PNG", "GIF", "WEBP", "JPEG", "BMP", "TIFF", "PPM"]  # JPEG includes MPO


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
        with Image.open(path, formats=PIL_FORMATS):  # reads the header only
            return "image"
    except Image.DecompressionBombError:
        return "image"  # image() says so in words
    except Exception:  # not a picture Pillow knows; any decoding error is reported later, by image()
        return "unknown"
