"""The array decoders: a .npy, or the one array in an .npz, in any accepted layout; pickles are never loaded."""

from __future__ import annotations

import io
import math
from functools import partial
from pathlib import Path, PurePosixPath

import numpy as np

from ..limits import SequenceError, check_pixels, check_zip_sizes, failures_as, open_zip
from .gray import luminance, unit
from .protocol import Decoder, Start
from .zips import read_member


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
    return luminance(unit(frame))


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
