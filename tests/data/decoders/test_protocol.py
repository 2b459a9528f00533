"""What every decoder promises, through the reader: bad input only ever raises SequenceError naming the file, and
any damaged file gives valid frames or SequenceError."""

import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from convlstm.data.uploads import SequenceError, read_sequence
from tests.helpers import _animated_gif_bytes, _check, _gray, _png_bytes, _zip_bytes, npy_bytes


def _empty_video(path: Path) -> None:
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 4, (16, 16), True).release()


BAD = {
    "empty.gif": (b"", "empty"),
    "truncated.gif": (_animated_gif_bytes()[:400], "damaged or cut short"),
    "notes.mp4": (b"this is a text file, not a video\n" * 20, "no frames that OpenCV can decode"),
    "pickled.npy": (npy_bytes(np.array([{"a": 1}, None], dtype=object), allow_pickle=True), "pickled"),
    "nan.npy": (npy_bytes(np.array([[[0.5, np.nan]]])), "NaN"),
    "inf.npy": (npy_bytes(np.array([[[0.5, np.inf]]], np.float16)), "infinite"),
    "five_d.npy": (npy_bytes(np.zeros((2, 2, 2, 2, 2))), "not a frame sequence"),
    "one_d.npy": (npy_bytes(np.zeros(10)), "not a frame sequence"),
    "empty_array.npy": (npy_bytes(np.zeros((0, 4, 4))), "empty"),
    "complex.npy": (npy_bytes(np.zeros((2, 4, 4), complex)), "numbers"),
    "strings.npy": (npy_bytes(np.array([[["a"]]])), "numbers"),
    "cut.npy": (npy_bytes(np.zeros((50, 64, 64)))[:1000], "cut short"),
    "text.zip": (_zip_bytes({"frame1.png": _png_bytes(_gray()[0]), "readme.txt": b"hi"}), "readme.txt"),
    "nested.zip": (_zip_bytes({"inner.zip": _zip_bytes({"a.png": _png_bytes(_gray()[0])})}), "another archive"),
    "bomb.zip": (_zip_bytes({"frame.bmp": bytes(9 * 1024 * 1024)}), "expands more than"),
    "junk_only.zip": (_zip_bytes({"__MACOSX/._a.png": b"x"}), "no frames"),
    "not_a.zip": (b"PK\x03\x04 but nothing else", "damaged or not a ZIP"),
    "bad_member.zip": (_zip_bytes({"frame1.png": b"not a png"}), "frame1.png"),
    "nan.tif": (None, "NaN"),
    "mystery.xyz": (b"\x00\x01 nothing anyone knows", "not a format"),
    "huge.png": (None, "too large"),
    "zero.avi": (None, "no frames"),
    "several.npz": (None, "several arrays"),
    "nothing.npz": (_zip_bytes({}), "no arrays"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_uploads_raise_sequence_error_naming_the_file(tmp_path, name):
    data, message = BAD[name]
    path = tmp_path / name
    if name == "nan.tif":
        Image.fromarray(np.array([[0.5, np.nan]], np.float32)).save(path)
    elif name == "huge.png":
        Image.fromarray(np.zeros((4100, 4100), np.uint8)).save(path, compress_level=1)
    elif name == "zero.avi":
        _empty_video(path)
    elif name == "several.npz":
        np.savez(path, a=np.zeros((2, 4, 4)), b=np.zeros((2, 4, 4)))
    else:
        path.write_bytes(data)
    with pytest.raises(SequenceError) as caught:
        read_sequence(path)
    assert name in str(caught.value) and message in str(caught.value)


def _samples() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        frames = _gray(t=3, h=8, w=8)
        images = [Image.fromarray(f) for f in frames]
        for suffix in (".gif", ".png", ".webp", ".tif"):
            images[0].save(folder / f"s{suffix}", save_all=True, append_images=images[1:])
        for suffix in (".jpg", ".bmp"):
            images[0].save(folder / f"s{suffix}")
        for suffix, codec in ((".avi", "MJPG"), (".mp4", "mp4v"), (".webm", "VP80")):
            writer = cv2.VideoWriter(str(folder / f"s{suffix}"), cv2.VideoWriter_fourcc(*codec), 4, (8, 8), True)
            for frame in frames:
                writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
            writer.release()
        np.save(folder / "s.npy", frames)
        np.savez_compressed(folder / "s.npz", frames=frames)
        (folder / "s.zip").write_bytes(_zip_bytes({f"{i}.png": _png_bytes(f) for i, f in enumerate(frames)}))
        return {p.suffix: p.read_bytes() for p in folder.iterdir()}


SAMPLES = _samples()


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suffix=st.sampled_from([*SAMPLES, ".mov", ".mkv", ".bin"]),
    cut=st.floats(0.05, 1.0),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    noise=st.booleans(),
    random_bytes=st.binary(min_size=1, max_size=300),
)
def test_damaged_files_give_frames_or_sequence_error(suffix, cut, edits, noise, random_bytes):
    # Start from a valid file (or pure noise), cut it short and change a few bytes.
    data = bytearray(random_bytes if noise or suffix not in SAMPLES else SAMPLES[suffix])
    data = data[: max(1, int(len(data) * cut))]
    for where, value in edits:
        data[int(where * len(data))] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(bytes(data))
        try:
            frames = read_sequence(path)
        except SequenceError as error:
            assert "upload" in str(error)
        else:
            _check(frames)
