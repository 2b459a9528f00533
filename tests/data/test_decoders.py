"""The format decoders, through the reader: every format round-trips, bad input only ever raises
SequenceError naming the file, arrays in every layout (raw ones too), pickles never loaded."""

import io
import os
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from convlstm.data import limits
from convlstm.data.uploads import SequenceError, read_sequence
from tests.helpers import H, T, W, _animated_gif_bytes, _check, _gray, _png_bytes, _rain, _zip_bytes


def _rgb(t=T, h=H, w=W) -> np.ndarray:
    g = _gray(t, h, w).astype(np.int32)
    return np.stack([g, 255 - g, (g * 3) % 256], -1).astype(np.uint8)


def _lum(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., :3].astype(np.float64) / 255) @ [0.299, 0.587, 0.114]


# --- every supported format, read back ----------------------------------------------------------


@pytest.mark.parametrize("suffix, options", [
    (".gif", {}), (".png", {}), (".apng", {}), (".webp", {"lossless": True}), (".tif", {}),
])
def test_animations_round_trip_exactly(tmp_path, suffix, options):
    frames = _gray()
    images = [Image.fromarray(f) for f in frames]
    path = tmp_path / f"anim{suffix}"
    images[0].save(path, save_all=True, append_images=images[1:], format=None if suffix != ".apng" else "PNG",
                   **options)
    out = read_sequence(path)
    _check(out)
    np.testing.assert_allclose(out, frames / 255, atol=1e-6)


def test_gif_colour_frames_are_composited_to_luminance(tmp_path):
    frames = _rgb()
    # Few colours, so the GIF palette holds them exactly.
    frames = (frames // 64 * 64).astype(np.uint8)
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tmp_path / "c.gif", save_all=True, append_images=images[1:])
    np.testing.assert_allclose(read_sequence(tmp_path / "c.gif"), _lum(frames), atol=1e-5)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_lossless_stills_in_natural_order(tmp_path, suffix, mode):
    if suffix == ".bmp" and mode == "RGBA":
        pytest.skip("Pillow writes BMP without alpha")
    gray, rgb = _gray(t=11), _rgb(t=11)
    alpha = np.linspace(0, 255, W).astype(np.uint8)[None, None, :].repeat(H, 1).repeat(11, 0)
    if mode == "L":
        pixels, expected = gray, gray / 255
    elif mode == "RGB":
        pixels, expected = rgb, _lum(rgb)
    else:
        pixels, expected = np.concatenate([rgb, alpha[..., None]], -1), _lum(rgb) * alpha / 255
    paths = []
    for i, frame in enumerate(pixels):
        path = tmp_path / f"frame{i}{suffix}"  # frame2 must come before frame10
        Image.fromarray(frame, mode).save(path, **({"lossless": True} if suffix == ".webp" else {}))
        paths.append(path)
    out = read_sequence(sorted(paths, reverse=True))  # the order given doesn't matter
    _check(out)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_jpeg_stills_within_tolerance(tmp_path):
    frames = _rgb()
    paths = []
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(tmp_path / f"f{i}.jpg", quality=95)
        paths.append(tmp_path / f"f{i}.jpg")
    out = read_sequence(paths)
    assert np.abs(out - _lum(frames)).mean() < 0.02


def test_sixteen_bit_pictures_keep_all_bits(tmp_path):
    gray16 = (_gray().astype(np.uint16) * 257 + 123)
    Image.fromarray(gray16[0]).save(tmp_path / "g.png")
    Image.fromarray(gray16[1]).save(tmp_path / "g.tif")
    np.testing.assert_allclose(read_sequence(tmp_path / "g.png")[0], gray16[0] / 65535, atol=1e-6)
    np.testing.assert_allclose(read_sequence(tmp_path / "g.tif")[0], gray16[1] / 65535, atol=1e-6)
    rgb16 = _rgb()[0].astype(np.uint16) * 257 + 77
    for suffix in (".png", ".tif"):
        cv2.imwrite(str(tmp_path / f"c{suffix}"), rgb16[..., ::-1])  # OpenCV writes BGR
        expected = (rgb16.astype(np.float64) / 65535) @ [0.299, 0.587, 0.114]
        np.testing.assert_allclose(read_sequence(tmp_path / f"c{suffix}")[0], expected, atol=1e-6)


@pytest.mark.parametrize("suffix, codec, tolerance", [
    (".avi", "MJPG", 0.03), (".mp4", "mp4v", 0.03), (".webm", "VP80", 0.03), (".mkv", "FFV1", 0.01),
    (".mov", "mp4v", 0.03),
])
def test_videos_read_back(tmp_path, suffix, codec, tolerance):
    frames = _gray(t=6, h=32, w=48)
    path = tmp_path / f"clip{suffix}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 4, (48, 32), True)
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    out = read_sequence(path)
    _check(out)
    assert out.shape == frames.shape
    assert np.abs(out - frames / 255).mean() < tolerance
    assert np.all(np.diff(out.mean(axis=(1, 2))) > 0)  # frames in order


