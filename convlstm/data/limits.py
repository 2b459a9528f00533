"""What an upload may be, checked before anything is decoded, and the one error it raises.

Sizes, counts and compression ratios are limited so that a hostile or mistaken upload can't
exhaust memory or disk (``convlstm.data.uploads`` and its format decoders both check here);
every refusal is a ``SequenceError`` whose message names the file and says what would work.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

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
# Radar composites (convlstm.data.composites): one frame of a composite, as its header or HDF5 dataset declares it
# before anything is decompressed (EUMETNET OPERA's 4400 × 3800 is 16.7 MP; 3 MB of HDF5 expand to 134 MB there).
MAX_COMPOSITE_PIXELS = 6000 * 6000
MIN_COMPOSITE_SIDE = 100  # the model's window: a smaller composite can't hold one

IMAGE_SUFFIXES = (".png", ".apng", ".gif", ".webp", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".webm", ".mkv")
ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz")
SUPPORTED = (
    "an animated GIF, PNG or WebP; a video (MP4, MOV, AVI, WebM, MKV); several pictures "
    "(PNG, JPEG, BMP, TIFF) or a ZIP of them; a NumPy .npy or .npz file"
)
COMPOSITES_SUPPORTED = (
    "radar composites as weather services publish them, several files or a ZIP of them: ODIM HDF5 "
    "(EUMETNET OPERA and most national services), KNMI HDF5, or FMI PGM (.pgm or .pgm.gz)"
)


class SequenceError(ValueError):
    """An upload that cannot become frames; the message is written for the person who uploaded it."""


def checked_paths(source) -> list[Path]:
    """The paths of an upload (one path or a list), each a non-empty file within the size limits."""
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


def check_composite_size(name: str, height: int, width: int) -> None:
    if height * width > MAX_COMPOSITE_PIXELS:
        raise SequenceError(
            f"{name}: a composite of {width}×{height} pixels is too large; at most {MAX_COMPOSITE_PIXELS // 10**6} "
            "megapixels per frame can be read. Cut it to the region you need first."
        )
    if min(height, width) < MIN_COMPOSITE_SIDE:
        raise SequenceError(
            f"{name}: a composite of {width}×{height} pixels is too small; the model forecasts windows of "
            f"{MIN_COMPOSITE_SIDE}×{MIN_COMPOSITE_SIDE} pixels. Upload the whole composite."
        )


def check_pixels(name: str, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise SequenceError(
            f"{name}: frames of {width}×{height} pixels are too large; at most {MAX_PIXELS // 10**6} "
            "megapixels per frame can be read. Shrink the frames first."
        )


@contextmanager
def open_zip(name: str, path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except Exception as error:  # BadZipFile, OSError, ValueError, ...
        raise SequenceError(f"{name}: this ZIP file is damaged or not a ZIP. Try making it again.") from error
    with archive:
        if len(archive.infolist()) > MAX_FILES:
            raise SequenceError(f"{name}: holds more than {MAX_FILES} files; at most {MAX_FILES} can be read.")
        with failures_as(f"{name}: this ZIP file is damaged or uses a compression that can't be read."):
            yield archive


def check_zip_sizes(name: str, infos: Iterable[zipfile.ZipInfo]) -> None:
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


@contextmanager
def failures_as(message: str) -> Iterator[None]:
    try:
        yield
    except SequenceError:
        raise
    except Exception as error:  # decoders of untrusted bytes raise anything: OSError, zlib.error, MemoryError...
        raise SequenceError(message) from error
