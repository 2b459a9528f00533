"""The reader's policy over the decoders: frames kept evenly spaced, shrinking, the value rule and its
notes; raw values (numbers as stored, for radar files); skipped frames never decoded."""

import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from convlstm.data import decoders, uploads
from convlstm.data.uploads import FrameSequence, SequenceError, load_sequence, read_sequence, shrink
from tests.helpers import H, W, _check, _gray, _rain


def _dbz(t=4, h=12, w=16) -> np.ndarray:
    rain = _rain(t, h, w)
    with np.errstate(divide="ignore"):
        return (10 * np.log10(200 * np.maximum(rain, 0) ** 1.6)).astype(np.float32)  # 0 mm/h → -inf


# --- which frames, what size, what values --------------------------------------------------------


def test_float_values_outside_unit_range_are_rescaled_with_a_note(tmp_path):
    values = _gray().astype(np.float32) * 4 - 100  # -100 .. ~800
    np.save(tmp_path / "raw.npy", values)
    result = load_sequence(tmp_path / "raw.npy")
    low, high = values.min(), values.max()
    np.testing.assert_allclose(result.frames, (values - low) / (high - low), atol=1e-6)
    assert any("rescaled" in note for note in result.notes)
    np.save(tmp_path / "flat.npy", np.full((3, 4, 4), 7.0))
    assert read_sequence(tmp_path / "flat.npy").max() == 0
    np.save(tmp_path / "huge.npy", np.array([[[-1e308, 1e308]]]))
    np.testing.assert_allclose(read_sequence(tmp_path / "huge.npy"), [[[0, 1]]])
    # A float picture (Pillow mode F) follows the same rule.
    Image.fromarray(values[0]).save(tmp_path / "f.tif")
    result = load_sequence(tmp_path / "f.tif")
    _check(result.frames)
    assert result.frames.max() == 1 and any("rescaled" in n for n in result.notes)


def test_long_sequences_keep_evenly_spaced_frames(tmp_path):
    frames = np.random.default_rng(0).random((250, 5, 5)).astype(np.float32)
    np.save(tmp_path / "long.npy", frames)
    result = load_sequence(tmp_path / "long.npy", max_frames=100)
    np.testing.assert_array_equal(result.frames, frames[::3])
    assert "one in every 3" in result.notes[0]


