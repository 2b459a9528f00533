"""The array decoders, through the reader: every layout and number type (raw ones too), the .npz's array, pickles
never loaded, and any array gives frames or SequenceError."""

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convlstm.data.uploads import SequenceError, read_sequence
from tests.helpers import H, W, _check, _gray, _rain, luminance_of, npy_bytes, rgb_frames

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
    rgb = rgb_frames()
    np.save(tmp_path / "rgb.npy", rgb[0])  # (H, W, 3): one colour picture
    np.testing.assert_allclose(read_sequence(tmp_path / "rgb.npy"), luminance_of(rgb[:1]), atol=1e-6)
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


@pytest.mark.parametrize("name, data, message", [
    ("cut.npy", npy_bytes(np.zeros((50, 64, 64), np.float32))[:1000], "cut short"),
    ("pickled.npy", npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True), "pickled"),
    ("strings.npy", npy_bytes(np.array([[["a"]]])), "numbers"),
    ("five_d.npy", npy_bytes(np.zeros((2, 2, 2, 2, 2))), "not a frame sequence. Use (T, H, W), (T, H, W, 1)"),
    ("empty.npy", npy_bytes(np.zeros((0, 4, 4))), "empty"),
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