LAYOUTS = {
    "THW": lambda f: f,
    "THW1": lambda f: f[..., None],
    "T1HW": lambda f: f[:, None],
    "THW3": lambda f: np.repeat(f[..., None], 3, -1),
    "T3HW": lambda f: np.repeat(f[:, None], 3, 1),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32", "float64", "bool"])
def test_array_layouts_and_dtypes(tmp_path, layout, dtype):
    unit = _gray() / 255  # values in [0, 1]
    stored = {
        "uint8": (unit * 255).round().astype(np.uint8),
        "uint16": (unit * 65535).round().astype(np.uint16),
        "bool": unit > 0.5,
    }.get(dtype, unit.astype(dtype))
    expected = stored.astype(np.float64) / {"uint8": 255, "uint16": 65535}.get(dtype, 1)
    np.save(tmp_path / "a.npy", LAYOUTS[layout](stored))
    out = read_sequence(tmp_path / "a.npy")
    _check(out)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_arrays_of_colour_and_single_frames(tmp_path):
    rgb = _rgb()
    np.save(tmp_path / "rgb.npy", rgb[0])  # (H, W, 3): one colour picture
    np.testing.assert_allclose(read_sequence(tmp_path / "rgb.npy"), _lum(rgb[:1]), atol=1e-6)
    np.save(tmp_path / "one.npy", _gray()[0])  # (H, W): one frame
    assert read_sequence(tmp_path / "one.npy").shape == (1, H, W)
    big_endian = (_gray().astype(np.uint16) * 100).astype(">u2")  # 16-bit, as stored by some instruments
    np.save(tmp_path / "be.npy", big_endian)
    np.testing.assert_allclose(read_sequence(tmp_path / "be.npy"), big_endian / 65535, atol=1e-6)


def test_npz_picks_the_frames_array(tmp_path):
    frames = _gray()
    np.savez(tmp_path / "one.npz", anything=frames)
    np.savez_compressed(tmp_path / "named.npz", frames=frames, labels=np.arange(3))
    np.savez(tmp_path / "positional.npz", frames, np.arange(3))
    for name in ("one.npz", "named.npz", "positional.npz"):
        np.testing.assert_allclose(read_sequence(tmp_path / name), frames / 255, atol=1e-6)
    np.savez(tmp_path / "vague.npz", a=frames, b=frames)
    with pytest.raises(SequenceError, match=r"vague\.npz.*a, b"):
        read_sequence(tmp_path / "vague.npz")


def test_zip_of_pictures_in_folders_in_natural_order_without_junk(tmp_path):
    frames = _gray(t=11)
    with zipfile.ZipFile(tmp_path / "frames.zip", "w") as archive:
        for i in reversed(range(11)):
            archive.writestr(f"run/part{i % 2}/frame{i}.png", _png_bytes(frames[i]))
        archive.writestr("run/", b"")
        archive.writestr("__MACOSX/run/._frame1.png", b"junk")
        archive.writestr("run/.DS_Store", b"junk")
    out = read_sequence(tmp_path / "frames.zip")
    np.testing.assert_allclose(out, frames / 255, atol=1e-6)


def test_zip_member_names_are_never_paths(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    upload = work / "upload"
    upload.mkdir()
    frames = _gray(t=3)
    with zipfile.ZipFile(upload / "evil.zip", "w") as archive:
        archive.writestr("../../frame0.png", _png_bytes(frames[0]))
        archive.writestr("/tmp/frame1.png", _png_bytes(frames[1]))
        archive.writestr("..\\..\\frame2.png", _png_bytes(frames[2]))
    before = {p: set(os.listdir(p)) for p in (tmp_path, work, upload, Path(tempfile.gettempdir()))}
    out = read_sequence(upload / "evil.zip")
    np.testing.assert_allclose(out, frames / 255, atol=1e-6)
    assert {p: set(os.listdir(p)) for p in before} == before


def test_one_still_is_one_frame_and_content_is_sniffed(tmp_path, monkeypatch):
    Image.fromarray(_gray()[0]).save(tmp_path / "radar.dat", format="PNG")
    assert read_sequence(tmp_path / "radar.dat").shape == (1, H, W)
    np.save(tmp_path / "x.npy", _gray())
    (tmp_path / "x.npy").rename(tmp_path / "x.bin")
    assert read_sequence(tmp_path / "x.bin").shape == (T, H, W)
    Image.fromarray(_gray()[0]).save(tmp_path / "big.dat", format="PNG")
    monkeypatch.setattr(limits, "MAX_PIXELS", 10)
    with pytest.raises(SequenceError, match="big.dat: frames of 16×12 pixels are too large"):
        read_sequence(tmp_path / "big.dat")


@pytest.mark.parametrize("shape", [(3, 8, 8, 3), (3, 8, 8, 4), (3, 3, 8, 8), (3, 4, 8, 8)])
def test_raw_refuses_colour(tmp_path, shape):
    np.save(tmp_path / "colour.npy", np.ones(shape, np.float32))
    with pytest.raises(SequenceError, match=r"colour\.npy: raw values need one number per pixel: \(T, H, W\)"):
        read_sequence(tmp_path / "colour.npy", raw=True)
    assert read_sequence(tmp_path / "colour.npy").shape == (3, 8, 8)  # as a picture it is fine


@pytest.mark.parametrize("layout", ["THW", "THW1", "T1HW", "HW"])
def test_raw_single_channel_layouts(tmp_path, layout):
    rain = _rain(w=3)  # (T, H, 3): with raw numbers a 3-D array is always (T, H, W), and (T, 1, H, 3) is T1HW
    stored = {"THW": rain, "THW1": rain[..., None], "T1HW": rain[:, None], "HW": rain[0]}[layout]
    np.save(tmp_path / "a.npy", stored)
    expected = rain[:1] if layout == "HW" else rain
    np.testing.assert_array_equal(read_sequence(tmp_path / "a.npy", raw=True), expected)


# --- bad input: SequenceError, a useful message, nothing else -------------------------------------


def _npy_bytes(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _empty_video(path: Path) -> None:
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 4, (16, 16), True).release()


BAD = {
    "empty.gif": (b"", "empty"),
    "truncated.gif": (_animated_gif_bytes()[:400], "damaged or cut short"),
    "notes.mp4": (b"this is a text file, not a video\n" * 20, "no frames that OpenCV can decode"),
    "pickled.npy": (_npy_bytes(np.array([{"a": 1}, None], dtype=object), allow_pickle=True), "pickled"),
    "nan.npy": (_npy_bytes(np.array([[[0.5, np.nan]]])), "NaN"),
    "inf.npy": (_npy_bytes(np.array([[[0.5, np.inf]]], np.float16)), "infinite"),
    "five_d.npy": (_npy_bytes(np.zeros((2, 2, 2, 2, 2))), "not a frame sequence"),
    "one_d.npy": (_npy_bytes(np.zeros(10)), "not a frame sequence"),
    "empty_array.npy": (_npy_bytes(np.zeros((0, 4, 4))), "empty"),
    "complex.npy": (_npy_bytes(np.zeros((2, 4, 4), complex)), "numbers"),
    "strings.npy": (_npy_bytes(np.array([[["a"]]])), "numbers"),
    "cut.npy": (_npy_bytes(np.zeros((50, 64, 64)))[:1000], "cut short"),
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


@pytest.mark.parametrize("name, data, message", [
    ("cut.npy", _npy_bytes(np.zeros((50, 64, 64), np.float32))[:1000], "cut short"),
    ("pickled.npy", _npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True), "pickled"),
    ("strings.npy", _npy_bytes(np.array([[["a"]]])), "numbers"),
    ("five_d.npy", _npy_bytes(np.zeros((2, 2, 2, 2, 2))), "not a frame sequence. Use (T, H, W), (T, H, W, 1)"),
    ("empty.npy", _npy_bytes(np.zeros((0, 4, 4))), "empty"),
])
def test_raw_keeps_every_check(tmp_path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(SequenceError) as caught:
        read_sequence(tmp_path / name, raw=True)
    assert str(caught.value).startswith(name) and message in str(caught.value)


def test_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.mkdir, (str(tmp_path / "pwned"),))

    np.save(tmp_path / "evil.npy", np.array([Boom()], dtype=object), allow_pickle=True)
    assert b"mkdir" in (tmp_path / "evil.npy").read_bytes()  # the payload is there
    with pytest.raises(SequenceError):
        read_sequence(tmp_path / "evil.npy")
    assert not (tmp_path / "pwned").exists()


# --- properties: valid frames or SequenceError, for any bytes and any array -----------------------


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


DTYPES = ["uint8", "uint16", "int8", "int32", "int64", "float16", "float32", "float64", "bool", "complex64", "<U2"]


@settings(max_examples=80, deadline=None, database=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(DTYPES).map(np.dtype),
        shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5),
    )
)
def test_any_array_gives_frames_or_sequence_error(array):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.npy"
        np.save(path, array)
        try:
            frames = read_sequence(path)
        except SequenceError as error:
            assert "upload.npy" in str(error)
        else:
            _check(frames)
            assert len(frames) == 1 or frames.shape[0] <= array.shape[0]