def test_long_video_keeps_evenly_spaced_frames(tmp_path):
    frames = (np.arange(25)[:, None, None] * 10 * np.ones((1, 16, 16))).astype(np.uint8)
    writer = cv2.VideoWriter(str(tmp_path / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 4, (16, 16), True)
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    result = load_sequence(tmp_path / "v.avi", max_frames=10)
    np.testing.assert_allclose(result.frames.mean(axis=(1, 2)), frames[::3].mean(axis=(1, 2)) / 255, atol=0.02)
    assert result.notes


def test_video_of_unknown_length_still_keeps_at_most_max_frames(tmp_path, monkeypatch):
    frames = (np.arange(25)[:, None, None] * 10 * np.ones((1, 16, 16))).astype(np.uint8)
    writer = cv2.VideoWriter(str(tmp_path / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 4, (16, 16), True)
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    video = decoders.video

    def unknown_length(path):  # the same frames, as if the container had no frame count
        frames = video(path)
        next(frames)
        yield decoders.Start(count=None)
        yield from frames

    monkeypatch.setattr(decoders, "video", unknown_length)
    result = load_sequence(tmp_path / "v.avi", max_frames=10)
    np.testing.assert_allclose(result.frames.mean(axis=(1, 2)), frames[::4].mean(axis=(1, 2)) / 255, atol=0.02)


def test_big_frames_are_shrunk_and_mixed_sizes_resized(tmp_path):
    big = np.full((3, 40, 80), 0.5, np.float32)
    np.save(tmp_path / "big.npy", big)
    result = load_sequence(tmp_path / "big.npy", max_side=20)
    assert result.frames.shape == (3, 10, 20) and "shrunk" in result.notes[0]
    Image.fromarray(_gray()[0]).save(tmp_path / "a1.png")
    Image.fromarray(_gray(h=24, w=32)[1]).save(tmp_path / "a2.png")
    result = load_sequence([tmp_path / "a1.png", tmp_path / "a2.png"])
    assert result.frames.shape == (2, H, W) and "different size" in result.notes[0]


# --- raw values, the decoder/policy split, and shrink ------------------------------------------------


def test_raw_mm_per_hour_comes_back_as_stored_and_rescaled_without_raw(tmp_path):
    rain = _rain()
    assert rain.max() > 1
    np.save(tmp_path / "rain.npy", rain)
    result = load_sequence(tmp_path / "rain.npy", raw=True)
    assert result.frames.dtype == np.float32 and not result.from_pixels and result.notes == []
    np.testing.assert_array_equal(result.frames, rain)
    result = load_sequence(tmp_path / "rain.npy")
    np.testing.assert_allclose(result.frames, rain / rain.max(), atol=1e-6)
    assert "rescaled" in result.notes[0] and not result.from_pixels


def test_raw_integers_are_numbers_not_pixels(tmp_path):
    counts = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5) * 8
    np.save(tmp_path / "counts.npy", counts)
    np.testing.assert_array_equal(read_sequence(tmp_path / "counts.npy", raw=True), counts)
    np.testing.assert_allclose(read_sequence(tmp_path / "counts.npy"), counts / 255, atol=1e-6)


def test_raw_dbz_keeps_minus_inf(tmp_path):
    dbz = _dbz()
    assert np.isneginf(dbz).any() and np.isfinite(dbz).any()
    np.savez_compressed(tmp_path / "radar.npz", frames=dbz, times=np.arange(4))
    np.testing.assert_array_equal(read_sequence(tmp_path / "radar.npz", raw=True), dbz)
    with pytest.raises(SequenceError, match=r"radar\.npz › frames: contains NaN or infinite"):
        read_sequence(tmp_path / "radar.npz")  # no number in [0, 1] stands for -inf


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_raw_refuses_nan_and_plus_inf(tmp_path, bad):
    values = _dbz()
    values[1, 2, 3] = bad
    np.save(tmp_path / "bad.npy", values)
    with pytest.raises(SequenceError, match=r"bad\.npy: contains NaN or infinite values"):
        read_sequence(tmp_path / "bad.npy", raw=True)


def test_raw_refuses_values_float32_cannot_hold(tmp_path):
    np.save(tmp_path / "huge.npy", np.array([[[0, 1e300]]]))
    with pytest.raises(SequenceError, match=r"huge\.npy: its values are too large"):
        read_sequence(tmp_path / "huge.npy", raw=True)
    np.testing.assert_allclose(read_sequence(tmp_path / "huge.npy"), [[[0, 1]]])  # rescaled, it fits


def test_raw_long_sequence_keeps_evenly_spaced_frames(tmp_path):
    rain = _rain(t=150, h=4, w=5)
    np.save(tmp_path / "long.npy", rain)
    for raw in (True, False):
        result = load_sequence(tmp_path / "long.npy", raw=raw)
        assert len(result.frames) == 75
        assert "long.npy had 150 frames; one in every 2 was kept (75 frames" in result.notes[0]
    np.testing.assert_array_equal(load_sequence(tmp_path / "long.npy", raw=True).frames, rain[::2])


def test_raw_shrink_keeps_minus_inf_and_the_values(tmp_path):
    frames = np.full((2, 600, 1024), 20.0, np.float32)
    frames[0, :, :300] = -np.inf  # no echo on the left
    frames[0, 100:300, 600:900] = 45.0  # a storm
    frames[1, ::2] = 30.0  # no -inf: area averaging of 20s and 30s
    np.save(tmp_path / "dbz.npy", frames)
    result = load_sequence(tmp_path / "dbz.npy", raw=True)
    assert result.frames.shape == (2, 300, 512) and "1024×600 pixels were shrunk to 512×300" in result.notes[0]
    first = result.frames[0]
    assert set(np.unique(first)) == {-np.inf, 20.0, 45.0}
    assert np.isneginf(first[:, :148]).all() and not np.isneginf(first[:, 152:]).any()
    np.testing.assert_allclose(result.frames[1], 25.0)


def test_pictures_give_luminance_with_raw_and_say_so(tmp_path):
    frames = (np.arange(3)[:, None, None] * 60 + np.zeros((1, 8, 8))).astype(np.uint8)
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tmp_path / "a.gif", save_all=True, append_images=images[1:])
    for raw in (False, True):
        result = load_sequence(tmp_path / "a.gif", raw=raw)
        assert result.from_pixels
        np.testing.assert_allclose(result.frames, frames / 255, atol=1e-6)
    np.save(tmp_path / "a.npy", frames)
    assert not load_sequence(tmp_path / "a.npy").from_pixels
    assert FrameSequence(np.zeros((1, 2, 2), np.float32), []).from_pixels  # the old two-field form still works


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("colour", [False, True])
def test_shrink(dtype, colour):
    frames = np.zeros((2, 40, 100, 3) if colour else (2, 40, 100), dtype)
    frames[:, :, 1::2] = 200  # columns of 0 and 200: pairs average to 100
    small = shrink(frames, 50)
    assert small.shape == ((2, 20, 50, 3) if colour else (2, 20, 50)) and small.dtype == dtype
    np.testing.assert_allclose(small, 100)
    assert shrink(frames, 100) is frames and shrink(frames, 500) is frames  # long side within max_side
    tall = shrink(np.ones((1, 3000, 2), dtype), 10)
    assert tall.shape == (1, 10, 1)  # each side at least 1 pixel
    assert shrink(np.ones((3, 777, 513), dtype), 512).shape == (3, 512, 338)  # long side exactly max_side


def test_unknown_or_wrong_count_halves_and_stays_evenly_spaced():
    def decoder(count, n):
        yield decoders.Start(count)
        for i in range(n):
            yield f"frame {i}", lambda i=i: np.full((2, 2), i, np.float32)

    for count in (None, 10, 30):  # unknown, too low, right
        policy = uploads._Policy("clip", 10, 512, raw=True)
        policy.read(decoder(count, 30))
        result = policy.finish()
        np.testing.assert_array_equal(result.frames[:, 0, 0], np.arange(0, 30, 3 if count == 30 else 4))
        assert f"clip had 30 frames; one in every {3 if count == 30 else 4} was kept" in result.notes[0]


def test_skipped_frames_are_never_decoded():
    decoded = []

    def decoder():
        yield decoders.Start(50)
        for i in range(50):
            yield "x", lambda i=i: decoded.append(i) or np.zeros((2, 2), np.float32)

    policy = uploads._Policy("x", 10, 512)
    policy.read(decoder())
    assert decoded == list(range(0, 50, 5)) and len(policy.finish().frames) == 10


DTYPES = ["uint8", "uint16", "int8", "int32", "int64", "float16", "float32", "float64", "bool", "complex64"]


def _raw_expected(array: np.ndarray) -> np.ndarray | None:
    """What raw mode must give for a small array, or None where it must refuse it."""
    if array.dtype.kind not in "buif" or array.size == 0:
        return None
    if array.ndim == 2:
        values = array[None]
    elif array.ndim == 3:
        values = array
    elif array.ndim == 4 and array.shape[3] == 1:
        values = array[..., 0]
    elif array.ndim == 4 and array.shape[1] == 1:
        values = array[:, 0]
    else:
        values = None
    if values is None or np.isnan(values).any() or np.isposinf(values).any():
        return None
    with np.errstate(over="ignore"):
        return values.astype(np.float32)


@settings(max_examples=80, deadline=None, database=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(DTYPES).map(np.dtype),
        shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5),
    )
)
def test_any_array_in_raw_mode_is_as_stored_or_sequence_error(array):
    expected = _raw_expected(array)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.npy"
        np.save(path, array)
        try:
            frames = read_sequence(path, raw=True)
        except SequenceError as error:
            assert "upload.npy" in str(error)
            assert expected is None or np.isinf(expected).sum() > np.isinf(array).sum()  # float32 can't hold it
        else:
            assert expected is not None and frames.dtype == np.float32
            np.testing.assert_array_equal(frames, expected)
